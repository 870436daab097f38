"""Reading: the public catalogue, a caller's payments, one payment (owner or admin), a student's tracks."""

from __future__ import annotations

from coursepay.billing.enrollments import EnrollmentsRepository
from coursepay.billing.payments import PaymentsRepository
from coursepay.errors import NotFound
from coursepay.identity import Principal
from coursepay.tracks.catalogue import TracksRepository
from coursepay.tracks.models import MyTracks, MyTrackView, PaymentList, PaymentView, ToolsView, TrackView
from coursepay.tracks.progress import ProgressRepository, initial_progress
from coursepay.tracks.tools.records import ToolSetRepository


class TrackQueries:
    def __init__(self, tracks: TracksRepository, payments: PaymentsRepository, enrollments: EnrollmentsRepository,
                 progress: ProgressRepository, tools: ToolSetRepository) -> None:
        self._tracks = tracks
        self._payments = payments
        self._enrollments = enrollments
        self._progress = progress
        self._tools = tools

    def catalogue(self) -> list[TrackView]:
        return [TrackView.of(track) for track in self._tracks.list() if track.active]

    def track(self, track_id: str) -> TrackView:
        track = self._tracks.get(track_id)
        if track is None or not track.active:
            raise NotFound(f"no track {track_id}", field="trackId")
        return TrackView.of(track)

    def payments_of(self, principal: Principal) -> PaymentList:
        return PaymentList(items=[PaymentView.of(p) for p in self._payments.of_user(principal.user_id)])

    def payment(self, principal: Principal, payment_id: str) -> PaymentView:
        """By our payment id or by PaymentIntent id; someone else's payment is indistinguishable from none."""
        payment = self._payments.get(payment_id)
        if payment is None and payment_id.startswith("pi_"):
            payment = self._payments.by_payment_intent(payment_id)
        if payment is None or (payment.user_id != principal.user_id and not principal.is_admin):
            raise NotFound("no such payment", field="paymentId")
        return PaymentView.of(payment)

    def my_tracks(self, principal: Principal) -> MyTracks:
        views = []
        for enrollment in self._enrollments.of_user(principal.user_id, kind="track"):
            track = self._tracks.get(enrollment.item_id)
            progress = self._progress.get(principal.user_id, enrollment.item_id)
            if progress is None and track is not None:
                progress = initial_progress(principal.user_id, track)  # not written yet: shown as it will be
            tools = self._tools.get(principal.user_id, enrollment.item_id, consistent=False)
            views.append(MyTrackView(
                track_id=enrollment.item_id, track_name=track.name if track else enrollment.item_id,
                status=enrollment.status, has_access=enrollment.has_access(), enrolled_at=enrollment.enrolled_at,
                payment_id=enrollment.source, projects=progress.projects if progress else [],
                tools=ToolsView(state=tools.state, tools=tools.tools) if tools else ToolsView(state="pending")))
        return MyTracks(items=views)
