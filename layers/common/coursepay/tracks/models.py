"""Requests and responses of the payments function (domain and stored models live next to their repositories)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from coursepay.accounts.models import TermsVersion
from coursepay.billing.payments import Payment
from coursepay.text import MultilineText
from coursepay.tracks.catalogue import Track
from coursepay.tracks.progress import ProjectProgress
from coursepay.tracks.tools.interface import ProvisionedTool
from coursepay.views import Page


class _Request(BaseModel):
    # Unknown fields are refused, so a client-sent "amount" or "currency" is a 400 naming it, never used.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PaymentIntentRequest(_Request):
    pass


class CheckoutRequest(_Request):
    success_url: str = Field(min_length=1, max_length=2000)
    cancel_url: str = Field(min_length=1, max_length=2000)


class SignupCheckoutRequest(CheckoutRequest):
    """Payment-first sign-up: the buyer accepts the current terms of service and privacy notice here."""

    accepted_terms_version: TermsVersion


class RefundRequestBody(_Request):
    reason: MultilineText = Field(min_length=3, max_length=1000)


class ApproveRefundBody(_Request):
    amount: int | None = Field(default=None, gt=0, description="minor units; default: everything not yet refunded")


class DenyRefundBody(_Request):
    reason: MultilineText = Field(min_length=3, max_length=1000)


class ToolView(BaseModel):
    tool_id: str
    name: str


class StepView(BaseModel):
    step_id: str
    title: str


class ProjectView(BaseModel):
    project_id: str
    title: str
    steps: list[StepView]


class TrackView(BaseModel):
    track_id: str
    name: str
    description: str
    features: list[str]
    tools: list[ToolView]
    price: int
    currency: str
    projects: list[ProjectView]

    @classmethod
    def of(cls, track: Track) -> TrackView:
        return cls(track_id=track.track_id, name=track.name, description=track.description,
                   features=list(track.features),
                   tools=[ToolView(tool_id=tool.tool_id, name=tool.name) for tool in track.tools],
                   price=track.price, currency=track.currency,
                   projects=[ProjectView(project_id=p.project_id, title=p.title,
                                         steps=[StepView(step_id=s.step_id, title=s.title) for s in p.steps])
                             for p in track.projects])


class PaymentIntentView(BaseModel):
    client_secret: str
    payment_intent_id: str
    amount: int
    currency: str
    status: str
    publishable_key: str


class CheckoutView(BaseModel):
    session_id: str
    url: str
    payment_id: str
    expires_at: int | None = None


class SignupVerification(BaseModel):
    status: Literal["processing", "ready"]
    session_id: str
    track_id: str
    email: str | None = None
    track_name: str | None = None
    next_steps: list[str] = Field(default_factory=list)
    retry_after_seconds: int | None = None


class PaymentView(BaseModel):
    payment_id: str
    kind: str
    item_id: str
    pricing: str
    amount: int
    currency: str
    status: str
    refunded_amount: int
    refunded_at: str | None
    failure_reason: str | None
    payment_intent_id: str | None
    checkout_session_id: str | None
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, payment: Payment) -> PaymentView:
        return cls(payment_id=payment.payment_id, kind=payment.kind, item_id=payment.item_id, pricing=payment.pricing,
                   amount=payment.amount, currency=payment.currency, status=payment.status,
                   refunded_amount=payment.refunded_amount, refunded_at=payment.refunded_at,
                   failure_reason=payment.failure_reason, payment_intent_id=payment.stripe_payment_intent_id,
                   checkout_session_id=payment.stripe_checkout_session_id, created_at=payment.created_at,
                   updated_at=payment.updated_at)


PaymentList = Page[PaymentView]


class ToolsView(BaseModel):
    """The tools of an enrollment without credentials (those are on ``GET /me/tracks/{trackId}/tools``)."""

    state: Literal["pending", "provisioning", "provisioned", "revoked"]
    tools: list[ProvisionedTool] = Field(default_factory=list)


class MyTrackView(BaseModel):
    track_id: str
    track_name: str
    status: str
    has_access: bool
    enrolled_at: str
    payment_id: str
    projects: list[ProjectProgress]
    tools: ToolsView


MyTracks = Page[MyTrackView]
