"""What the cost rules need to know about Lambda functions: their effective settings and
how bursty their asynchronous callers are. No rule lives here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cfnfix_rules.dead_letter._invocation import invokers
from cfnfix_rules.dead_letter._refs import FUNCTION_TYPES, get, referenced_ids
from cfnfix_rules.retention._values import plain_properties

from cfnfix.template import Resource, Template

_NAMED = re.compile(r"^(?P<kind>.+?) (?P<id>[A-Za-z0-9]+)(?: \((?P<service>[a-z0-9-]+)\))?$")


def readable_functions(template: Template) -> Iterator[tuple[Resource, dict[str, Any]]]:
    """Each function whose properties can be read, with SAM ``Globals`` merged in."""
    for function in template.resources_of(*FUNCTION_TYPES):
        if plain_properties(function):
            yield function, template.effective_properties(function)


def _is_schedule_rule(template: Template, value: Any) -> bool:
    for name in referenced_ids(value):
        rule = template.resources.get(name)
        if rule is not None and rule.type == "AWS::Events::Rule":
            props = rule.properties
            return "ScheduleExpression" in props and "EventPattern" not in props
    return False


def _scheduled(template: Template, description: str) -> bool:
    """Whether an asynchronous caller fires on a schedule (one event at a time)."""
    if description.startswith(("Schedule event ", "ScheduleV2 event ", "EventBridge Scheduler")):
        return True
    match = _NAMED.match(description)
    if match is None:
        return False
    resource = template.resources.get(match.group("id"))
    if resource is None:
        return False
    if match.group("kind") == "EventBridge rule":
        return _is_schedule_rule(template, {"Ref": resource.logical_id})
    if match.group("kind") == "permission":
        service = match.group("service")
        return service == "scheduler" or (
            service == "events"
            and _is_schedule_rule(template, get(resource.properties, "SourceArn"))
        )
    return False


def bursty_callers(template: Template, function: Resource) -> list[str]:
    """The asynchronous callers of ``function`` that may send many events at once
    (S3 notifications, SNS, event patterns, IoT, log subscriptions...; not schedules)."""
    return [
        invoker.description
        for invoker in invokers(template).get(function.logical_id, [])
        if invoker.mode == "async" and not _scheduled(template, invoker.description)
    ]


def invocation_modes(template: Template, function: Resource) -> set[str]:
    return {i.mode for i in invokers(template).get(function.logical_id, [])}
