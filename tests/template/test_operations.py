"""template.yaml's operations resources against the code and the rest of the template: every custom metric the
dashboard and the alarms show is a figure the code emits (``coursepay.observability.FIGURES``, whose emission
tests/unit/test_business_figures.py proves), with the figure's dimensions; every DLQ and every function is on
the dashboard and has its alarm and log group; the alarm thresholds are issue 11's."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path
from typing import Any, get_args

import pytest

from coursepay import consumers
from coursepay.billing.payments import ProductKind
from coursepay.observability import FIGURES, NAMESPACE, WEBHOOK_OUTCOMES
from local.stack.template import load_template

TEMPLATE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FIGURE_DIMENSIONS = {figure.name: set(figure.dimensions) for figure in FIGURES}
KINDS = set(get_args(ProductKind))
# every consumer module names its consumer: a new one must join the dashboard
CONSUMERS = {module.CONSUMER_NAME for module in (importlib.import_module(f"coursepay.consumers.{info.name}")
                                                 for info in pkgutil.iter_modules(consumers.__path__))
             if hasattr(module, "CONSUMER_NAME")}


def of_type(resource_type: str) -> dict[str, Any]:
    return {lid: resource for lid, resource in RESOURCES.items() if resource["Type"] == resource_type}


FUNCTIONS = sorted(of_type("AWS::Serverless::Function"))
ALARMS = {lid: resource["Properties"] for lid, resource in of_type("AWS::CloudWatch::Alarm").items()}
# the queues' dead-letter queues, and the on-failure queues of stream event sources (StripeEventsPublisherDLQ)
DLQS = sorted({queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
               for queue in of_type("AWS::SQS::Queue").values() if "RedrivePolicy" in queue["Properties"]}
              | {event["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
                 for function in of_type("AWS::Serverless::Function").values()
                 for event in (function["Properties"].get("Events") or {}).values()
                 if "DestinationConfig" in event.get("Properties", {})})


def dashboard() -> dict[str, Any]:
    [resource] = of_type("AWS::CloudWatch::Dashboard").values()
    body = resource["Properties"]["DashboardBody"]["Fn::Sub"]
    # ${X} / ${X.Attr} stand for the physical ids: keep the logical id readable in the parsed body
    return json.loads(re.sub(r"\$\{([^}]+)\}", r"<\1>", body))


WIDGETS = [widget["properties"] for widget in dashboard()["widgets"] if widget["type"] == "metric"]


def metric_rows() -> list[list[Any]]:
    return [row for widget in WIDGETS for row in widget["metrics"] if isinstance(row[0], str)]


def expressions() -> list[str]:
    rows = [row[0]["expression"] for widget in WIDGETS for row in widget["metrics"] if isinstance(row[0], dict)]
    alarm_math = [query["Expression"] for alarm in ALARMS.values() for query in alarm.get("Metrics", [])
                  if "Expression" in query]
    return [text if isinstance(text, str) else text["Fn::Sub"] for text in rows + alarm_math]


def row_metric(row: list[Any]) -> tuple[str, str, dict[str, str]]:
    """(namespace, name, dimensions) of a dashboard row: namespace, name, dim, value, ..., [options]."""
    values = [value for value in row if isinstance(value, str)]
    return values[0], values[1], dict(zip(values[2::2], values[3::2], strict=True))


def alarm_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    if "MetricName" in alarm:
        return [(alarm["Namespace"], alarm["MetricName"], {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])})]
    return [(query["MetricStat"]["Metric"]["Namespace"], query["MetricStat"]["Metric"]["MetricName"],
             {d["Name"]: d["Value"] for d in query["MetricStat"]["Metric"].get("Dimensions", [])})
            for query in alarm["Metrics"] if "MetricStat" in query]


def custom_metrics() -> list[tuple[str, set[str], str]]:
    """(name, dimension names, where) of every coursepay metric shown: dashboard rows, SEARCHes, alarms."""
    shown = [(name, set(dims), "dashboard") for namespace, name, dims in map(row_metric, metric_rows())
             if namespace == NAMESPACE]
    for text in expressions():
        for schema, name in re.findall(r"\{([^}]*)\}\s+MetricName=\"(\w+)\"", text):
            namespace, *dimensions = [part.strip() for part in schema.split(",")]
            if namespace == NAMESPACE:
                shown.append((name, set(dimensions), "dashboard search"))
    for lid, alarm in ALARMS.items():
        shown += [(name, set(dims), lid) for namespace, name, dims in alarm_metrics(alarm) if namespace == NAMESPACE]
    return shown


def test_the_functions_emit_into_the_catalogues_namespace():
    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == NAMESPACE


def test_every_custom_metric_shown_is_an_emitted_figure_with_its_dimensions():
    shown = custom_metrics()
    assert shown
    for name, dimensions, where in shown:
        assert name in FIGURE_DIMENSIONS, f"{where} shows {name}, which the code does not emit"
        assert dimensions == FIGURE_DIMENSIONS[name], f"{where}: {name} is emitted with {FIGURE_DIMENSIONS[name]}"


def test_the_dashboard_shows_every_figure():
    assert {name for name, _, where in custom_metrics() if where.startswith("dashboard")} == set(FIGURE_DIMENSIONS)


def test_the_dashboard_shows_every_product_kind_webhook_outcome_and_consumer():
    shown: dict[tuple[str, str], set[str]] = {}
    for _, name, dims in map(row_metric, metric_rows()):
        for dimension, value in dims.items():
            shown.setdefault((name, dimension), set()).add(value)
    for name in ("PaymentsSucceeded", "PaymentsFailed", "Refunds"):
        assert shown[(name, "Kind")] == KINDS, name
    assert shown[("WebhookEvents", "Outcome")] == set(WEBHOOK_OUTCOMES)
    assert shown[("ConsumerSucceeded", "Consumer")] == shown[("ConsumerFailed", "Consumer")] == CONSUMERS


def test_every_dlq_is_on_the_dashboard_and_has_an_alarm_on_any_message():
    assert {"FulfilmentDLQ", "NotificationsDLQ", "ProvisioningDLQ"} <= set(DLQS)  # the DLQs are found
    depth = {dims["QueueName"] for namespace, name, dims in map(row_metric, metric_rows())
             if (namespace, name) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")}
    assert depth == {f"<{dlq}.QueueName>" for dlq in DLQS}
    alarmed = {}
    for alarm in ALARMS.values():
        if alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible":
            [dimension] = alarm["Dimensions"]
            alarmed[dimension["Value"]["Fn::GetAtt"][0]] = alarm
    assert sorted(alarmed) == DLQS
    for alarm in alarmed.values():
        assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["Statistic"]) == (0, "GreaterThanThreshold",
                                                                                        "Maximum")


@pytest.mark.parametrize("metric", ["Errors", "Throttles", "Duration"])
def test_every_function_is_on_the_dashboard(metric):
    shown = {dims["FunctionName"] for namespace, name, dims in map(row_metric, metric_rows())
             if (namespace, name) == ("AWS/Lambda", metric)}
    assert shown == {f"<{function}>" for function in FUNCTIONS}


def test_every_function_has_an_errors_alarm():
    alarmed = {alarm["Dimensions"][0]["Value"]["Ref"] for alarm in ALARMS.values()
               if (alarm.get("Namespace"), alarm.get("MetricName")) == ("AWS/Lambda", "Errors")}
    assert alarmed == set(FUNCTIONS)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_logs_to_its_own_group_with_the_retention_parameter(function):
    group = RESOURCES[function]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup"
    assert RESOURCES[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    others = [lid for lid in FUNCTIONS if lid != function]
    assert all(RESOURCES[other]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] != group for other in others)


def test_the_api_has_route_metrics_and_the_dashboard_shows_them_per_route():
    assert RESOURCES["HttpApi"]["Properties"]["DefaultRouteSettings"]["DetailedMetricsEnabled"] is True
    per_route = [text for text in expressions() if "{AWS/ApiGateway,ApiId,Method,Resource,Stage}" in text]
    assert {re.search(r'MetricName="(\w+)"', text).group(1) for text in per_route} == {"4xx", "5xx", "Latency"}
    assert all('ApiId="<HttpApi>"' in text for text in per_route)


def test_every_alarm_notifies_the_topic_and_the_email_subscription_is_optional():
    for lid, alarm in ALARMS.items():
        assert {"Ref": "AlarmTopic"} in alarm["AlarmActions"], lid
    [subscription] = of_type("AWS::SNS::Subscription").values()
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert TEMPLATE["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert TEMPLATE["Parameters"]["AlarmEmail"]["Default"] == ""


def rate_alarm(lid: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    alarm = ALARMS[lid]
    return alarm, {query["Id"]: query for query in alarm["Metrics"]}


def kinds_of(queries: dict[str, dict[str, Any]], name: str, ids: str) -> set[str]:
    found = set()
    for query_id, query in queries.items():
        metric = query.get("MetricStat", {}).get("Metric", {})
        if metric.get("MetricName") == name and re.search(rf"\b{query_id}\b", ids):
            found.add(metric["Dimensions"][0]["Value"])
    return found


def test_payment_success_rate_alarm_is_below_95_percent_of_every_kinds_attempts():
    alarm, queries = rate_alarm("PaymentSuccessRateAlarm")
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (95, "LessThanThreshold")
    [returned] = [query for query in queries.values() if query["ReturnData"]]
    assert returned["Expression"]["Fn::Sub"] == (
        "IF(attempts >= ${RateAlarmMinimumPayments}, 100 * succeeded / attempts, 100)")  # too few: healthy
    assert kinds_of(queries, "PaymentsSucceeded", queries["succeeded"]["Expression"]) == KINDS
    assert "succeeded +" in queries["attempts"]["Expression"]
    assert kinds_of(queries, "PaymentsFailed", queries["attempts"]["Expression"]) == KINDS


def test_refund_rate_alarm_is_above_5_percent_of_every_kinds_payments():
    alarm, queries = rate_alarm("RefundRateAlarm")
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (5, "GreaterThanThreshold")
    [returned] = [query for query in queries.values() if query["ReturnData"]]
    assert returned["Expression"]["Fn::Sub"] == (
        "IF(succeeded >= ${RateAlarmMinimumPayments}, 100 * refunds / succeeded, 0)")  # too few: healthy
    assert kinds_of(queries, "Refunds", queries["refunds"]["Expression"]) == KINDS
    assert kinds_of(queries, "PaymentsSucceeded", queries["succeeded"]["Expression"]) == KINDS


def test_payment_time_alarm_is_an_average_above_30_seconds():
    alarm = ALARMS["PaymentTimeAlarm"]
    assert (alarm["MetricName"], alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "PaymentTime", "Average", 30, "GreaterThanThreshold")


@pytest.mark.parametrize(("lid", "outcome"), [("WebhookSignatureFailuresAlarm", "invalid_signature"),
                                              ("WebhookErrorsAlarm", "error")])
def test_webhook_failure_alarms_count_their_outcome_above_the_threshold_parameter(lid, outcome):
    alarm = ALARMS[lid]
    assert alarm_metrics(alarm) == [(NAMESPACE, "WebhookEvents", {"Outcome": outcome})]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == ({"Ref": "WebhookFailureThreshold"},
                                                                 "GreaterThanThreshold")


def test_api_5xx_alarm_watches_the_whole_api():
    alarm = ALARMS["Api5xxAlarm"]
    assert alarm_metrics(alarm) == [("AWS/ApiGateway", "5xx", {"ApiId": {"Ref": "HttpApi"}})]
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
