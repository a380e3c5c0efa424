"""Which S3 buckets trigger which Lambda functions of a template, and whether a function
may write back into the bucket that triggers it. Shared by the recursion rule (SE015)
and the deployment family (DP001-DP003); no rule lives here.

A trigger is one of:

- `notification`: an `AWS::S3::Bucket`'s `NotificationConfiguration.LambdaConfigurations`
  item (its `Event` and `Filter.S3Key.Rules` prefix / suffix);
- `sam`: a SAM function's event of type `S3` (`Bucket: !Ref X`, `Events`, `Filter`); SAM
  writes the notification, the permission and the bucket's `DependsOn` itself;
- `eventbridge`: an `AWS::Events::Rule` (or SAM `EventBridgeRule` event) matching
  `aws.s3` "Object Created" events of a bucket whose
  `NotificationConfiguration.EventBridgeConfiguration` is enabled.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from cfnfix.nodes import Path
from cfnfix.template import Resource, Template

from ..dead_letter._refs import FUNCTION_TYPES, as_bool, function_ids, get, sam_events
from ._iam import Statement, allows_action, function_roles, globs_intersect, render, role_statements

BUCKET_TYPE = "AWS::S3::Bucket"
WRITE_ACTION = "s3:PutObject"  # covers Put, Post, Copy and CompleteMultipartUpload


class S3Trigger(NamedTuple):
    bucket: str  # logical id
    function: str  # logical id
    events: tuple[str, ...]
    prefix: str
    suffix: str
    source: str  # "notification" | "sam" | "eventbridge"
    path: Path  # where the trigger is declared
    value: Any = None  # the `Function` value of a notification (what S3 invokes)

    @property
    def object_created(self) -> bool:
        return any(e.lower().startswith("s3:objectcreated:") for e in self.events)

    def describe(self) -> str:
        events = ", ".join(self.events)
        where = {
            "notification": "",
            "sam": " (SAM S3 event)",
            "eventbridge": " (through EventBridge)",
        }[self.source]
        scope = []
        if self.prefix:
            scope.append(f"prefix '{self.prefix}'")
        if self.suffix:
            scope.append(f"suffix '{self.suffix}'")
        filtered = f" for keys with {' and '.join(scope)}" if scope else " for every key"
        return f"bucket {self.bucket} invokes function {self.function} on {events}{filtered}{where}"


def _filter(value: Any) -> tuple[str, str]:
    prefix = suffix = ""
    rules = get(value, "S3Key", "Rules")
    for rule in rules if isinstance(rules, list) else []:
        name, text = get(rule, "Name"), get(rule, "Value")
        if not isinstance(name, str) or not isinstance(text, str):
            continue
        if name.lower() == "prefix":
            prefix = text
        elif name.lower() == "suffix":
            suffix = text
    return prefix, suffix


def _events(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(e for e in items if isinstance(e, str))


def s3_triggers(template: Template) -> list[S3Trigger]:
    """Every bucket -> function trigger of the template (computed once)."""
    return template.memoize("security.loops.triggers", lambda: list(_triggers(template)))


def _triggers(template: Template) -> Iterator[S3Trigger]:
    buckets = {b.logical_id: b for b in template.resources_of(BUCKET_TYPE)}
    for bucket in buckets.values():
        configs = get(bucket.properties, "NotificationConfiguration", "LambdaConfigurations")
        for index, config in enumerate(configs if isinstance(configs, list) else []):
            target = get(config, "Function")
            prefix, suffix = _filter(get(config, "Filter"))
            for function in function_ids(template, target):
                yield S3Trigger(
                    bucket.logical_id,
                    function,
                    _events(get(config, "Event")),
                    prefix,
                    suffix,
                    "notification",
                    bucket.prop_path("NotificationConfiguration", "LambdaConfigurations", index),
                    target,
                )
    for function in template.resources_of("AWS::Serverless::Function"):
        for name, kind, props in sam_events(function):
            path = function.prop_path("Events", name)
            if kind == "S3":
                bucket_ref = get(props, "Bucket")
                bucket_id = get(bucket_ref, "Ref")
                if isinstance(bucket_id, str) and bucket_id in buckets:
                    prefix, suffix = _filter(props.get("Filter"))
                    yield S3Trigger(
                        bucket_id,
                        function.logical_id,
                        _events(props.get("Events")),
                        prefix,
                        suffix,
                        "sam",
                        path,
                    )
            elif kind == "EventBridgeRule":
                for bucket_id, prefix, suffix in _eventbridge(template, props.get("Pattern")):
                    yield S3Trigger(
                        bucket_id,
                        function.logical_id,
                        ("s3:ObjectCreated:*",),
                        prefix,
                        suffix,
                        "eventbridge",
                        path,
                    )
    for rule in template.resources_of("AWS::Events::Rule"):
        matches = list(_eventbridge(template, rule.properties.get("EventPattern")))
        if not matches:
            continue
        targets = rule.properties.get("Targets")
        for index, target in enumerate(targets if isinstance(targets, list) else []):
            for function in function_ids(template, get(target, "Arn")):
                for bucket_id, prefix, suffix in matches:
                    yield S3Trigger(
                        bucket_id,
                        function,
                        ("s3:ObjectCreated:*",),
                        prefix,
                        suffix,
                        "eventbridge",
                        rule.prop_path("Targets", index),
                    )


def _eventbridge(template: Template, pattern: Any) -> Iterator[tuple[str, str, str]]:
    """`(bucket, prefix, suffix)` of the EventBridge-enabled buckets whose object-created
    events an event pattern matches."""
    if not isinstance(pattern, dict):
        return
    sources = pattern.get("source")
    if not isinstance(sources, list) or "aws.s3" not in sources:
        return
    kinds = pattern.get("detail-type")
    if kinds is not None and (not isinstance(kinds, list) or "Object Created" not in kinds):
        return
    detail = pattern.get("detail")
    names = get(detail, "bucket", "name")
    keys = get(detail, "object", "key")
    prefix = suffix = ""
    for item in keys if isinstance(keys, list) else []:
        if isinstance(get(item, "prefix"), str):
            prefix = item["prefix"]
        elif isinstance(get(item, "suffix"), str):
            suffix = item["suffix"]
        elif isinstance(get(item, "wildcard"), str):
            prefix = item["wildcard"].split("*", 1)[0]
        elif isinstance(item, str):
            prefix = item
    for bucket in template.resources_of(BUCKET_TYPE):
        enabled = get(
            bucket.properties,
            "NotificationConfiguration",
            "EventBridgeConfiguration",
            "EventBridgeEnabled",
        )
        if as_bool(enabled) is not True:
            continue
        if names is None or (
            isinstance(names, list)
            and any(bucket_named(template, bucket, render(template, n)) for n in names)
        ):
            yield bucket.logical_id, prefix, suffix


def bucket_names(template: Template, bucket: Resource) -> tuple[str, ...]:
    """The symbolic names a bucket goes by: `${Bucket}`, its rendered BucketName, and
    that name with the parameters' literal defaults in place (`${Name}` ->
    `example-uploads`: a policy may spell the deployed name out)."""
    names = ["${" + bucket.logical_id + "}"]
    rendered = render(template, bucket.properties.get("BucketName"))
    if rendered:
        names.append(rendered)
        with_defaults = _PARAMETER.sub(lambda m: _default(template, m), rendered)
        if with_defaults != rendered:
            names.append(with_defaults)
    return tuple(names)


_PARAMETER = re.compile(r"\$\{([^}.]+)\}")


def _default(template: Template, match: re.Match[str]) -> str:
    default = get(template.parameters.get(match.group(1)), "Default")
    return str(default) if isinstance(default, str | int) else match.group(0)


def bucket_named(template: Template, bucket: Resource, name: str | None) -> bool:
    return name is not None and name in bucket_names(template, bucket)


def bucket_arn_matches(template: Template, bucket: Resource, value: Any) -> bool | None:
    """Whether an ARN value (a permission's SourceArn) may name the bucket; None if unknown."""
    text = render(template, value)
    if text is None:
        return None
    return any(globs_intersect(text, f"arn:aws:s3:::{n}") for n in bucket_names(template, bucket))


class Loop(NamedTuple):
    trigger: S3Trigger
    holder: str  # the role (or SAM function) whose statement allows the write
    statement: Statement
    resource: str  # the rendered Resource that covers the trigger's keys


def _covers(template: Template, trigger: S3Trigger, text: str) -> bool:
    bucket = template.resources[trigger.bucket]
    return any(
        globs_intersect(text, f"arn:aws:s3:::{name}/{trigger.prefix}*{trigger.suffix}")
        for name in bucket_names(template, bucket)
    )


def recursive_loops(template: Template) -> list[Loop]:
    """Function triggered by a bucket's object-created events whose permissions allow
    `s3:PutObject` on keys of that bucket that the trigger's filter lets through."""
    return template.memoize("security.loops.loops", lambda: list(_loops(template)))


def _loops(template: Template) -> Iterator[Loop]:
    table = role_statements(template)
    for trigger in s3_triggers(template):
        function = template.resources.get(trigger.function)
        if function is None or function.type not in FUNCTION_TYPES or not trigger.object_created:
            continue
        found = _first_write(template, trigger, function, table)
        if found is not None:
            yield found


def _first_write(
    template: Template,
    trigger: S3Trigger,
    function: Resource,
    table: dict[str, list[Statement]],
) -> Loop | None:
    for holder in function_roles(template, function):
        for statement in table.get(holder, []):
            if statement.not_resource or not allows_action(statement, WRITE_ACTION):
                continue
            for value in statement.resources:
                text = render(template, value)
                if text is not None and _covers(template, trigger, text):
                    return Loop(trigger, holder, statement, text)
    return None
