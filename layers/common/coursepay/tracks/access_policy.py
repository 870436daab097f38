"""What refunds and disputes do to a track enrollment (docs/engineering.md, policy table): the standard
policy, and when the enrollment ends (a full refund, a lost dispute) ``track.enrollment.withdrawn`` is
published so provisioning revokes the student's tools and the student is told."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from coursepay.billing.money_events import DisputeState, StandardAccessPolicy
from coursepay.billing.payments import Payment
from coursepay.events.envelope import Envelope
from coursepay.tracks.catalogue import TracksRepository
from coursepay.tracks.events import withdrawn_envelope


class TrackAccessPolicy:
    def __init__(self, standard: StandardAccessPolicy, tracks: TracksRepository,
                 publish: Callable[[Sequence[Envelope]], None]) -> None:
        self._standard = standard
        self._tracks = tracks
        self._publish = publish

    def after_refund(self, payment: Payment, *, full: bool, actor: str, correlation_id: str | None) -> None:
        if full:
            self._withdraw(payment, actor, "refunded", correlation_id)

    def after_dispute(self, payment: Payment, *, state: DisputeState, actor: str,
                      correlation_id: str | None) -> None:
        if state == "lost":
            self._withdraw(payment, actor, "dispute_lost", correlation_id)
        else:
            self._standard.after_dispute(payment, state=state, actor=actor, correlation_id=correlation_id)

    def _withdraw(self, payment: Payment, actor: str, reason: str, correlation_id: str | None) -> None:
        withdrawn = self._standard.access.withdraw(payment, actor, reason)
        track = self._tracks.get(payment.item_id)
        if withdrawn is not None and track is not None and payment.user_id:
            self._publish([withdrawn_envelope(payment.user_id, track, payment.payment_id, reason,
                                              correlation_id=correlation_id)])
