"""Load a SAM/CloudFormation template and resolve its intrinsic functions.

The loader understands the short-form tags (``!Ref``, ``!GetAtt``, ``!Sub``, ...) and turns them into their
long form (``{"Ref": ...}``, ``{"Fn::GetAtt": [...]}``), so the rest of the stack only deals with plain data.
:class:`Resolver` evaluates that data against parameters, pseudo parameters and the physical ids of
resources created so far.
"""

from __future__ import annotations

import base64
import graphlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account
DEFAULT_STACK_NAME = "coursepay-local"


class TemplateError(Exception):
    """The template cannot be loaded or a value in it cannot be resolved."""


# ---------------------------------------------------------------------------------------------- loading


# libyaml's parser when PyYAML was built with it (the wheels are): about 10x faster on template.yaml, which
# every unit test's moto stack loads.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CfnLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader plus CloudFormation's short-form intrinsic tags."""


def _construct_tag(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - yaml has no other node kinds
        raise TemplateError(f"unsupported node for !{tag_suffix}")
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical_id, attribute]}
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path | str = DEFAULT_TEMPLATE) -> dict[str, Any]:
    """Parse a template file into plain dicts/lists/scalars (short tags expanded to long form)."""
    text = Path(path).read_text(encoding="utf-8")
    data = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass, only adds CFN tags
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources)")
    return data


# ---------------------------------------------------------------------------------------------- parameters


def resolve_parameters(template: Mapping[str, Any], overrides: Mapping[str, str | int] | None = None) -> dict[str, Any]:
    """Parameter values as CloudFormation would see them: overrides, else defaults; validated."""
    overrides = dict(overrides or {})
    declared: Mapping[str, Any] = template.get("Parameters", {}) or {}
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"unknown parameter override(s): {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in overrides:
            raw: Any = overrides[name]
        elif "Default" in spec:
            raw = spec["Default"]
        else:
            raise TemplateError(f"parameter {name} has no default and no override")
        kind = spec.get("Type", "String")
        text = str(raw)
        if kind == "Number":
            try:
                number = float(text)
            except ValueError:
                raise TemplateError(f"parameter {name} must be a number, got {text!r}") from None
            if "MinValue" in spec and number < float(spec["MinValue"]):
                raise TemplateError(f"parameter {name}={text} is below MinValue {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                raise TemplateError(f"parameter {name}={text} is above MaxValue {spec['MaxValue']}")
        allowed = spec.get("AllowedValues")
        if allowed is not None and text not in [str(value) for value in allowed]:
            raise TemplateError(f"parameter {name}={text!r} is not one of {allowed}")
        # Ref to a Number parameter yields a string in CloudFormation; lists stay lists.
        values[name] = text.split(",") if kind == "CommaDelimitedList" else text
    return values


# ---------------------------------------------------------------------------------------------- resolution

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@dataclass
class Resolver:
    """Evaluates intrinsic functions. ``refs``/``attributes`` grow while resources are provisioned."""

    parameters: Mapping[str, Any]
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    stack_name: str = DEFAULT_STACK_NAME
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    conditions: Mapping[str, Any] = field(default_factory=dict)
    mappings: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def for_template(cls, template: Mapping[str, Any], overrides: Mapping[str, str | int] | None = None,
                     **fields: Any) -> Resolver:
        """A resolver of ``template`` with its parameters (``overrides`` applied), conditions and mappings."""
        return cls(parameters=resolve_parameters(template, overrides), conditions=template.get("Conditions") or {},
                   mappings=template.get("Mappings") or {}, **fields)

    @classmethod
    def with_stand_in_ids(cls, template: Mapping[str, Any],
                          overrides: Mapping[str, str | int] | None = None) -> Resolver:
        """A resolver that gives every resource a made-up physical id, ARN and stream ARN (``id-<LogicalId>``,
        ``arn-<LogicalId>``, ``stream-arn-<LogicalId>``): for reading routes, event sources and schedules without
        provisioning anything."""
        resolver = cls.for_template(template, overrides)
        for logical_id in template["Resources"]:
            resolver.refs[logical_id] = f"id-{logical_id}"
            resolver.attributes[logical_id] = {"Arn": f"arn-{logical_id}", "StreamArn": f"stream-arn-{logical_id}"}
        resolver.refs["CommonLayer"] = "arn:layer"
        return resolver

    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local"),
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        pseudo = self.pseudo()
        if name in pseudo:
            return pseudo[name]
        if name in self.refs:
            return self.refs[name]
        raise TemplateError(f"cannot resolve Ref {name} (not a parameter, or resource not created yet)")

    def get_att(self, logical_id: str, attribute: str) -> str:
        try:
            return self.attributes[logical_id][attribute]
        except KeyError:
            raise TemplateError(f"cannot resolve Fn::GetAtt {logical_id}.{attribute}") from None

    def resolve(self, value: Any) -> Any:
        """Recursively evaluate ``value``; ``AWS::NoValue`` removes the key or list item."""
        if isinstance(value, list):
            resolved_items = (self.resolve(item) for item in value)
            return [item for item in resolved_items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return _NO_VALUE if argument == "AWS::NoValue" else self.ref(argument)
            if key.startswith("Fn::") or key == "Condition":
                return self._function(key, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def _function(self, name: str, argument: Any) -> Any:
        match name:
            case "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
                return self.get_att(logical_id, self.resolve(attribute))
            case "Fn::Sub":
                return self._sub(argument)
            case "Fn::Join":
                delimiter, items = argument
                return str(delimiter).join(str(item) for item in self.resolve(items))
            case "Fn::Split":
                delimiter, text = argument
                return str(self.resolve(text)).split(str(delimiter))
            case "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            case "Fn::Base64":
                return base64.b64encode(str(self.resolve(argument)).encode()).decode()
            case "Fn::FindInMap":
                map_name, top, second = (self.resolve(part) for part in argument)
                return self.mappings[map_name][top][second]
            case "Fn::Equals":
                left, right = (self.resolve(part) for part in argument)
                return str(left) == str(right)
            case "Fn::Not":
                return not self.resolve(argument[0])
            case "Fn::And":
                return all(self.resolve(part) for part in argument)
            case "Fn::Or":
                return any(self.resolve(part) for part in argument)
            case "Fn::If":
                condition, when_true, when_false = argument
                return self.resolve(when_true if self.condition(condition) else when_false)
            case "Condition":
                return self.condition(argument)
        raise TemplateError(f"intrinsic function {name} is not supported by the local stack")

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise TemplateError(f"unknown condition {name}")
        return bool(self.resolve(self.conditions[name]))

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], {k: self.resolve(v) for k, v in argument[1].items()}
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):  # ${!Literal} renders as ${Literal}
                return "${" + expression[1:] + "}"
            if expression in variables:
                return str(variables[expression])
            if "." in expression and not expression.startswith("AWS::"):
                logical_id, attribute = expression.split(".", 1)
                return self.get_att(logical_id, attribute)
            return str(self.ref(expression))

        return _SUB_VARIABLE.sub(replace, str(text))


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


_NO_VALUE = _NoValue()


# ---------------------------------------------------------------------------------------------- dependencies


def references(value: Any) -> Iterator[str]:
    """Names referenced by ``value`` through Ref, GetAtt and Sub (parameters and pseudo params included)."""
    if isinstance(value, list):
        for item in value:
            yield from references(item)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                yield argument
            elif key == "Fn::GetAtt":
                yield (argument[0] if isinstance(argument, list) else str(argument).split(".", 1)[0])
            elif key == "Fn::Sub":
                text, variables = (argument[0], argument[1]) if isinstance(argument, list) else (argument, {})
                for expression in _SUB_VARIABLE.findall(str(text)):
                    if not expression.startswith("!") and expression not in variables:
                        yield expression.split(".", 1)[0]
                yield from references(variables)
            else:
                yield from references(argument)


def creation_order(resources: Mapping[str, Any]) -> list[str]:
    """Logical ids in an order where every resource comes after the resources it references."""
    graph: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        depends = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        depends |= {name for name in references(resource.get("Properties", {})) if name in resources}
        graph[logical_id] = depends
    try:
        return list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        raise TemplateError(f"circular dependency between resources: {error.args[1]}") from None
