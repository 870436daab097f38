"""What template.yaml declares about the parts the local stack runs itself: functions (with SAM's Globals
applied), their HTTP API routes and JWT authorizers, their SQS event sources and their schedules."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.stack.template import REPO_ROOT, Resolver, TemplateError
from local.stack.throttling import ThrottleSpec, throttle_spec

IMPLICIT_HTTP_API = "ServerlessHttpApi"  # SAM's name for the API created when events name no ApiId


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str  # physical function name
    arn: str
    code_dir: Path
    handler: str
    runtime: str
    memory_mb: int
    timeout_s: int
    layer_dirs: tuple[Path, ...]
    environment: dict[str, str]  # Globals + function Environment, intrinsics resolved
    architectures: tuple[str, ...] = ("x86_64",)


@dataclass(frozen=True)
class JwtAuthorizerSpec:
    name: str
    issuer: str
    audiences: tuple[str, ...]
    identity_header: str  # lower-case header name taken from $request.header.X


@dataclass(frozen=True)
class HttpRoute:
    method: str  # upper-case, or "ANY"
    path: str  # "/gigs/{gigId}", "/files/{proxy+}" or "$default"
    function: str  # logical id
    authorizer: JwtAuthorizerSpec | None
    scopes: tuple[str, ...] = ()

    @property
    def route_key(self) -> str:
        return self.path if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class CorsSpec:
    allow_origins: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    allow_credentials: bool = False
    max_age: int | None = None


@dataclass(frozen=True)
class HttpApiSpec:
    logical_id: str
    api_id: str
    routes: tuple[HttpRoute, ...]
    cors: CorsSpec | None
    throttle: ThrottleSpec = field(default_factory=ThrottleSpec)


@dataclass(frozen=True)
class SqsEventSource:
    function: str  # logical id
    queue_arn: str
    batch_size: int = 10
    batching_window_s: float = 0.0
    report_batch_item_failures: bool = False
    enabled: bool = True


@dataclass(frozen=True)
class StreamEventSource:
    """A ``Type: DynamoDB`` event: a table's stream fed to a function (Lambda's stream event source mapping)."""

    function: str  # logical id
    stream_arn: str
    starting_position: str = "LATEST"
    batch_size: int = 100
    maximum_retry_attempts: int = -1  # -1: until the record expires, as Lambda's default
    report_batch_item_failures: bool = False
    filter_patterns: tuple[str, ...] = ()  # FilterCriteria.Filters[].Pattern (JSON): a record passes if any matches
    on_failure_queue_arn: str | None = None  # DestinationConfig.OnFailure (an SQS queue)
    enabled: bool = True


@dataclass(frozen=True)
class ScheduleSource:
    """A ``Type: Schedule`` event (an EventBridge rule with a ``rate(...)`` expression)."""

    function: str  # logical id
    event_name: str  # the event's key in the template, e.g. "Every15Minutes"
    expression: str
    interval_s: float
    enabled: bool = True
    input: Any = None  # the event's ``Input`` (JSON text) parsed, or None for EventBridge's Scheduled Event


@dataclass
class SamModel:
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    http_apis: dict[str, HttpApiSpec] = field(default_factory=dict)
    sqs_sources: list[SqsEventSource] = field(default_factory=list)
    stream_sources: list[StreamEventSource] = field(default_factory=list)
    schedules: list[ScheduleSource] = field(default_factory=list)


_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float:
    """Seconds between runs of an EventBridge ``rate(...)`` expression (``cron(...)`` is not run locally)."""
    match = _RATE.fullmatch(expression.strip())
    if match is None or int(match.group(1)) < 1:
        raise TemplateError(f"schedule {expression!r}: only rate(<n> minute(s)|hour(s)|day(s)) runs locally")
    value, unit = int(match.group(1)), match.group(2)
    if (value == 1) != (not unit.endswith("s")):  # EventBridge: rate(1 minute), rate(5 minutes)
        raise TemplateError(f"schedule {expression!r}: use the singular unit for 1 and the plural otherwise")
    return float(value * _UNIT_SECONDS[unit.rstrip("s")])


def _merge_globals(global_props: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rules: maps merge (function wins), lists concatenate (globals first), scalars override."""
    merged = copy.deepcopy(dict(global_props))
    for key, value in props.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = _merge_globals(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            merged[key] = current + value
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def function_properties(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    """A function's properties with ``Globals.Function`` applied (not yet resolved)."""
    global_props = (template.get("Globals") or {}).get("Function") or {}
    return _merge_globals(global_props, template["Resources"][logical_id].get("Properties") or {})


def build_model(template: Mapping[str, Any], resolver: Resolver, root: Path = REPO_ROOT) -> SamModel:
    """Functions, routes and event sources of a provisioned template (``resolver`` knows the physical ids)."""
    resources: Mapping[str, Any] = template["Resources"]
    model = SamModel()
    route_lists: dict[str, list[HttpRoute]] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        raw = function_properties(template, logical_id)
        events = raw.pop("Events", None) or {}
        props = resolver.resolve(raw)
        model.functions[logical_id] = _function_spec(logical_id, props, resources, resolver, root)
        for event_name, event in events.items():
            event_props = event.get("Properties") or {}
            if event["Type"] == "HttpApi":
                api_ref = event_props.get("ApiId")
                api_logical_id = api_ref["Ref"] if isinstance(api_ref, dict) else IMPLICIT_HTTP_API
                api_props = (resources.get(api_logical_id) or {}).get("Properties") or {}
                route_lists.setdefault(api_logical_id, []).append(
                    _route(logical_id, event_props, resolver.resolve(api_props.get("Auth") or {}), resolver)
                )
            elif event["Type"] == "SQS":
                source = resolver.resolve(event_props)
                model.sqs_sources.append(
                    SqsEventSource(
                        function=logical_id,
                        queue_arn=source["Queue"],
                        batch_size=int(source.get("BatchSize", 10)),
                        batching_window_s=float(source.get("MaximumBatchingWindowInSeconds", 0)),
                        report_batch_item_failures="ReportBatchItemFailures"
                        in (source.get("FunctionResponseTypes") or []),
                        enabled=bool(source.get("Enabled", True)),
                    )
                )
            elif event["Type"] == "DynamoDB":
                model.stream_sources.append(_stream_source(logical_id, resolver.resolve(event_props)))
            elif event["Type"] == "Schedule":
                model.schedules.append(_schedule(logical_id, event_name, resolver.resolve(event_props)))
            else:
                raise TemplateError(f"{logical_id}.{event_name}: event type {event['Type']} not supported locally")
    for api_logical_id, routes in route_lists.items():
        api_props = resolver.resolve((resources.get(api_logical_id) or {}).get("Properties") or {})
        api_id = resolver.refs.get(api_logical_id, "local")
        model.http_apis[api_logical_id] = HttpApiSpec(
            logical_id=api_logical_id,
            api_id=api_id,
            routes=tuple(routes),
            cors=_cors(api_props.get("CorsConfiguration")),
            throttle=throttle_spec(api_props),
        )
    return model


def _stream_source(logical_id: str, source: Mapping[str, Any]) -> StreamEventSource:
    filters = ((source.get("FilterCriteria") or {}).get("Filters")) or []
    on_failure = ((source.get("DestinationConfig") or {}).get("OnFailure")) or {}
    return StreamEventSource(
        function=logical_id,
        stream_arn=source["Stream"],
        starting_position=str(source.get("StartingPosition", "LATEST")),
        batch_size=int(source.get("BatchSize", 100)),
        maximum_retry_attempts=int(source.get("MaximumRetryAttempts", -1)),
        report_batch_item_failures="ReportBatchItemFailures" in (source.get("FunctionResponseTypes") or []),
        filter_patterns=tuple(str(item["Pattern"]) for item in filters),
        on_failure_queue_arn=on_failure.get("Destination"),
        enabled=bool(source.get("Enabled", True)),
    )


def _function_spec(
    logical_id: str, props: Mapping[str, Any], resources: Mapping[str, Any], resolver: Resolver, root: Path
) -> FunctionSpec:
    layer_dirs: list[Path] = []
    for layer_arn in props.get("Layers") or []:
        # A layer of this template: its ContentUri is the code; external layer ARNs cannot run locally.
        owner = next((lid for lid, ref in resolver.refs.items() if ref == layer_arn), None)
        if owner is None or resources[owner]["Type"] != "AWS::Serverless::LayerVersion":
            raise TemplateError(f"{logical_id}: layer {layer_arn} is not a layer of this template")
        layer_dirs.append((root / resources[owner]["Properties"]["ContentUri"]).resolve())
    variables = ((props.get("Environment") or {}).get("Variables")) or {}
    return FunctionSpec(
        logical_id=logical_id,
        name=resolver.refs[logical_id],
        arn=resolver.get_att(logical_id, "Arn"),
        code_dir=(root / props["CodeUri"]).resolve(),
        handler=props["Handler"],
        runtime=props.get("Runtime", "python3.13"),
        memory_mb=int(props.get("MemorySize", 128)),
        timeout_s=int(props.get("Timeout", 3)),
        layer_dirs=tuple(layer_dirs),
        environment={key: _env_text(value) for key, value in variables.items()},
        architectures=tuple(props.get("Architectures") or ("x86_64",)),
    )


def _schedule(function: str, event_name: str, props: Mapping[str, Any]) -> ScheduleSource:
    expression = str(props.get("Schedule", ""))
    raw_input = props.get("Input")
    return ScheduleSource(
        function=function,
        event_name=event_name,
        expression=expression,
        interval_s=rate_seconds(expression),
        enabled=bool(props.get("Enabled", True)) and str(props.get("State", "ENABLED")).upper() != "DISABLED",
        input=json.loads(raw_input) if isinstance(raw_input, str) else None,
    )


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):  # CloudFormation would reject it; keep it readable anyway
        return ",".join(str(item) for item in value)
    return str(value)


def _route(function: str, event_props: Mapping[str, Any], api_auth: Mapping[str, Any], resolver: Resolver) -> HttpRoute:
    props = resolver.resolve(dict(event_props))
    method = str(props.get("Method", "ANY")).upper()
    path = str(props.get("Path", "$default"))
    if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
        method = "ANY"
    route_auth = props.get("Auth") or {}
    authorizer_name = route_auth.get("Authorizer", api_auth.get("DefaultAuthorizer"))
    authorizer = None
    if authorizer_name and authorizer_name != "NONE":
        config = (api_auth.get("Authorizers") or {}).get(authorizer_name)
        if config is None or "JwtConfiguration" not in config:
            raise TemplateError(f"{function} {method} {path}: authorizer {authorizer_name} is not a JWT authorizer")
        jwt_config = config["JwtConfiguration"]
        identity = str(config.get("IdentitySource", "$request.header.Authorization"))
        prefix = "$request.header."
        if not identity.startswith(prefix):
            raise TemplateError(f"authorizer {authorizer_name}: identity source {identity} not supported")
        authorizer = JwtAuthorizerSpec(
            name=authorizer_name,
            issuer=str(jwt_config["issuer"]),
            audiences=tuple(str(aud) for aud in jwt_config.get("audience") or ()),
            identity_header=identity[len(prefix) :].lower(),
        )
    scopes = tuple(route_auth.get("AuthorizationScopes") or ())
    return HttpRoute(method=method, path=path, function=function, authorizer=authorizer, scopes=scopes)


def _cors(config: Any) -> CorsSpec | None:
    if not config:
        return None
    if config is True:  # SAM: CorsConfiguration: true allows every origin
        return CorsSpec(allow_origins=("*",), allow_headers=("*",), allow_methods=("*",))

    def strings(key: str) -> tuple[str, ...]:
        return tuple(str(value) for value in config.get(key) or ())

    return CorsSpec(
        allow_origins=tuple(origin.rstrip("/") for origin in strings("AllowOrigins")),
        allow_headers=tuple(header.lower() for header in strings("AllowHeaders")),
        allow_methods=tuple(method.upper() for method in strings("AllowMethods")),
        expose_headers=strings("ExposeHeaders"),
        allow_credentials=bool(config.get("AllowCredentials", False)),
        max_age=int(config["MaxAge"]) if "MaxAge" in config else None,
    )
