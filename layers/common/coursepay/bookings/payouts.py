"""Teacher payout onboarding with Stripe Connect (Express): the account (created once per teacher), account
links to Stripe's hosted onboarding, login links to the Express dashboard, and the account's state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coursepay.billing.checkout import check_redirect
from coursepay.bookings.models import DashboardLink, OnboardingLink, PayoutAccount
from coursepay.bookings.payouts_repository import PayoutAccountsRepository
from coursepay.bookings.requests import OnboardingRequest
from coursepay.clock import iso_now
from coursepay.errors import Conflict, NotFound
from coursepay.identity import Principal
from coursepay.storage.audit import AuditEntry, AuditTrail
from coursepay.stripe_gateway.errors import stripe_errors

if TYPE_CHECKING:
    from collections.abc import Callable

    import stripe

    StripeProvider = Callable[[], stripe.StripeClient]


def account_state(account: dict[str, Any]) -> dict[str, Any]:
    """The fields coursepay keeps of a Stripe Account (as an event carries it, or ``to_dict()`` of the SDK's)."""
    requirements = account.get("requirements") or {}
    return {"charges_enabled": bool(account.get("charges_enabled")),
            "payouts_enabled": bool(account.get("payouts_enabled")),
            "details_submitted": bool(account.get("details_submitted")),
            "requirements_due": sorted(requirements.get("currently_due") or [])}


class TeacherPayouts:
    def __init__(self, accounts: PayoutAccountsRepository, stripe_client: StripeProvider, audit: AuditTrail,
                 allowed_origins: tuple[str, ...]) -> None:
        self._accounts = accounts
        self._stripe = stripe_client
        self._audit = audit
        self._origins = allowed_origins

    def start_onboarding(self, teacher: Principal, request: OnboardingRequest) -> OnboardingLink:
        refresh_url = check_redirect(request.refresh_url, "refresh_url", self._origins)
        return_url = check_redirect(request.return_url, "return_url", self._origins)
        account = self._ensure_account(teacher)
        with stripe_errors("create the onboarding link"):
            link = self._stripe().v1.account_links.create(params={
                "account": account.account_id, "type": "account_onboarding",
                "refresh_url": refresh_url, "return_url": return_url})
        return OnboardingLink(account_id=account.account_id, url=link.url, expires_at=link.expires_at)

    def status(self, teacher: Principal) -> PayoutAccount:
        account = self._accounts.get(teacher.user_id)
        if account is None:
            raise NotFound("payout onboarding has not been started", field="teacher")
        return account

    def login_link(self, teacher: Principal) -> DashboardLink:
        account = self.status(teacher)
        if not account.details_submitted:
            raise Conflict("finish payout onboarding first: the Stripe dashboard opens once details are submitted")
        with stripe_errors("create the dashboard login link", refused=Conflict):
            link = self._stripe().v1.accounts.login_links.create(account.account_id)
        return DashboardLink(url=link.url)

    def _ensure_account(self, teacher: Principal) -> PayoutAccount:
        stored = self._accounts.get(teacher.user_id)
        if stored is not None:
            return stored
        params: dict[str, Any] = {"type": "express", "metadata": {"teacher_id": teacher.user_id},
                                  "capabilities": {"card_payments": {"requested": True},
                                                   "transfers": {"requested": True}}}
        if teacher.email:
            params["email"] = teacher.email
        with stripe_errors("create the payout account"):
            # one key per teacher: a retry, or a racing second click, gets the same account back
            created = self._stripe().v1.accounts.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"teacher:{teacher.user_id}:connect-account"})
        now = iso_now()
        account, is_new = self._accounts.create_once(PayoutAccount(
            teacher_id=teacher.user_id, account_id=created.id, created_at=now, updated_at=now,
            **account_state(created.to_dict())))
        if is_new:
            self._audit.record(AuditEntry(entity=f"payouts#{teacher.user_id}", action="payouts.account_created",
                                          actor=f"user:{teacher.user_id}", after=account.model_dump()))
        return account
