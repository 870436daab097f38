"""The admins' money summary, kept up to date from the ledger's money events (source ``coursepay.billing``), never
computed by scanning payments.

Daily aggregates in PaymentsTable: ``pk=SUMMARY#<yyyy-mm>``, ``sk=<yyyy-mm-dd>#<kind>#<currency>`` with counters
``succeeded``, ``failed``, ``refunded_payments`` and amounts ``revenue``, ``refunded`` (minor units), each moved by
an atomic ADD. Each event moves them once: the ADD and a marker ``SUMMARY_EVENT#<event id>`` (put only if absent)
are one transaction, so a redelivered or replayed event changes nothing, whatever the consumer's own claim did.
The day is the event's ``occurred_at`` (UTC).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel

from coursepay import aws_clients
from coursepay.billing import events as money
from coursepay.events.envelope import Envelope
from coursepay.events.handlers import EnvelopeHandler
from coursepay.observability import logger
from coursepay.storage.dynamo import DynamoTable

_COUNTERS = ("succeeded", "failed", "refunded_payments", "revenue", "refunded")


def _moves(envelope: Envelope) -> dict[str, int]:
    data = envelope.data
    if envelope.type == money.PAYMENT_SUCCEEDED:
        return {"succeeded": 1, "revenue": int(data["amount"])}
    if envelope.type == money.PAYMENT_FAILED:
        return {"failed": 1}
    refund = int(data["refund_amount"])
    # a payment counts once as refunded: at its first refund (the refunded total is then that refund alone)
    return {"refunded": refund, "refunded_payments": 1 if int(data["refunded_total"]) == refund else 0}


class DailySummary:
    def __init__(self, payments_table: str) -> None:
        self._table_name = payments_table
        self._table = DynamoTable(payments_table)

    def handlers(self) -> dict[str, EnvelopeHandler]:
        return {event_type: self.count for event_type in (money.PAYMENT_SUCCEEDED, money.PAYMENT_FAILED,
                                                          money.PAYMENT_REFUNDED)}

    def count(self, envelope: Envelope) -> None:
        day, kind, currency = envelope.occurred_at[:10], envelope.data["kind"], envelope.data["currency"]
        moves = _moves(envelope)
        names = {f"#{name}": name for name in moves}
        values = {f":{name}": amount for name, amount in moves.items()}
        # the resource's client: plain Python values, serialised by boto3 as the table resource does
        client = aws_clients.dynamodb().meta.client
        try:
            client.transact_write_items(TransactItems=[
                {"Put": {"TableName": self._table_name,
                         "Item": {"pk": f"SUMMARY_EVENT#{envelope.id}", "sk": "SUMMARY_EVENT", "day": day},
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Update": {"TableName": self._table_name,
                            "Key": {"pk": f"SUMMARY#{day[:7]}", "sk": f"{day}#{kind}#{currency}"},
                            "UpdateExpression": "ADD " + ", ".join(f"#{n} :{n}" for n in moves)
                                                + " SET #kind = :kind, #currency = :currency, #day = :day",
                            "ExpressionAttributeNames": {**names, "#kind": "kind", "#currency": "currency",
                                                         "#day": "day"},
                            "ExpressionAttributeValues": {**values, ":kind": kind, ":currency": currency,
                                                          ":day": day}}},
            ])
        except client.exceptions.TransactionCanceledException as error:
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                logger.info("money event counted already", event_id=envelope.id)
                return
            raise

    def read(self, from_day: date, to_day: date) -> Summary:
        """One query per month of the period (a page per 1 MB), summed here."""
        months, year, month = [], from_day.year, from_day.month
        while (year, month) <= (to_day.year, to_day.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year, month + 1) if month < 12 else (year + 1, 1)
        from boto3.dynamodb.conditions import Key

        rows: list[dict[str, Any]] = []
        for partition in months:
            condition = Key("pk").eq(f"SUMMARY#{partition}") & Key("sk").between(from_day.isoformat(),
                                                                                 f"{to_day.isoformat()}~")
            start: dict[str, Any] | None = None
            while True:
                kwargs: dict[str, Any] = {"KeyConditionExpression": condition}
                if start:
                    kwargs["ExclusiveStartKey"] = start
                response = self._table.table.query(**kwargs)
                rows.extend(response.get("Items", []))
                start = response.get("LastEvaluatedKey")
                if not start:
                    break
        return summarise(rows, from_day, to_day)


class Revenue(BaseModel):
    kind: str
    currency: str
    succeeded: int
    revenue: int  # minor units of ``currency``
    refunded: int
    net: int


class Summary(BaseModel):
    from_day: str
    to_day: str
    succeeded: int
    failed: int
    refunded_payments: int
    success_rate: float | None  # succeeded / (succeeded + failed); None without attempts
    refund_rate: float | None  # refunded payments / succeeded payments; None without successes
    revenue: list[Revenue]


def summarise(rows: list[dict[str, Any]], from_day: date, to_day: date) -> Summary:
    totals = dict.fromkeys(_COUNTERS, 0)
    by_product: dict[tuple[str, str], dict[str, int]] = {}
    for row in rows:
        product = by_product.setdefault((str(row["kind"]), str(row["currency"])), dict.fromkeys(_COUNTERS, 0))
        for name in _COUNTERS:
            amount = int(row.get(name, 0))
            product[name] += amount
            totals[name] += amount
    attempts = totals["succeeded"] + totals["failed"]
    return Summary(
        from_day=from_day.isoformat(), to_day=to_day.isoformat(), succeeded=totals["succeeded"],
        failed=totals["failed"], refunded_payments=totals["refunded_payments"],
        success_rate=round(totals["succeeded"] / attempts, 4) if attempts else None,
        refund_rate=round(totals["refunded_payments"] / totals["succeeded"], 4) if totals["succeeded"] else None,
        revenue=[Revenue(kind=kind, currency=currency, succeeded=c["succeeded"], revenue=c["revenue"],
                         refunded=c["refunded"], net=c["revenue"] - c["refunded"])
                 for (kind, currency), c in sorted(by_product.items())])
