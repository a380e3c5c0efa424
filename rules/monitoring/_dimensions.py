"""Alarm dimensions that name template resources (functions, queues, topics, tables,
buckets): how each must be spelled, and what is wrong with one that is not."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from cfnfix_rules.dead_letter._refs import FUNCTION_TYPES
from cfnfix_rules.retention._values import symbolic

from cfnfix.intrinsics import GetAtt, Ref, getatt_target, ref_target
from cfnfix.template import Resource, Template

SIMILAR = 0.85
MIN_LENGTH = 6
_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


class Target(NamedTuple):
    """A metric dimension that names a resource of the template."""

    namespace: str
    dimension: str
    types: tuple[str, ...]
    name_key: str  # the property holding the resource's name
    what: str
    ref_is: str | None  # what ``Ref`` returns when it is not the name ("URL")
    name_attribute: str | None  # the ``Fn::GetAtt`` attribute that is the name

    def right(self, logical_id: str) -> Any:
        return (
            Ref(logical_id) if self.ref_is is None else GetAtt(logical_id, str(self.name_attribute))
        )

    def spelled(self, logical_id: str) -> str:
        return (
            f"!Ref {logical_id}"
            if self.ref_is is None
            else f"!GetAtt {logical_id}.{self.name_attribute}"
        )


TARGETS = {
    (t.namespace, t.dimension): t
    for t in (
        Target(
            "AWS/Lambda", "FunctionName", FUNCTION_TYPES, "FunctionName", "function", None, None
        ),
        Target(
            "AWS/SQS", "QueueName", ("AWS::SQS::Queue",), "QueueName", "queue", "URL", "QueueName"
        ),
        Target(
            "AWS/SNS", "TopicName", ("AWS::SNS::Topic",), "TopicName", "topic", "ARN", "TopicName"
        ),
        Target(
            "AWS/DynamoDB",
            "TableName",
            ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::Serverless::SimpleTable"),
            "TableName",
            "table",
            None,
            None,
        ),
        Target("AWS/S3", "BucketName", ("AWS::S3::Bucket",), "BucketName", "bucket", None, None),
    )
}


def concrete(template: Template, spelled: str) -> str:
    """``spelled`` with each ``${Parameter}`` replaced by the parameter's default."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        default = template.parameters.get(name, {})
        value = default.get("Default") if isinstance(default, dict) else None
        return (
            str(value)
            if isinstance(value, (str, int)) and not isinstance(value, bool)
            else match.group(0)
        )

    return _VAR.sub(replace, spelled)


def judge(template: Template, target: Target, value: Any) -> tuple[str, str | None, bool] | None:
    """What is wrong with a dimension value: (message, the resource it should refer to,
    whether replacing it by that reference is safe); ``None`` when nothing is."""
    spelled = symbolic(value)
    name = ref_target(value)
    attribute = None
    if name is None and getatt_target(value) is not None:
        name, attribute = getatt_target(value) or ("", "")
    if name is None and spelled is not None:
        inner = spelled[2:-1] if spelled.startswith("${") and spelled.endswith("}") else ""
        if inner and "${" not in inner and inner.split(".")[0] in template.resources:
            name, _, attribute = inner.partition(".")
            attribute = attribute or None
    if name is not None:
        return _reference(template, target, name, attribute)
    if spelled is None:
        return None
    return _literal(template, target, spelled)


def _reference(
    template: Template, target: Target, name: str, attribute: str | None
) -> tuple[str, str | None, bool] | None:
    resource = template.resources.get(name)
    if resource is None:
        return None  # a parameter, a pseudo parameter, or cfn-lint's business
    if resource.type not in target.types:
        return (
            f"{target.dimension} refers to {name} ({resource.type}), not a {target.what}: "
            "the alarm watches a metric nobody publishes",
            None,
            False,
        )
    if attribute is None and target.ref_is is None:
        return None
    if attribute is not None and attribute == target.name_attribute:
        return None
    got = (
        f"!Ref {name} is the {target.what}'s {target.ref_is}"
        if attribute is None
        else (f"!GetAtt {name}.{attribute} is not the {target.what}'s name")
    )
    return (
        f"{target.dimension} must be the {target.what}'s name, but {got}: "
        "the alarm watches nothing",
        name,
        True,
    )


def _literal(
    template: Template, target: Target, spelled: str
) -> tuple[str, str | None, bool] | None:
    candidates = list(template.resources_of(*target.types))
    if not candidates:
        return None
    names: dict[str, str | None] = {
        c.logical_id: symbolic(template.effective_properties(c).get(target.name_key))
        for c in candidates
    }
    if spelled in names.values():
        return None
    value = concrete(template, spelled)
    for resource in candidates:
        own = names[resource.logical_id]
        if own is not None and concrete(template, own) == value and "${" in own:
            return (
                f"{target.dimension} {spelled!r} is the name of {target.what} "
                f"{resource.logical_id} only with the default parameter values: in any "
                "other deployment the alarm watches nothing",
                resource.logical_id,
                False,
            )
    for resource in candidates:
        if spelled.lower() == resource.logical_id.lower():
            return (
                f"{target.dimension} {spelled!r} is the logical id of {target.what} "
                f"{resource.logical_id}, not its name: the alarm watches nothing",
                resource.logical_id,
                False,
            )
    return _near_miss(template, target, spelled, value, candidates, names)


def _near_miss(
    template: Template,
    target: Target,
    spelled: str,
    value: str,
    candidates: list[Resource],
    names: dict[str, str | None],
) -> tuple[str, str | None, bool] | None:
    if len(value) < MIN_LENGTH:
        return None
    import difflib  # here: a check of a template without such alarms never needs it

    close = []
    for resource in candidates:
        own = names[resource.logical_id]
        if own is None:
            continue
        ratio = difflib.SequenceMatcher(
            None, value.lower(), concrete(template, own).lower()
        ).ratio()
        if ratio >= SIMILAR:
            close.append((resource, own))
    if len(close) != 1:
        return None  # none alike, or several (a numbered family: maybe one outside)
    resource, own = close[0]
    return (
        f"no {target.what} is named {spelled!r}; {resource.logical_id} is named {own!r}: "
        "a typo makes the alarm watch a metric nobody publishes",
        resource.logical_id,
        False,
    )
