"""Create the AWS resources of template.yaml in moto (server or in-process ``mock_aws``).

template.yaml is the only list of resources: this module walks its ``Resources`` in dependency order,
resolves each resource's properties and calls the matching AWS API, recording the ``Ref`` and ``GetAtt``
values that later resources (and the functions' environment) resolve against. SAM resources that are not
AWS services here (functions, the HTTP API, layers) get synthetic ids: the local stack runs them itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from local.stack.monitoring_resources import MONITORING_CREATORS, OPERATIONS_TYPES
from local.stack.template import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    DEFAULT_STACK_NAME,
    DEFAULT_TEMPLATE,
    Resolver,
    TemplateError,
    creation_order,
    load_template,
    resolve_parameters,
)

# Resources the local stack emulates itself instead of creating them in moto.
EMULATED_TYPES = frozenset({"AWS::Serverless::Function", "AWS::Serverless::HttpApi", "AWS::Serverless::LayerVersion"})


@dataclass
class Clients:
    """boto3 clients made on demand from one session (and one endpoint, e.g. the moto server)."""

    session: boto3.Session
    endpoint_url: str | None = None
    _cache: dict[str, Any] = field(default_factory=dict)

    def __call__(self, service: str) -> Any:
        if service not in self._cache:
            self._cache[service] = self.session.client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]
        return self._cache[service]


@dataclass
class ProvisionedStack:
    """What provisioning produced: the template, its resolver (parameters + physical ids) and outputs."""

    template: dict[str, Any]
    resolver: Resolver

    @property
    def physical_ids(self) -> dict[str, str]:
        """Logical id -> ``Ref`` value (table name, queue URL, user pool id, client id, secret ARN, ...)."""
        return dict(self.resolver.refs)

    def ref(self, logical_id: str) -> str:
        return self.resolver.refs[logical_id]

    def get_att(self, logical_id: str, attribute: str) -> str:
        return self.resolver.get_att(logical_id, attribute)

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    def template_outputs(self) -> dict[str, Any]:
        """The template's ``Outputs`` section, resolved."""
        return {
            name: self.resolver.resolve(output["Value"])
            for name, output in (self.template.get("Outputs") or {}).items()
        }


def provision(
    template: Mapping[str, Any] | Path | str = DEFAULT_TEMPLATE,
    session: boto3.Session | None = None,
    parameter_overrides: Mapping[str, str | int] | None = None,
    *,
    endpoint_url: str | None = None,
    stack_name: str = DEFAULT_STACK_NAME,
    account_id: str = DEFAULT_ACCOUNT_ID,
    only: Iterable[str] | None = None,
    with_operations: bool = True,
) -> ProvisionedStack:
    """Create every resource of ``template`` (or the logical ids in ``only``) and return their ids.

    ``with_operations=False`` only names the operations resources (log groups, alarms, the dashboard, the alarm
    topic: nothing local reads them) instead of creating them: the unit tests' fresh moto per test is then
    half as slow to provision."""
    data = dict(template) if isinstance(template, Mapping) else load_template(template)
    session = session or boto3.Session(region_name=DEFAULT_REGION)
    clients = Clients(session, endpoint_url)
    resolver = Resolver(
        parameters=resolve_parameters(data, parameter_overrides),
        region=session.region_name or DEFAULT_REGION,
        account_id=account_id,
        stack_name=stack_name,
        conditions=data.get("Conditions") or {},
        mappings=data.get("Mappings") or {},
    )
    wanted = set(only) if only is not None else None
    resources: Mapping[str, Any] = data["Resources"]
    for logical_id in creation_order(resources):
        resource = resources[logical_id]
        if wanted is not None and logical_id not in wanted:
            continue
        if "Condition" in resource and not resolver.condition(resource["Condition"]):
            continue
        resource_type = resource["Type"]
        creator = _CREATORS.get(resource_type)
        if not with_operations and resource_type in OPERATIONS_TYPES:
            creator = _named_only
        if creator is None:
            raise TemplateError(f"{logical_id}: resource type {resource_type} is not supported locally")
        properties = resolver.resolve(resource.get("Properties") or {})
        ref, attributes = creator(clients, logical_id, properties, resolver)
        resolver.refs[logical_id] = ref
        resolver.attributes[logical_id] = attributes
    return ProvisionedStack(template=data, resolver=resolver)


def create_tables(
    dynamodb_client: Any,
    template_path: Path | str = DEFAULT_TEMPLATE,
    only: Iterable[str] | None = None,
    *,
    parameter_overrides: Mapping[str, str | int] | None = None,
    stack_name: str = DEFAULT_STACK_NAME,
) -> dict[str, str]:
    """Create the DynamoDB tables of the template (for unit tests under ``mock_aws``).

    Returns logical id -> table name. ``only`` restricts to some logical ids (e.g. ``["AccountsTable"]``).
    """
    data = load_template(template_path)
    resolver = Resolver(
        parameters=resolve_parameters(data, parameter_overrides),
        region=dynamodb_client.meta.region_name,
        stack_name=stack_name,
        conditions=data.get("Conditions") or {},
    )
    wanted = set(only) if only is not None else None
    names: dict[str, str] = {}
    for logical_id, resource in data["Resources"].items():
        if resource["Type"] != "AWS::DynamoDB::Table" or (wanted is not None and logical_id not in wanted):
            continue
        properties = resolver.resolve(resource.get("Properties") or {})
        names[logical_id] = _create_table_with(dynamodb_client, logical_id, properties, resolver)
    if wanted is not None and set(names) != wanted:
        raise TemplateError(f"not DynamoDB tables of the template: {sorted(wanted - set(names))}")
    return names


# ---------------------------------------------------------------------------------------------- creators

Creator = Callable[[Clients, str, dict[str, Any], Resolver], tuple[str, dict[str, str]]]


def _physical_name(resolver: Resolver, logical_id: str) -> str:
    # CloudFormation appends a random suffix; a fresh moto per run makes a stable name more useful.
    return f"{resolver.stack_name}-{logical_id}"


def _arn(resolver: Resolver, service: str, resource: str, *, region: bool = True) -> str:
    region_part = resolver.region if region else ""
    return f"arn:aws:{service}:{region_part}:{resolver.account_id}:{resource}"


def _create_table_with(client: Any, logical_id: str, props: dict[str, Any], resolver: Resolver) -> str:
    name = props.get("TableName") or _physical_name(resolver, logical_id)
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput"):
        if key in props:
            request[key] = props[key]
    if "StreamSpecification" in props:
        request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    sse = props.get("SSESpecification")
    if sse:  # CloudFormation's SSEEnabled is the API's Enabled
        request["SSESpecification"] = {
            "Enabled": bool(sse.get("SSEEnabled")),
            **{key: value for key, value in sse.items() if key in ("SSEType", "KMSMasterKeyId")},
        }
    client.create_table(**request)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    pitr = props.get("PointInTimeRecoverySpecification")
    if pitr and pitr.get("PointInTimeRecoveryEnabled"):
        client.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    return str(name)


def _table(clients: Clients, logical_id: str, props: dict[str, Any], resolver: Resolver) -> tuple[str, dict[str, str]]:
    client = clients("dynamodb")
    name = _create_table_with(client, logical_id, props, resolver)
    description = client.describe_table(TableName=name)["Table"]
    attributes = {"Arn": description["TableArn"]}
    if "LatestStreamArn" in description:
        attributes["StreamArn"] = description["LatestStreamArn"]
    return name, attributes


_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds", "FifoQueue", "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds", "KmsMasterKeyId", "MaximumMessageSize", "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds", "SqsManagedSseEnabled", "VisibilityTimeout",
)  # fmt: skip


def _queue(clients: Clients, logical_id: str, props: dict[str, Any], resolver: Resolver) -> tuple[str, dict[str, str]]:
    name = props.get("QueueName") or _physical_name(resolver, logical_id)
    if props.get("FifoQueue") and not name.endswith(".fifo"):
        name += ".fifo"
    attributes = {key: _attribute_text(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    for key in ("RedrivePolicy", "RedriveAllowPolicy"):
        if key in props:
            attributes[key] = props[key] if isinstance(props[key], str) else json.dumps(props[key])
    client = clients("sqs")
    url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, {"Arn": arn, "QueueName": name, "QueueUrl": url}


def _attribute_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _queue_policy(
    clients: Clients, logical_id: str, props: dict[str, Any], resolver: Resolver
) -> tuple[str, dict[str, str]]:
    policy = json.dumps(props["PolicyDocument"])
    for url in props["Queues"]:
        clients("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    return _physical_name(resolver, logical_id), {}


def _event_bus(
    clients: Clients, logical_id: str, props: dict[str, Any], resolver: Resolver
) -> tuple[str, dict[str, str]]:
    name = props["Name"]
    arn = clients("events").create_event_bus(Name=name)["EventBusArn"]
    return name, {"Arn": arn, "Name": name}


def _rule(clients: Clients, logical_id: str, props: dict[str, Any], resolver: Resolver) -> tuple[str, dict[str, str]]:
    name = props.get("Name") or _physical_name(resolver, logical_id)
    bus = props.get("EventBusName", "default")
    request: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
    if "EventPattern" in props:
        pattern = props["EventPattern"]
        request["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    for key in ("ScheduleExpression", "Description", "RoleArn"):
        if key in props:
            request[key] = props[key]
    events = clients("events")
    arn = events.put_rule(**request)["RuleArn"]
    if props.get("Targets"):
        result = events.put_targets(Rule=name, EventBusName=bus, Targets=props["Targets"])
        if result.get("FailedEntryCount"):
            raise TemplateError(f"{logical_id}: targets rejected: {result['FailedEntries']}")
    # Ref of a rule on a custom bus is "bus|rule" (CloudFormation's documented format).
    ref = name if bus == "default" else f"{bus}|{name}"
    return ref, {"Arn": arn}


_USER_POOL_KEYS = (
    "AccountRecoverySetting", "AdminCreateUserConfig", "AliasAttributes", "AutoVerifiedAttributes",
    "DeletionProtection", "DeviceConfiguration", "EmailConfiguration", "EmailVerificationMessage",
    "EmailVerificationSubject", "LambdaConfig", "MfaConfiguration", "Policies", "Schema",
    "SmsAuthenticationMessage", "SmsConfiguration", "SmsVerificationMessage", "UserAttributeUpdateSettings",
    "UsernameAttributes", "UsernameConfiguration", "UserPoolAddOns", "UserPoolTags",
    "VerificationMessageTemplate",
)  # fmt: skip


def _user_pool(
    clients: Clients, logical_id: str, props: dict[str, Any], resolver: Resolver
) -> tuple[str, dict[str, str]]:
    request = {key: props[key] for key in _USER_POOL_KEYS if key in props}
    request["PoolName"] = props.get("UserPoolName") or _physical_name(resolver, logical_id)
    pool = clients("cognito-idp").create_user_pool(**request)["UserPool"]
    pool_id = pool["Id"]
    provider = f"cognito-idp.{resolver.region}.amazonaws.com/{pool_id}"
    return pool_id, {
        "Arn": pool["Arn"],
        "ProviderName": provider,
        "ProviderURL": f"https://{provider}",
        "UserPoolId": pool_id,
    }


def _user_pool_client(
    clients: Clients, logical_id: str, props: dict[str, Any], resolver: Resolver
) -> tuple[str, dict[str, str]]:
    request = dict(props)  # CloudFormation's property names are the API's
    request.setdefault("ClientName", _physical_name(resolver, logical_id))
    created = clients("cognito-idp").create_user_pool_client(**request)["UserPoolClient"]
    attributes = {"ClientId": created["ClientId"], "Name": created["ClientName"]}
    if "ClientSecret" in created:
        attributes["ClientSecret"] = created["ClientSecret"]
    return created["ClientId"], attributes


def _user_pool_group(
    clients: Clients, logical_id: str, props: dict[str, Any], resolver: Resolver
) -> tuple[str, dict[str, str]]:
    clients("cognito-idp").create_group(**props)
    return props["GroupName"], {}


def _secret(clients: Clients, logical_id: str, props: dict[str, Any], resolver: Resolver) -> tuple[str, dict[str, str]]:
    client = clients("secretsmanager")
    request: dict[str, Any] = {"Name": props.get("Name") or _physical_name(resolver, logical_id)}
    for key in ("Description", "KmsKeyId", "SecretString", "Tags"):
        if key in props:
            request[key] = props[key]
    generate = props.get("GenerateSecretString")
    if generate and "SecretString" not in props:
        options = {
            key: value for key, value in generate.items() if key not in ("SecretStringTemplate", "GenerateStringKey")
        }
        password = client.get_random_password(**options)["RandomPassword"]
        if "SecretStringTemplate" in generate:
            document = json.loads(generate["SecretStringTemplate"])
            document[generate["GenerateStringKey"]] = password
            request["SecretString"] = json.dumps(document)
        else:
            request["SecretString"] = password
    arn = client.create_secret(**request)["ARN"]
    return arn, {"Id": arn}


def _kms_key(
    clients: Clients, logical_id: str, props: dict[str, Any], resolver: Resolver
) -> tuple[str, dict[str, str]]:
    request: dict[str, Any] = {"Description": props.get("Description", logical_id)}
    if "KeyPolicy" in props:
        request["Policy"] = json.dumps(props["KeyPolicy"])
    key = clients("kms").create_key(**request)["KeyMetadata"]
    if props.get("EnableKeyRotation"):
        clients("kms").enable_key_rotation(KeyId=key["KeyId"])
    return key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]}


def _function(
    clients: Clients, logical_id: str, props: dict[str, Any], resolver: Resolver
) -> tuple[str, dict[str, str]]:
    name = props.get("FunctionName") or _physical_name(resolver, logical_id)
    return name, {"Arn": _arn(resolver, "lambda", f"function:{name}")}


def _http_api(
    clients: Clients, logical_id: str, props: dict[str, Any], resolver: Resolver
) -> tuple[str, dict[str, str]]:
    api_id = hashlib.sha256(f"{resolver.stack_name}/{logical_id}".encode()).hexdigest()[:10]
    return api_id, {"ApiEndpoint": f"https://{api_id}.execute-api.{resolver.region}.amazonaws.com"}


def _layer(clients: Clients, logical_id: str, props: dict[str, Any], resolver: Resolver) -> tuple[str, dict[str, str]]:
    name = props.get("LayerName") or _physical_name(resolver, logical_id)
    return _arn(resolver, "lambda", f"layer:{name}:1"), {}


def _named_only(
    clients: Clients, logical_id: str, props: dict[str, Any], resolver: Resolver
) -> tuple[str, dict[str, str]]:
    return _physical_name(resolver, logical_id), {}


_CREATORS: dict[str, Creator] = {
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::Events::EventBus": _event_bus,
    "AWS::Events::Rule": _rule,
    "AWS::Cognito::UserPool": _user_pool,
    "AWS::Cognito::UserPoolClient": _user_pool_client,
    "AWS::Cognito::UserPoolGroup": _user_pool_group,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::KMS::Key": _kms_key,
    "AWS::Serverless::Function": _function,
    "AWS::Serverless::HttpApi": _http_api,
    "AWS::Serverless::LayerVersion": _layer,
    **MONITORING_CREATORS,
}

SUPPORTED_TYPES = frozenset(_CREATORS)
