"""Every AWS resource of template.yaml exists in the stack's moto, checked per type from the template."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from local.stack.provision import EMULATED_TYPES
from local.stack.seed import DEMO_USERS
from local.stack.stack import LocalStack
from local.stack.template import DEFAULT_TEMPLATE, load_template
from tests.integration.conftest import ALARM_EMAIL

TEMPLATE = load_template(DEFAULT_TEMPLATE)


def _table(aws: Any, logical_id: str, props: dict[str, Any], physical: str) -> None:
    table = aws.client("dynamodb").describe_table(TableName=physical)["Table"]
    assert table["KeySchema"] == props["KeySchema"]


def _queue(aws: Any, logical_id: str, props: dict[str, Any], physical: str) -> None:
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=physical, AttributeNames=["All"])["Attributes"]
    if "VisibilityTimeout" in props:
        assert attributes["VisibilityTimeout"] == str(props["VisibilityTimeout"])
    if "RedrivePolicy" in props:
        redrive = props["RedrivePolicy"]
        assert json.loads(attributes["RedrivePolicy"]) == {
            "deadLetterTargetArn": redrive["deadLetterTargetArn"],
            "maxReceiveCount": int(redrive["maxReceiveCount"]),
        }


def _queue_policy(aws: Any, logical_id: str, props: dict[str, Any], physical: str) -> None:
    for url in props["Queues"]:
        attributes = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]
        assert json.loads(attributes["Policy"]) == props["PolicyDocument"]


def _bus(aws: Any, logical_id: str, props: dict[str, Any], physical: str) -> None:
    assert aws.client("events").describe_event_bus(Name=physical)["Name"] == physical


def _rule(aws: Any, logical_id: str, props: dict[str, Any], physical: str) -> None:
    bus, name = physical.split("|")
    rule = aws.client("events").describe_rule(Name=name, EventBusName=bus)
    assert json.loads(rule["EventPattern"]) == props["EventPattern"]
    targets = aws.client("events").list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]
    assert [target["Id"] for target in targets] == [target["Id"] for target in props["Targets"]]


def _user_pool(aws: Any, logical_id: str, props: dict[str, Any], physical: str) -> None:
    pool = aws.client("cognito-idp").describe_user_pool(UserPoolId=physical)["UserPool"]
    assert pool["UsernameAttributes"] == props["UsernameAttributes"]


def _user_pool_client(aws: Any, logical_id: str, props: dict[str, Any], physical: str) -> None:
    client = aws.client("cognito-idp").describe_user_pool_client(UserPoolId=aws.name("UserPool"), ClientId=physical)
    assert sorted(client["UserPoolClient"]["ExplicitAuthFlows"]) == sorted(props["ExplicitAuthFlows"])


def _group(aws: Any, logical_id: str, props: dict[str, Any], physical: str) -> None:
    group = aws.client("cognito-idp").get_group(UserPoolId=aws.name("UserPool"), GroupName=physical)["Group"]
    assert group["GroupName"] == props["GroupName"]


def _secret(aws: Any, logical_id: str, props: dict[str, Any], physical: str) -> None:
    value = json.loads(aws.client("secretsmanager").get_secret_value(SecretId=physical)["SecretString"])
    assert value  # the stack sets every secret's value (the template leaves them to the operator)


def _kms_key(aws: Any, logical_id: str, props: dict[str, Any], physical: str) -> None:
    kms = aws.client("kms")
    metadata = kms.describe_key(KeyId=physical)["KeyMetadata"]
    assert (metadata["Enabled"], metadata["Description"]) == (True, props["Description"])
    assert kms.get_key_rotation_status(KeyId=physical)["KeyRotationEnabled"] is bool(props.get("EnableKeyRotation"))


def _log_group(aws: Any, logical_id: str, props: dict[str, Any], physical: str) -> None:
    groups = aws.client("logs").describe_log_groups(logGroupNamePrefix=physical)["logGroups"]
    [group] = [group for group in groups if group["logGroupName"] == physical == props["LogGroupName"]]
    assert group["retentionInDays"] == int(props["RetentionInDays"])


def _topic(aws: Any, logical_id: str, props: dict[str, Any], physical: str) -> None:
    assert aws.client("sns").get_topic_attributes(TopicArn=physical)["Attributes"]["TopicArn"] == physical


def _subscription(aws: Any, logical_id: str, props: dict[str, Any], physical: str) -> None:
    subscriptions = aws.client("sns").list_subscriptions_by_topic(TopicArn=props["TopicArn"])["Subscriptions"]
    assert [(s["SubscriptionArn"], s["Protocol"], s["Endpoint"]) for s in subscriptions] == [
        (physical, props["Protocol"], props["Endpoint"])]
    assert props["Endpoint"] == ALARM_EMAIL


def _dashboard(aws: Any, logical_id: str, props: dict[str, Any], physical: str) -> None:
    body = json.loads(aws.client("cloudwatch").get_dashboard(DashboardName=physical)["DashboardBody"])
    assert body == json.loads(props["DashboardBody"])  # every ${...} resolved to the stack's physical ids
    assert "${" not in props["DashboardBody"]


def _alarm(aws: Any, logical_id: str, props: dict[str, Any], physical: str) -> None:
    [alarm] = aws.client("cloudwatch").describe_alarms(AlarmNames=[physical])["MetricAlarms"]
    assert alarm["AlarmActions"] == props["AlarmActions"]
    assert alarm["Threshold"] == float(props["Threshold"])
    assert alarm["ComparisonOperator"] == props["ComparisonOperator"]
    if "Metrics" in props:
        assert [query["Id"] for query in alarm["Metrics"]] == [query["Id"] for query in props["Metrics"]]
    else:
        assert (alarm["Namespace"], alarm["MetricName"]) == (props["Namespace"], props["MetricName"])


CHECKS: dict[str, Callable[[Any, str, dict[str, Any], str], None]] = {
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::Events::EventBus": _bus,
    "AWS::Events::Rule": _rule,
    "AWS::Cognito::UserPool": _user_pool,
    "AWS::Cognito::UserPoolClient": _user_pool_client,
    "AWS::Cognito::UserPoolGroup": _group,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::KMS::Key": _kms_key,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::SNS::Topic": _topic,
    "AWS::SNS::Subscription": _subscription,
    "AWS::CloudWatch::Dashboard": _dashboard,
    "AWS::CloudWatch::Alarm": _alarm,
}


@pytest.mark.parametrize(
    "logical_id", [lid for lid, resource in TEMPLATE["Resources"].items() if resource["Type"] not in EMULATED_TYPES]
)
def test_resource_exists_in_moto(aws: Any, stack: LocalStack, logical_id: str) -> None:
    resource = TEMPLATE["Resources"][logical_id]
    check = CHECKS.get(resource["Type"])
    assert check is not None, f"no check for {resource['Type']}: add one when the template gains a new type"
    assert stack.provisioned is not None
    properties = stack.provisioned.resolver.resolve(resource.get("Properties") or {})  # as provisioned
    check(aws, logical_id, properties, aws.name(logical_id))


def test_secrets_hold_the_local_stripe_credentials(aws: Any, stack: LocalStack) -> None:
    secrets = aws.client("secretsmanager")
    keys = json.loads(secrets.get_secret_value(SecretId=aws.name("StripeApiKeySecret"))["SecretString"])
    assert keys["secret_key"].startswith("sk_test_")
    assert keys["publishable_key"].startswith("pk_test_")
    assert stack.webhook_secret, "the stack registers a webhook endpoint with the sandbox"
    webhook = json.loads(secrets.get_secret_value(SecretId=aws.name("StripeWebhookSecret"))["SecretString"])
    assert webhook == {"signing_secrets": [stack.webhook_secret]}
    assert stack.webhook_secret.startswith("whsec_")
    assert stack.connect_webhook_secret, "and a Connect endpoint, with its own secret"
    connect = json.loads(secrets.get_secret_value(SecretId=aws.name("StripeConnectWebhookSecret"))["SecretString"])
    assert connect == {"signing_secrets": [stack.connect_webhook_secret]}


def test_demo_users_are_in_their_groups_with_profiles(aws: Any) -> None:
    cognito = aws.client("cognito-idp")
    accounts = aws.table("AccountsTable")
    for user in DEMO_USERS:
        groups = cognito.admin_list_groups_for_user(UserPoolId=aws.name("UserPool"), Username=user.email)["Groups"]
        assert [group["GroupName"] for group in groups] == [user.group]
        attributes = cognito.admin_get_user(UserPoolId=aws.name("UserPool"), Username=user.email)["UserAttributes"]
        sub = next(attribute["Value"] for attribute in attributes if attribute["Name"] == "sub")
        profile = accounts.get_item(Key={"pk": f"USER#{sub}", "sk": "PROFILE"}).get("Item")
        assert profile is not None
        assert (profile["email"], profile["name"]) == (user.email, user.name)
