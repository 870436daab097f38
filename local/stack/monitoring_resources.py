"""The operations resources of template.yaml in moto: log groups, the alarm topic and its subscription, the
dashboard and the alarms. Nothing local reads them (no metric reaches moto's CloudWatch); they are created so
that the local stack holds every resource the template declares, as the template declares it
(tests/integration/test_stack_resources.py compares them)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from local.stack.template import Resolver

ClientFor = Callable[[str], Any]
Created = tuple[str, dict[str, str]]


def _default_name(resolver: Resolver, logical_id: str) -> str:
    return f"{resolver.stack_name}-{logical_id}"


def log_group(clients: ClientFor, logical_id: str, props: dict[str, Any], resolver: Resolver) -> Created:
    name = props.get("LogGroupName") or _default_name(resolver, logical_id)
    logs = clients("logs")
    logs.create_log_group(logGroupName=name)
    if "RetentionInDays" in props:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
    return name, {"Arn": f"arn:aws:logs:{resolver.region}:{resolver.account_id}:log-group:{name}:*"}


def topic(clients: ClientFor, logical_id: str, props: dict[str, Any], resolver: Resolver) -> Created:
    name = props.get("TopicName") or _default_name(resolver, logical_id)
    arn = clients("sns").create_topic(Name=name)["TopicArn"]
    return arn, {"TopicArn": arn, "TopicName": name}


def subscription(clients: ClientFor, logical_id: str, props: dict[str, Any], resolver: Resolver) -> Created:
    arn = clients("sns").subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"],
                                   Endpoint=props["Endpoint"])["SubscriptionArn"]
    return arn, {"Arn": arn}


def dashboard(clients: ClientFor, logical_id: str, props: dict[str, Any], resolver: Resolver) -> Created:
    name = props.get("DashboardName") or _default_name(resolver, logical_id)
    body = props["DashboardBody"]
    clients("cloudwatch").put_dashboard(DashboardName=name,
                                        DashboardBody=body if isinstance(body, str) else json.dumps(body))
    return name, {}


# CloudFormation's alarm properties are the API's parameters; numbers arrive as text from parameters (!Ref).
_ALARM_FIELDS = ("AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions", "InsufficientDataActions",
                 "ComparisonOperator", "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions",
                 "Unit", "TreatMissingData", "EvaluateLowSampleCountPercentile")
_ALARM_INTEGERS = ("EvaluationPeriods", "DatapointsToAlarm", "Period")


def _metric_query(query: Mapping[str, Any]) -> dict[str, Any]:
    converted = dict(query)
    if "MetricStat" in converted:
        converted["MetricStat"] = {**converted["MetricStat"], "Period": int(converted["MetricStat"]["Period"])}
    if "Period" in converted:
        converted["Period"] = int(converted["Period"])
    return converted


def alarm(clients: ClientFor, logical_id: str, props: dict[str, Any], resolver: Resolver) -> Created:
    name = props.get("AlarmName") or _default_name(resolver, logical_id)
    request: dict[str, Any] = {"AlarmName": name, **{key: props[key] for key in _ALARM_FIELDS if key in props}}
    request.update({key: int(props[key]) for key in _ALARM_INTEGERS if key in props})
    if "Threshold" in props:
        request["Threshold"] = float(props["Threshold"])
    if "Metrics" in props:
        request["Metrics"] = [_metric_query(query) for query in props["Metrics"]]
    clients("cloudwatch").put_metric_alarm(**request)
    return name, {"Arn": f"arn:aws:cloudwatch:{resolver.region}:{resolver.account_id}:alarm:{name}"}


MONITORING_CREATORS = {
    "AWS::Logs::LogGroup": log_group,
    "AWS::SNS::Topic": topic,
    "AWS::SNS::Subscription": subscription,
    "AWS::CloudWatch::Dashboard": dashboard,
    "AWS::CloudWatch::Alarm": alarm,
}
OPERATIONS_TYPES = frozenset(MONITORING_CREATORS)
