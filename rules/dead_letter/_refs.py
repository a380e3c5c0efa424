"""Reference helpers of the dead-letter family: what a value points at.

Everything here reads plain template values (no text); nothing here is a rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from cfnfix.intrinsics import function_of, sub_parts, sub_variables
from cfnfix.nodes import Path, walk
from cfnfix.template import Resource, Template

FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")
QUEUE_TYPE = "AWS::SQS::Queue"
SQS_DEFAULT_RETENTION = 345_600  # 4 days, when MessageRetentionPeriod is not set
SQS_MAX_RETENTION = 1_209_600  # 14 days


def referenced_ids(value: Any) -> list[str]:
    """Logical ids (and parameter names) that ``value`` refers to, in order, once each.

    ``Ref``, ``Fn::GetAtt`` and the ``${...}`` of ``Fn::Sub`` count, anywhere below
    ``value``; ``Ref: Fn.Alias`` (SAM) counts as ``Fn``. Pseudo parameters are skipped.
    """
    found: list[str] = []
    for _, name, _ in references(value):
        if not name.startswith("AWS::") and name not in found:
            found.append(name)
    return found


def references(value: Any, path: Path = ()) -> Iterator[tuple[Path, str, str]]:
    """``(path of the intrinsic, logical id or parameter, spelling)`` of each reference
    below ``value`` (``path`` is where ``value`` is): ``Ref``, ``Fn::GetAtt`` and the
    ``${...}`` of ``Fn::Sub``; the name is without its attribute, the spelling as written
    (``!GetAtt Fn.Arn``, ``${Bucket.Arn}``)."""
    fn = function_of(value)
    if fn is not None:
        key, arg = fn
        if key == "Ref" and isinstance(arg, str):
            yield path, arg, f"!Ref {arg}"
            return
        if key == "Fn::GetAtt":
            name = arg.split(".", 1)[0] if isinstance(arg, str) else None
            if isinstance(arg, list) and arg and isinstance(arg[0], str):
                name = arg[0]
                arg = ".".join(str(a) for a in arg)
            if name is not None:
                yield path, name, f"!GetAtt {arg}"
                return
        if key == "Fn::Sub":
            parts = sub_parts(value)
            if parts is not None:
                text, variables = parts
                for name in sub_variables(text):
                    if name not in variables:
                        yield path, name.split(".", 1)[0], "${" + name + "}"
                arg_path = (*path, "Fn::Sub", 1) if isinstance(arg, list) else path
                for var, item in variables.items():
                    yield from references(item, (*arg_path, var))
                return
        yield from references(arg, (*path, key))
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from references(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from references(item, (*path, index))


def sub_text(value: Any) -> Any:
    """The template string of a ``Fn::Sub``; any other value as it is."""
    parts = sub_parts(value)
    return parts[0] if parts else value


def resources_referenced(template: Template, value: Any, *types: str) -> list[Resource]:
    """The template's resources of ``types`` that ``value`` refers to."""
    result = []
    for name in referenced_ids(value):
        resource = template.resources.get(name)
        if resource is not None and (not types or resource.type in types):
            result.append(resource)
    return result


def function_ids(template: Template, value: Any, depth: int = 0) -> list[str]:
    """The Lambda functions of the template that ``value`` names.

    Follows aliases and versions to their function and matches a literal function name
    (or an ARN ending in it) or a ``FunctionName`` spelled exactly as the function's.
    """
    found: list[str] = []
    if value is None or depth > 3:
        return found
    for resource in resources_referenced(template, value):
        if resource.type in FUNCTION_TYPES:
            found.append(resource.logical_id)
        elif resource.type in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
            found += function_ids(template, resource.properties.get("FunctionName"), depth + 1)
    if not found:
        for function in template.resources_of(*FUNCTION_TYPES):
            name = function.properties.get("FunctionName")
            if name is None:
                continue
            if value == name or (
                isinstance(value, str) and isinstance(name, str) and _names_function(value, name)
            ):
                found.append(function.logical_id)
    return list(dict.fromkeys(found))


def _names_function(text: str, name: str) -> bool:
    if text == name:
        return True
    marker = f":function:{name}"
    return text.endswith(marker) or f"{marker}:" in text


def as_bool(value: Any) -> bool | None:
    """A literal boolean (``"true"`` counts), else ``None``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def as_int(value: Any) -> int | None:
    """A literal integer (``"60"`` counts), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def json_value(value: Any) -> Any:
    """A ``Json`` property as data: a JSON string is decoded, anything else returned."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def queue_fifo(queue: Resource) -> bool | None:
    """Whether a queue is FIFO: ``True``/``False`` when known, ``None`` when an expression."""
    value = queue.properties.get("FifoQueue")
    if value is None:
        return False
    return as_bool(value)


def queue_retention(queue: Resource) -> int | None:
    """A queue's MessageRetentionPeriod in seconds when known."""
    value = queue.properties.get("MessageRetentionPeriod")
    if value is None:
        return SQS_DEFAULT_RETENTION
    return as_int(value)


def topic_fifo(topic: Resource) -> bool | None:
    value = topic.properties.get("FifoTopic")
    if value is None:
        return False
    return as_bool(value)


def has_value(value: Any) -> bool:
    """Whether a property is really set (not absent, null, empty or ``AWS::NoValue``)."""
    if value is None or value == "" or value == {} or value == []:
        return False
    return bool(value != {"Ref": "AWS::NoValue"})


def get(value: Any, *keys: str) -> Any:
    """``value[k1][k2]...`` through mappings, ``None`` when any step is missing."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def sam_events(resource: Resource) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(event name, event type, event properties)`` of a SAM function or state machine."""
    events = resource.properties.get("Events")
    if not isinstance(events, dict):
        return
    for name, event in events.items():
        if not isinstance(event, dict) or not isinstance(event.get("Type"), str):
            continue
        props = event.get("Properties")
        yield name, event["Type"], props if isinstance(props, dict) else {}


_DLQ_KEYS = ("deadletter", "onfailure", "redrivepolicy", "dlq")


@lru_cache(maxsize=4096)  # a template repeats its keys many times
def _is_dlq_key(key: str) -> bool:
    lowered = key.lower()
    return "redriveallow" not in lowered and any(k in lowered for k in _DLQ_KEYS)


def dead_letter_uses(template: Template) -> dict[str, list[tuple[str, tuple[str | int, ...]]]]:
    """Queue logical id -> where it is used as a dead-letter queue or failure destination.

    Computed once per template (several rules ask); callers must not modify it.
    """
    return template.memoize("dead-letter-uses", lambda: _dead_letter_uses(template))


def below_keys(value: Any, path: Path, wanted: Callable[[str], bool]) -> Iterator[tuple[Path, Any]]:
    """``(path, value)`` of each value below a mapping key that is ``wanted`` (the
    outermost such key; in document order): what a walk of ``value`` that looks only at
    nodes with a wanted key in their path would see, one subtree at a time. ``value``
    itself counts when the last key of ``path`` is wanted."""
    if path and isinstance(path[-1], str) and wanted(path[-1]):
        yield path, value
        return
    # A flat walk in document order that neither builds the path of, nor asks about, a
    # scalar outside the wanted subtrees (nearly every node of a template).
    stack: list[tuple[Path, Any, bool]] = [(path, value, False)]
    while stack:
        at, node, hit = stack.pop()
        if hit:
            yield at, node
        elif isinstance(node, dict):
            for key, item in reversed(node.items()):
                if wanted(key):
                    stack.append(((*at, key), item, True))
                elif isinstance(item, (dict, list)):
                    stack.append(((*at, key), item, False))
        elif isinstance(node, list):
            for index in range(len(node) - 1, -1, -1):
                if isinstance(node[index], (dict, list)):
                    stack.append(((*at, index), node[index], False))


def _dead_letter_uses(template: Template) -> dict[str, list[tuple[str, tuple[str | int, ...]]]]:
    """Queue logical id -> where it is used as a dead-letter queue or failure destination.

    Any reference to a queue below a key naming a dead-letter or failure target counts
    (``RedrivePolicy.deadLetterTargetArn``, ``DeadLetterConfig``, SAM ``DeadLetterQueue``,
    ``DestinationConfig.OnFailure``...), in any resource type and in SAM ``Globals``;
    each use is ``(referring logical id or "Globals", path)``.
    """
    queues = {r.logical_id for r in template.resources_of(QUEUE_TYPE)}
    uses: dict[str, list[tuple[str, tuple[str | int, ...]]]] = {}
    sources: list[tuple[str, tuple[str | int, ...], Any]] = [
        (r.logical_id, r.prop_path(), r.properties) for r in template.resources.values()
    ]
    sources.append(("Globals", ("Globals",), template.globals))
    for owner, base, value in sources:
        for below, subtree in below_keys(value, base, _is_dlq_key):
            for path, node in walk(subtree, below):
                if function_of(node) is None and not isinstance(node, str):
                    continue
                data = json_value(node) if isinstance(node, str) else node
                for name in referenced_ids(data):
                    if name in queues and name != owner:
                        uses.setdefault(name, []).append((owner, path))
    return uses
