"""The one logger, tracer and metrics object of every function (service name comes from
POWERTOOLS_SERVICE_NAME, set per function in template.yaml), and the catalogue of the business figures the
dashboard and the alarms show (``FIGURES``, emitted with ``record``).

A figure is emitted where its event happens (the ledger, the webhook ingest, the consumer runner), as its own
EMF line with exactly the figure's dimensions and no ``service`` dimension: ops watches "payments succeeded",
not which function recorded them, and an alarm can only add up metrics whose dimensions it names.
Dimension values are low-cardinality by construction (product kind, currency, outcome, consumer name),
never ids.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.base import SingleMetric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

logger = Logger()
# Only the AWS SDK is traced, and it is patched when the first AWS client is made (``trace_aws_sdk``), not at
# import: the default (patch every module the X-Ray SDK supports) imports and wraps requests, httplib, sqlite3
# and pg8000 at init (pg8000 alone ~140 ms), and even patching botocore alone imports botocore.client and its
# docs machinery (~230 ms of the webhook's import under -X importtime; bench/cold_start.py).
tracer = Tracer(auto_patch=False)
metrics = Metrics()


@cache
def trace_aws_sdk() -> None:
    """Patch botocore for X-Ray, once per container; called wherever an AWS client is made (before its calls)."""
    tracer.patch(("botocore",))

# template.yaml's POWERTOOLS_METRICS_NAMESPACE (a template test holds them equal).
NAMESPACE = "coursepay"


@dataclass(frozen=True)
class Figure:
    name: str
    unit: MetricUnit
    dimensions: tuple[str, ...]
    meaning: str


PAYMENTS_SUCCEEDED = Figure("PaymentsSucceeded", MetricUnit.Count, ("Kind",),
                            "a payment moved to succeeded (once per payment)")
PAYMENTS_FAILED = Figure("PaymentsFailed", MetricUnit.Count, ("Kind",), "a payment attempt failed")
REVENUE = Figure("Revenue", MetricUnit.NoUnit, ("Currency",),
                 "amount of the succeeded payments, in minor units of the currency")
PAYMENT_TIME = Figure("PaymentTime", MetricUnit.Seconds, (), "seconds from a payment's creation to its success")
REFUNDS = Figure("Refunds", MetricUnit.Count, ("Kind",), "a refund raised a payment's refunded amount")
REFUNDED_AMOUNT = Figure("RefundedAmount", MetricUnit.NoUnit, ("Currency",),
                         "amount newly refunded, in minor units of the currency")
WEBHOOK_EVENTS = Figure("WebhookEvents", MetricUnit.Count, ("Outcome",),
                        "a Stripe webhook delivery and its outcome (WEBHOOK_OUTCOMES)")
CONSUMER_SUCCEEDED = Figure("ConsumerSucceeded", MetricUnit.Count, ("Consumer",),
                            "a consumer handled an event (or found it handled already)")
CONSUMER_FAILED = Figure("ConsumerFailed", MetricUnit.Count, ("Consumer",),
                         "a consumer's handling of an event raised: SQS redelivers it, then the DLQ")

FIGURES: tuple[Figure, ...] = (PAYMENTS_SUCCEEDED, PAYMENTS_FAILED, REVENUE, PAYMENT_TIME, REFUNDS, REFUNDED_AMOUNT,
                               WEBHOOK_EVENTS, CONSUMER_SUCCEEDED, CONSUMER_FAILED)

# recorded / duplicate / ignored: the relay's outcomes; the others are the webhook's refusals and crashes.
WEBHOOK_OUTCOMES = ("recorded", "duplicate", "ignored", "invalid_signature", "rejected", "error")


def record(figure: Figure, value: float = 1, **dimensions: str) -> None:
    """Emit one figure now (an EMF line on stdout, which CloudWatch Logs turns into the metric)."""
    if set(dimensions) != set(figure.dimensions):
        raise ValueError(f"{figure.name} takes the dimensions {figure.dimensions}, not {tuple(dimensions)}")
    if is_metrics_disabled():
        return
    # service="" keeps Powertools from adding the function's service dimension (see the module docstring)
    metric = SingleMetric(namespace=NAMESPACE, service="")
    metric.add_metric(name=figure.name, unit=figure.unit, value=value)
    for name, dimension_value in dimensions.items():
        metric.add_dimension(name=name, value=dimension_value)
    print(json.dumps(metric.serialize_metric_set(), separators=(",", ":")))


__all__ = ["FIGURES", "NAMESPACE", "WEBHOOK_OUTCOMES", "Figure", "logger", "metrics", "record", "trace_aws_sdk",
           "tracer"]
