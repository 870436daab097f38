"""Money e-mails through the local stack: a billing event put on the bus reaches the notifications function
(NotificationsRule routes source coursepay.billing), which sends one MIME e-mail; the outbox shows both parts."""

from __future__ import annotations

import json
import uuid
from typing import Any

from coursepay.billing.events import (
    PAYMENT_DISPUTED,
    PAYMENT_SUCCEEDED,
    PaymentDisputed,
    PaymentSucceeded,
    billing_envelope,
)

STUDENT = "student@coursepay.local"


def put_on_bus(aws: Any, event_type: str, data: Any) -> str:
    envelope = billing_envelope(event_type, f"ev_outbox_{uuid.uuid4().hex}", data, None)
    response = aws.client("events").put_events(Entries=[{
        "EventBusName": aws.name("EventBus"), "Source": envelope.source, "DetailType": envelope.type,
        "Detail": envelope.model_dump_json()}])
    assert response["FailedEntryCount"] == 0, response
    return envelope.id


def student_id(api: Any, login: Any) -> str:
    me = api.get("/me", token=login(STUDENT)["access_token"])
    assert me.status_code == 200, me.text
    return str(me.json()["user_id"])


def test_a_receipt_reaches_the_outbox_in_html_and_text(api, aws, login, outbox, eventually):
    item = f'Robots <script>alert("{uuid.uuid4().hex[:6]}")</script>'
    data = PaymentSucceeded(payment_id=f"pi_outbox{uuid.uuid4().hex[:10]}", user_id=student_id(api, login),
                            kind="course", item_id="crs_outbox", item_name=item, amount=1500, currency="jpy",
                            purchase="one_time")
    put_on_bus(aws, PAYMENT_SUCCEEDED, data)
    [mail] = eventually(lambda: [m for m in outbox() if m["subject"] == f"Your receipt for {item}"], timeout=30)
    assert mail["to"] == [STUDENT]
    assert "Amount paid: ¥1,500" in mail["body"]
    assert item in mail["body"]
    assert "¥1,500" in mail["html"]
    assert "<script>" not in mail["html"]
    assert "&lt;script&gt;" in mail["html"]

    page = api.get("/_local/outbox")
    assert page.status_code == 200
    assert 'sandbox=""' in page.text  # the HTML part is shown in a frame that runs no script
    assert "<script>alert" not in page.text


def test_a_dispute_notice_goes_to_the_admin_address(api, aws, login, outbox, eventually, stack):
    dispute = f"dp_outbox{uuid.uuid4().hex[:10]}"
    data = PaymentDisputed(payment_id="pi_outboxdispute", user_id=student_id(api, login), kind="track",
                           item_id="DP", item_name="Data Professional", amount=49900, currency="usd",
                           dispute_id=dispute, disputed_amount=49900, reason="fraudulent")
    put_on_bus(aws, PAYMENT_DISPUTED, data)
    [mail] = eventually(lambda: [m for m in outbox() if dispute in json.dumps(m)], timeout=30)
    assert mail["to"] == [stack.parameters["AdminNotificationEmail"]]
    assert mail["subject"] == "Dispute opened: $499.00 on Data Professional (pi_outboxdispute)"
    assert STUDENT in mail["body"]
