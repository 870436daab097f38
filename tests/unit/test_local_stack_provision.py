"""Provisioning template.yaml into moto (in-process) and the environment each function process gets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from local.stack.lambda_runtime import RESERVED_VARIABLES, function_environment
from local.stack.provision import SUPPORTED_TYPES, ProvisionedStack, create_tables, provision
from local.stack.sam import build_model, function_properties
from local.stack.template import DEFAULT_TEMPLATE, REPO_ROOT, TemplateError, load_template

REGION = "us-east-1"


@pytest.fixture(scope="module")
def session() -> Iterator[boto3.Session]:
    # One provisioned account for the module (provisioning takes a moment); tests only read from it.
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(name, "testing")
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        yield boto3.Session(region_name=REGION)


@pytest.fixture(scope="module")
def stack(session: boto3.Session) -> ProvisionedStack:
    return provision(session=session, parameter_overrides={"QueueVisibilitySeconds": 2, "MaxReceiveCount": 3})


def test_every_resource_type_of_template_yaml_is_supported() -> None:
    types = {resource["Type"] for resource in load_template(DEFAULT_TEMPLATE)["Resources"].values()}
    assert types <= SUPPORTED_TYPES


def test_tables_have_the_template_keys_indexes_and_ttl(stack: ProvisionedStack, session: boto3.Session) -> None:
    dynamodb = session.client("dynamodb")
    tables = stack.resources_of_type("AWS::DynamoDB::Table")
    assert {stack.ref(logical_id) for logical_id in tables} <= set(dynamodb.list_tables()["TableNames"])
    for logical_id, resource in tables.items():
        props = resource["Properties"]
        table = dynamodb.describe_table(TableName=stack.ref(logical_id))["Table"]
        assert table["KeySchema"] == props["KeySchema"]
        assert {index["IndexName"]: index["KeySchema"] for index in table.get("GlobalSecondaryIndexes", [])} == {
            index["IndexName"]: index["KeySchema"] for index in props.get("GlobalSecondaryIndexes", [])
        }
        ttl = dynamodb.describe_time_to_live(TableName=stack.ref(logical_id))["TimeToLiveDescription"]
        if "TimeToLiveSpecification" in props:
            assert ttl == {
                "TimeToLiveStatus": "ENABLED",
                "AttributeName": props["TimeToLiveSpecification"]["AttributeName"],
            }
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED"


def test_queues_get_parameters_and_redrive(stack: ProvisionedStack, session: boto3.Session) -> None:
    sqs = session.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=stack.ref("ProvisioningQueue"), AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "2"  # parameter override
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": stack.get_att("ProvisioningDLQ", "Arn"),
        "maxReceiveCount": 3,
    }
    assert stack.get_att("ProvisioningRule", "Arn") in attributes["Policy"]  # the QueuePolicy was applied


def test_bus_rules_deliver_matching_events_to_the_queues(stack: ProvisionedStack, session: boto3.Session) -> None:
    events = session.client("events")
    result = events.put_events(
        Entries=[
            {"Source": "coursepay.bookings", "DetailType": "x", "Detail": "{}", "EventBusName": stack.ref("EventBus")}
        ]
    )
    assert result["FailedEntryCount"] == 0
    sqs = session.client("sqs")
    notifications = sqs.receive_message(QueueUrl=stack.ref("NotificationsQueue"), WaitTimeSeconds=0)
    provisioning = sqs.receive_message(QueueUrl=stack.ref("ProvisioningQueue"), WaitTimeSeconds=0)
    assert len(notifications.get("Messages", [])) == 1  # coursepay.bookings is in its pattern
    assert provisioning.get("Messages", []) == []  # ... but not in provisioning's


def test_user_pool_client_and_groups(stack: ProvisionedStack, session: boto3.Session) -> None:
    cognito = session.client("cognito-idp")
    pool = cognito.describe_user_pool(UserPoolId=stack.ref("UserPool"))["UserPool"]
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
    client = cognito.describe_user_pool_client(UserPoolId=stack.ref("UserPool"), ClientId=stack.ref("UserPoolClient"))
    assert set(client["UserPoolClient"]["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    groups = {group["GroupName"] for group in cognito.list_groups(UserPoolId=stack.ref("UserPool"))["Groups"]}
    assert groups == {
        resource["Properties"]["GroupName"]
        for resource in stack.resources_of_type("AWS::Cognito::UserPoolGroup").values()
    }


def test_create_tables_builds_only_the_tables_asked_for(session: boto3.Session) -> None:
    dynamodb = session.client("dynamodb")
    before = set(dynamodb.list_tables()["TableNames"])
    names = create_tables(dynamodb, DEFAULT_TEMPLATE, only=["AccountsTable", "AuditTable"], stack_name="unit")
    assert names == {"AccountsTable": "unit-AccountsTable", "AuditTable": "unit-AuditTable"}
    assert set(dynamodb.list_tables()["TableNames"]) - before == set(names.values())
    with pytest.raises(TemplateError, match="EventBus"):
        create_tables(dynamodb, DEFAULT_TEMPLATE, only=["EventBus"], stack_name="unit2")


def test_operations_resources_are_created_from_the_template_or_only_named_when_left_out(
        stack: ProvisionedStack, session: boto3.Session) -> None:
    cloudwatch, logs = session.client("cloudwatch"), session.client("logs")
    alarms = stack.resources_of_type("AWS::CloudWatch::Alarm")
    described = {alarm["AlarmName"]: alarm for alarm in cloudwatch.describe_alarms(MaxRecords=100)["MetricAlarms"]}
    assert {stack.ref(lid) for lid in alarms} <= set(described)
    rate = described[stack.ref("PaymentSuccessRateAlarm")]
    assert (rate["Threshold"], [query["Id"] for query in rate["Metrics"]][-1]) == (95.0, "rate")
    groups = {group["logGroupName"]: group for group in logs.describe_log_groups()["logGroups"]}
    for lid in stack.resources_of_type("AWS::Logs::LogGroup"):
        assert groups[stack.ref(lid)]["retentionInDays"] == 30
    bare = provision(session=session, stack_name="bare", with_operations=False)
    assert cloudwatch.describe_alarms(AlarmNamePrefix="bare")["MetricAlarms"] == []
    assert [group["logGroupName"] for group in logs.describe_log_groups()["logGroups"]
            if group["logGroupName"].startswith("/aws/lambda/bare/")] == []
    assert (bare.ref("AccountsLogGroup"), bare.ref("AccountsFunction")) == ("bare-AccountsLogGroup",
                                                                         "bare-AccountsFunction")


def test_unsupported_resource_types_fail_instead_of_being_skipped(session: boto3.Session, tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n")
    with pytest.raises(TemplateError, match=r"AWS::S3::Bucket is not supported"):
        provision(path, session)


@pytest.mark.parametrize(
    "logical_id",
    [
        logical_id
        for logical_id, resource in load_template(DEFAULT_TEMPLATE)["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    ],
)
def test_function_environment_is_exactly_the_template_plus_runtime(stack: ProvisionedStack, logical_id: str) -> None:
    spec = build_model(stack.template, stack.resolver).functions[logical_id]
    environment = function_environment(
        spec, region=REGION, aws_endpoint="http://127.0.0.1:5050", python="/py/bin/python"
    )

    declared = function_properties(stack.template, logical_id)["Environment"]["Variables"]
    expected_template_part = {name: str(stack.resolver.resolve(value)) for name, value in declared.items()}
    local_additions = {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5050",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    runtime_part = {name: value for name, value in environment.items() if name in RESERVED_VARIABLES}
    rest = {
        name: value
        for name, value in environment.items()
        if name not in RESERVED_VARIABLES and name not in local_additions
    }
    # Whatever is neither Lambda's nor the local run's comes from the template, and all of the template is there.
    assert rest == {**expected_template_part, **_runtime_extras(environment)}
    assert {name: environment[name] for name in local_additions} == local_additions
    assert runtime_part["_HANDLER"] == "app.lambda_handler"
    assert runtime_part["AWS_REGION"] == runtime_part["AWS_DEFAULT_REGION"] == REGION
    assert runtime_part["AWS_LAMBDA_FUNCTION_NAME"] == stack.ref(logical_id)
    assert runtime_part["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert runtime_part["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"
    assert Path(runtime_part["LAMBDA_TASK_ROOT"]) == REPO_ROOT / "functions" / spec.code_dir.name
    assert environment["PYTHONPATH"] == str(REPO_ROOT / "layers" / "common")
    assert environment["PATH"].split(":")[0] == "/py/bin"


def _runtime_extras(environment: dict[str, str]) -> dict[str, str]:
    # Variables Lambda sets that are not reserved (functions could override them, this template does not).
    return {name: environment[name] for name in ("PYTHONPATH", "PATH", "LANG", "TZ")}


def test_concrete_values_reach_the_environment(stack: ProvisionedStack) -> None:
    model = build_model(stack.template, stack.resolver)
    checkout = function_environment(model.functions["CheckoutFunction"], region=REGION, aws_endpoint="http://x")
    assert checkout["PAYMENTS_TABLE"] == stack.ref("PaymentsTable")
    assert checkout["STRIPE_API_KEY_SECRET_ID"] == stack.ref("StripeApiKeySecret")
    assert checkout["POWERTOOLS_LOG_LEVEL"] == "INFO"
    assert "HOME" not in checkout  # nothing inherited from the process that starts the stack
