"""Trials and paused collection: parameters and what happens to a subscription's invoices because of them.

* A trial (``trial_period_days`` or ``trial_end``) makes the subscription ``trialing`` with a $0 first invoice;
  its period ends with the trial and the billing cycle is anchored there. ``customer.subscription.trial_will_end``
  is sent three days before the end (at once if the trial is shorter, or when it is ended with ``trial_end=now``).
  At the end the first real invoice is charged; without a payment method ``trial_settings[end_behavior]
  [missing_payment_method]`` decides: ``create_invoice`` (the default: an open invoice, ``past_due``) or ``cancel``.
* ``pause_collection[behavior]`` decides what happens to the invoices created while paused: ``keep_as_draft``
  (left as drafts), ``mark_uncollectible`` (finalized, then ``uncollectible``) or ``void`` (finalized, then
  voided); ``resumes_at`` lifts the pause on a test clock advance.
"""

from __future__ import annotations

from ..app import Obj, Sandbox
from ..errors import invalid
from ..forms import Params

DAY = 86400
TRIAL_WILL_END_NOTICE = 3 * DAY
MAX_TRIAL = 730 * DAY
PAUSE_BEHAVIOURS = ("keep_as_draft", "mark_uncollectible", "void")
MISSING_PAYMENT_METHOD = ("create_invoice", "cancel")


def parse_trial_end(p: Params, now: int, *, allow_days: bool) -> int | str | None:
    """The trial end a request asks for: a timestamp, ``"now"`` or None (no trial requested)."""
    days = p.int("trial_period_days", minimum=0) if allow_days else None
    raw = p.raw("trial_end")
    if days is not None and raw not in (None, ""):
        raise invalid("trial_end", "You may only specify one of these parameters: trial_end, trial_period_days.")
    if days is not None:
        if days * DAY > MAX_TRIAL:
            raise invalid("trial_period_days", "Trials can be at most 730 days.", "parameter_invalid_integer")
        return now + days * DAY if days else None
    if raw in (None, ""):
        return None
    if raw == "now":
        return "now"
    trial_end = p.int("trial_end")
    assert trial_end is not None
    if trial_end <= now:
        raise invalid("trial_end", "Invalid timestamp: must be an integer Unix timestamp in the future, or `now`.",
                      "parameter_invalid_integer")
    if trial_end - now > MAX_TRIAL:
        raise invalid("trial_end", "Trials can be at most 730 days.", "parameter_invalid_integer")
    return trial_end


def parse_missing_payment_method(p: Params) -> str | None:
    if "trial_settings" not in p:
        return None
    settings = p.sub("trial_settings")
    settings.allow("end_behavior")
    end = settings.sub("end_behavior")
    end.allow("missing_payment_method")
    value = end.req("missing_payment_method")
    if value not in MISSING_PAYMENT_METHOD:
        raise invalid("trial_settings[end_behavior][missing_payment_method]", "The sandbox supports "
                      "missing_payment_method create_invoice and cancel.", "parameter_invalid_string")
    return value


def trial_will_end_at(sub: Obj) -> int | None:
    """When ``customer.subscription.trial_will_end`` is due, unless it was sent already."""
    if sub["status"] != "trialing" or sub.get("_trial_will_end_sent") or not sub.get("trial_end"):
        return None
    return int(sub["trial_end"]) - TRIAL_WILL_END_NOTICE


def send_trial_will_end(app: Sandbox, sub: Obj) -> None:
    sub["_trial_will_end_sent"] = True
    app.emit("customer.subscription.trial_will_end", sub)


def send_trial_will_end_if_due(app: Sandbox, sub: Obj, now: int) -> None:
    due = trial_will_end_at(sub)
    if due is not None and due <= now:
        send_trial_will_end(app, sub)


def parse_pause_collection(p: Params, now: int) -> Obj | None:
    """``pause_collection[behavior|resumes_at]``; ``pause_collection=""`` resumes collection (None)."""
    if p.raw("pause_collection") == "":
        return None
    pc = p.sub("pause_collection")
    pc.allow("behavior", "resumes_at")
    behaviour = pc.req("behavior")
    if behaviour not in PAUSE_BEHAVIOURS:
        raise invalid("pause_collection[behavior]", "Invalid pause_collection[behavior]: must be one of "
                      "keep_as_draft, mark_uncollectible, or void", "parameter_invalid_string")
    resumes_at = pc.int("resumes_at")
    if resumes_at is not None and resumes_at <= now:
        raise invalid("pause_collection[resumes_at]", "resumes_at must be in the future.", "parameter_invalid_integer")
    return {"behavior": behaviour, "resumes_at": resumes_at}


def collect_while_paused(app: Sandbox, invoice: Obj, behaviour: str) -> None:
    """What ``pause_collection[behavior]`` does to an invoice created while paused (finalized unless a draft)."""
    if behaviour == "keep_as_draft":
        return
    now = app.now_for(invoice["customer"])
    if behaviour == "mark_uncollectible":
        invoice["status"] = "uncollectible"
        invoice["status_transitions"]["marked_uncollectible_at"] = now
        app.emit("invoice.marked_uncollectible", invoice)
        return
    customer = app.get("customer", invoice["customer"], allow_deleted=True)
    customer["balance"] = invoice["starting_balance"]  # voiding gives back the balance the invoice used
    invoice.update(status="void", amount_remaining=0)
    invoice["status_transitions"]["voided_at"] = now
    app.emit("invoice.voided", invoice)
