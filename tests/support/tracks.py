"""Helpers of the paid-tracks unit tests: registered students, API calls, and Stripe events (as the sandbox
produced them) in bus envelopes, fed to the consumers as SQS batches. Fixtures: tests/support/tracks_fixtures.py."""

from __future__ import annotations

import json
import time
import uuid
from types import ModuleType
from typing import Any

import stripe

from coursepay.events.envelope import Envelope
from tests.support.api_events import body_of, claims_for, http_event


class Student:
    def __init__(self, user_id: str, email: str, *groups: str) -> None:
        self.user_id = user_id
        self.email = email
        self.claims = claims_for(user_id, *(groups or ("students",)), email=email)


def new_student(aws: Any, name: str = "Sam", *groups: str) -> Student:
    """A registered student who verified their e-mail: Cognito user (confirmed, ``email_verified``) + profile, as
    POST /auth/register and the verification link leave them."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    pool = aws.name("UserPool")
    cognito = aws.client("cognito-idp")
    created = cognito.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS",
                                        UserAttributes=[{"Name": "email", "Value": email},
                                                        {"Name": "email_verified", "Value": "true"},
                                                        {"Name": "name", "Value": name}])
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password="Str0ngPassword", Permanent=True)
    user_id = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
    aws.table("AccountsTable").put_item(Item={"pk": f"USER#{user_id}", "sk": "PROFILE", "user_id": user_id,
                                              "email": email, "name": name, "created_at": "2026-01-01T00:00:00Z",
                                              "gsi1pk": f"EMAIL#{email}", "gsi1sk": "USER"})
    return Student(user_id, email, *groups)


def call(module: ModuleType, ctx: Any, method: str, path: str, *, route: str | None = None,
         who: Student | None = None, body: Any = None, headers: dict[str, str] | None = None,
         query: dict[str, str] | None = None) -> tuple[int, Any]:
    event = http_event(method, path, route=route, body=body, headers=headers, query=query,
                       claims=who.claims if who else None)
    response = module.lambda_handler(event, ctx)
    return response["statusCode"], body_of(response)


def sqs_event(*envelopes: Envelope) -> dict[str, Any]:
    records = []
    for envelope in envelopes:
        body = json.dumps({"version": "0", "id": str(uuid.uuid4()), "detail-type": envelope.type,
                           "source": envelope.source, "account": "123456789012", "time": envelope.occurred_at,
                           "region": "us-east-1", "resources": [],
                           "detail": json.loads(envelope.model_dump_json())})
        records.append({"messageId": str(uuid.uuid4()), "receiptHandle": "rh", "body": body,
                        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000)),
                                       "SenderId": "events",
                                       "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000))},
                        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"})
    return {"Records": records}


def stripe_envelope(event: Any) -> Envelope:
    """A Stripe event (SDK object or dict) in the envelope the webhook publishes."""
    data = event.to_dict() if hasattr(event, "to_dict") else dict(event)
    return Envelope(id=data["id"], source="coursepay.stripe", type=data["type"], data=data)


def events_for(sdk: stripe.StripeClient, object_id: str, *types: str) -> list[Envelope]:
    """The sandbox's events about ``object_id`` (oldest first), optionally only of ``types``."""
    found = []
    for event in sdk.v1.events.list(params={"limit": 100}).auto_paging_iter():
        obj = event.to_dict()["data"]["object"]
        about = obj.get("id") == object_id or obj.get("payment_intent") == object_id
        if about and (not types or event.type in types):
            found.append(stripe_envelope(event))
    return list(reversed(found))


def consume(module: ModuleType, ctx: Any, *envelopes: Envelope) -> dict[str, Any]:
    result: dict[str, Any] = module.lambda_handler(sqs_event(*envelopes), ctx)
    return result


def drain(aws: Any, queue_logical_id: str) -> list[dict[str, Any]]:
    """Every message waiting in a queue (moto in-process), as SQS records a consumer function receives."""
    sqs = aws.client("sqs")
    url = aws.name(queue_logical_id)  # a queue's Ref is its URL
    records: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            return records
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            records.append({"messageId": message["MessageId"], "receiptHandle": "rh", "body": message["Body"],
                            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "events",
                                           "ApproximateFirstReceiveTimestamp": "0"},
                            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"})


def sent_emails() -> list[dict[str, Any]]:
    """Every e-mail moto's SES accepted (oldest first): ``to``, ``subject``, ``body`` (plain text), ``html``."""
    from local.stack.ses_messages import sent_messages

    return sent_messages()


def complete_checkout(sandbox_url: str, session_id: str, email: str, name: str,
                      card_number: str = "4242424242424242") -> dict[str, Any]:
    import requests

    response = requests.post(f"{sandbox_url}/_sandbox/checkout/sessions/{session_id}/complete",
                             json={"email": email, "name": name, "card_number": card_number, "exp": "12/34",
                                   "cvc": "123"}, timeout=10)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result
