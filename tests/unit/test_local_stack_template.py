"""The local stack's template loader and intrinsic functions, on small templates and on template.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.stack.sam import build_model, function_properties
from local.stack.template import (
    DEFAULT_TEMPLATE,
    Resolver,
    TemplateError,
    creation_order,
    load_template,
    resolve_parameters,
)

SHORT_TAGS = """
Parameters:
  Origins: {Type: String, Default: "https://a.example,https://b.example"}
  Size: {Type: Number, Default: 5, MinValue: 1}
  Level: {Type: String, Default: INFO, AllowedValues: [INFO, DEBUG]}
Conditions:
  IsDebug: !Equals [!Ref Level, DEBUG]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      Ref: !Ref Size
      Arn: !GetAtt Dlq.Arn
      ArnList: !GetAtt [Dlq, Arn]
      Sub: !Sub "${AWS::StackName}-${Dlq.Arn}-${!Literal}"
      SubVars: !Sub ["${Name}/x", {Name: !Ref Level}]
      Split: !Split [",", !Ref Origins]
      Join: !Join ["-", [a, !Ref Level]]
      Select: !Select [1, !Split [",", !Ref Origins]]
      If: !If [IsDebug, yes-debug, !Ref AWS::NoValue]
      Listed: [one, !Ref AWS::NoValue, two]
  Dlq:
    Type: AWS::SQS::Queue
"""


@pytest.fixture
def short_tags(tmp_path: Path) -> dict:
    path = tmp_path / "template.yaml"
    path.write_text(SHORT_TAGS)
    return load_template(path)


def test_short_tags_become_long_form(short_tags: dict) -> None:
    props = short_tags["Resources"]["Queue"]["Properties"]
    assert props["Ref"] == {"Ref": "Size"}
    assert props["Arn"] == {"Fn::GetAtt": ["Dlq", "Arn"]}
    assert props["ArnList"] == {"Fn::GetAtt": ["Dlq", "Arn"]}
    assert props["SubVars"] == {"Fn::Sub": ["${Name}/x", {"Name": {"Ref": "Level"}}]}
    assert props["Split"] == {"Fn::Split": [",", {"Ref": "Origins"}]}


def test_intrinsics_resolve_against_parameters_pseudo_parameters_and_created_resources(short_tags: dict) -> None:
    resolver = Resolver(
        parameters=resolve_parameters(short_tags),
        stack_name="demo",
        conditions=short_tags["Conditions"],
        attributes={"Dlq": {"Arn": "arn:aws:sqs:us-east-1:123456789012:dlq"}},
    )
    resolved = resolver.resolve(short_tags["Resources"]["Queue"]["Properties"])
    assert resolved == {
        "Ref": "5",  # Ref to a Number parameter is a string, as in CloudFormation
        "Arn": "arn:aws:sqs:us-east-1:123456789012:dlq",
        "ArnList": "arn:aws:sqs:us-east-1:123456789012:dlq",
        "Sub": "demo-arn:aws:sqs:us-east-1:123456789012:dlq-${Literal}",
        "SubVars": "INFO/x",
        "Split": ["https://a.example", "https://b.example"],
        "Join": "a-INFO",
        "Select": "https://b.example",
        # If -> AWS::NoValue drops the key; NoValue in a list drops the item
        "Listed": ["one", "two"],
    }


def test_condition_true_branch(short_tags: dict) -> None:
    resolver = Resolver(
        parameters=resolve_parameters(short_tags, {"Level": "DEBUG"}),
        conditions=short_tags["Conditions"],
        attributes={"Dlq": {"Arn": "x"}},
    )
    assert resolver.resolve(short_tags["Resources"]["Queue"]["Properties"])["If"] == "yes-debug"


def test_unresolvable_references_fail_loudly(short_tags: dict) -> None:
    resolver = Resolver(parameters=resolve_parameters(short_tags))
    with pytest.raises(TemplateError, match=r"Dlq\.Arn"):
        resolver.resolve({"Fn::GetAtt": ["Dlq", "Arn"]})
    with pytest.raises(TemplateError, match="Nope"):
        resolver.resolve({"Ref": "Nope"})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Size": "0"}, "below MinValue"),
        ({"Size": "many"}, "must be a number"),
        ({"Level": "TRACE"}, "not one of"),
        ({"Unknown": "x"}, "unknown parameter"),
    ],
)
def test_parameter_overrides_are_validated(short_tags: dict, overrides: dict, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        resolve_parameters(short_tags, overrides)


def test_creation_order_of_template_yaml_respects_every_reference() -> None:
    template = load_template(DEFAULT_TEMPLATE)
    order = creation_order(template["Resources"])
    position = {logical_id: index for index, logical_id in enumerate(order)}
    assert set(order) == set(template["Resources"])
    assert position["UserPool"] < position["UserPoolClient"] < position["AccountsFunction"]
    assert position["ProvisioningDLQ"] < position["ProvisioningQueue"] < position["ProvisioningRule"]
    assert position["ProvisioningRule"] < position["BusToQueuesPolicy"]
    assert position["EventBus"] < position["NotificationsRule"]


def test_globals_merge_like_sam() -> None:
    template = load_template(DEFAULT_TEMPLATE)
    props = function_properties(template, "ProvisioningFunction")
    global_vars = template["Globals"]["Function"]["Environment"]["Variables"]
    own_vars = template["Resources"]["ProvisioningFunction"]["Properties"]["Environment"]["Variables"]
    assert props["Environment"]["Variables"] == {**global_vars, **own_vars}
    assert props["Timeout"] == 30  # the function's scalar wins over Globals' 15
    assert props["Layers"] == template["Globals"]["Function"]["Layers"]


def test_routes_and_authorizers_come_from_template_yaml() -> None:
    template = load_template(DEFAULT_TEMPLATE)
    model = build_model(template, Resolver.with_stand_in_ids(template))
    (api,) = model.http_apis.values()
    routes = {route.route_key: route for route in api.routes}
    expected = {
        f"{event['Properties']['Method'].upper()} {event['Properties']['Path']}"
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in (resource["Properties"].get("Events") or {}).values()
        if event["Type"] == "HttpApi"
    }
    assert set(routes) == expected
    assert routes["POST /auth/login"].authorizer is None  # Auth: {Authorizer: NONE}
    me = routes["GET /me"].authorizer  # DefaultAuthorizer applies
    assert me is not None
    assert me.issuer == "https://cognito-idp.us-east-1.amazonaws.com/id-UserPool"
    assert me.audiences == ("id-UserPoolClient",)
    assert me.identity_header == "authorization"
    assert api.cors is not None
    assert api.cors.allow_origins == tuple(resolve_parameters(template)["AllowedRedirectOrigins"].split(","))
    sources = {source.function: source for source in model.sqs_sources}
    assert sources["ProvisioningFunction"].queue_arn == "arn-ProvisioningQueue"
    assert sources["ProvisioningFunction"].batch_size == 10
    assert sources["ProvisioningFunction"].batching_window_s == 1
    assert sources["ProvisioningFunction"].report_batch_item_failures
    (stream,) = model.stream_sources
    assert (stream.function, stream.stream_arn) == ("StripeEventsPublisherFunction", "stream-arn-StripeEventsTable")
    assert (stream.starting_position, stream.batch_size, stream.maximum_retry_attempts) == ("TRIM_HORIZON", 10, 5)
    assert stream.report_batch_item_failures
    assert stream.on_failure_queue_arn == "arn-StripeEventsPublisherDLQ"
    assert [json.loads(pattern)["eventName"] for pattern in stream.filter_patterns] == [["INSERT"]]


@pytest.mark.parametrize(("subnets", "vpc"), [
    (None, None),
    ("subnet-a,subnet-b", {"SubnetIds": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-1"]}),
])
def test_the_provisioning_function_joins_the_database_vpc_only_when_subnets_are_given(subnets, vpc) -> None:
    template = load_template(DEFAULT_TEMPLATE)
    overrides = {"ToolsSubnetIds": subnets, "ToolsSecurityGroupIds": "sg-1"} if subnets else {}
    resolver = Resolver.for_template(template, overrides)
    vpc_config = template["Resources"]["ProvisioningFunction"]["Properties"]["VpcConfig"]
    resolved = resolver.resolve({"VpcConfig": vpc_config})
    assert resolved.get("VpcConfig") == vpc
