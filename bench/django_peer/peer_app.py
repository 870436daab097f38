"""The Django peer: the stack a team would otherwise pick for coursepay's API, kept as small as it gets.

One Django + DRF app behind Mangum with the same three jobs as the webhook, checkout and payments functions
(verify a Stripe signature and record the event; create a Checkout Session; list payments), its clients
created at first use as coursepay's are. Importing this module is its cold start: settings, ``django.setup()``,
the ASGI application and the URLconf (so the views and their SDKs are imported at init, as a handler module
imports its routes; left lazy, that cost lands on the first request instead). It runs only inside the bench's
own virtualenv (``.bench/peer-venv``, see bench/peer.py), never in the project's.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
import django
import stripe
from django.conf import settings
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
    DATABASES={},
    REST_FRAMEWORK={"DEFAULT_AUTHENTICATION_CLASSES": [], "DEFAULT_PERMISSION_CLASSES": [],
                    "UNAUTHENTICATED_USER": None},
    USE_TZ=True,
)
django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402  (needs the settings above)
from django.urls import get_resolver  # noqa: E402
from mangum import Mangum  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402


@cache
def dynamodb() -> Any:
    return boto3.client("dynamodb")


@cache
def events() -> Any:
    return boto3.client("events")


@cache
def stripe_client() -> stripe.StripeClient:
    return stripe.StripeClient(os.environ.get("STRIPE_API_KEY", "sk_test_bench"))


class StripeWebhook(APIView):
    def post(self, request: Request) -> Response:
        event = stripe.Webhook.construct_event(request.body, request.headers.get("stripe-signature", ""),
                                               os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_bench"))
        dynamodb().put_item(TableName="stripe-events", Item={"id": {"S": event.id}},
                            ConditionExpression="attribute_not_exists(id)")
        events().put_events(Entries=[{"Source": "coursepay", "DetailType": event.type, "Detail": "{}"}])
        return Response({"received": True})


class CourseCheckout(APIView):
    def post(self, request: Request, course_id: str) -> Response:
        session = stripe_client().v1.checkout.sessions.create(
            {"mode": "payment", "success_url": "https://app.example.com/ok",
             "line_items": [{"price": course_id, "quantity": 1}]})
        return Response({"url": session.url}, status=201)


class Payments(APIView):
    def get(self, request: Request) -> Response:
        found = dynamodb().query(TableName="billing", KeyConditionExpression="pk = :pk",
                                 ExpressionAttributeValues={":pk": {"S": "USER#bench"}})
        return Response({"items": found.get("Items", []), "next_cursor": None})


urlpatterns = [
    path("webhooks/stripe", StripeWebhook.as_view()),
    path("courses/<str:course_id>/checkout", CourseCheckout.as_view()),
    path("payments", Payments.as_view()),
]

handler = Mangum(get_asgi_application(), lifespan="off")
get_resolver().url_patterns  # noqa: B018  (import the URLconf and its views now: part of init)
