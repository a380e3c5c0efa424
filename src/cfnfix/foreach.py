"""`Fn::ForEach` loops (the `AWS::LanguageExtensions` transform), expanded for checking.

A loop in `Resources`::

    Fn::ForEach::Topics:
      - Name                      # the identifier
      - [Orders, Invoices]        # the collection (or a Ref to a CommaDelimitedList)
      - Topic${Name}:             # the output key, and the body it stands for
          Type: AWS::SNS::Topic

stands for the resources `TopicOrders` and `TopicInvoices`, as CloudFormation expands it
at deploy time: `${Name}` (and `&{Name}`, the value with non-alphanumeric characters
removed) in output keys and `Fn::Sub` strings, and `Ref: Name`, become the value.

The expanded bodies are copies of the body's nodes with the body's spans, so findings
on them point at the loop body's lines. Each expanded resource remembers the path of its
body in the real document (:class:`Expanded`): locations map through it, and the writer
refuses to edit a resource that exists only in the expansion.
"""

from __future__ import annotations

import re
from typing import Any, Final

from cfnfix.nodes import MapNode, Path, SeqNode
from cfnfix.records import FrozenRecord

TRANSFORM = "AWS::LanguageExtensions"
PREFIX = "Fn::ForEach::"
_MAX_RESOURCES = 5000  # a loop that expands to more is not expanded


class Expanded(FrozenRecord):
    """A resource an `Fn::ForEach` loop stands for."""

    __match_args__ = ("logical_id", "node", "body_path")
    __slots__ = __match_args__

    def __init__(self, logical_id: str, node: Any, body_path: Path) -> None:
        self.logical_id: Final = logical_id
        self.node: Final = node
        self.body_path: Final = body_path  # the loop body's path in the real document


def _collection(value: Any, parameters: dict[str, Any]) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return [str(v) for v in value]
    if isinstance(value, dict) and set(value) == {"Ref"}:
        body = parameters.get(str(value["Ref"]))
        default = body.get("Default") if isinstance(body, dict) else None
        if isinstance(default, str):
            return [item.strip() for item in default.split(",")]
        if isinstance(default, list) and all(isinstance(v, str) for v in default):
            return list(default)
    return None


def _replace_names(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
        text = text.replace("&{" + name + "}", re.sub(r"[^A-Za-z0-9]", "", value))
    return text


def _text_first(seq: SeqNode) -> bool:
    return bool(seq) and isinstance(seq[0], str)


def _substitute(value: Any, values: dict[str, str]) -> Any:
    """A copy of ``value`` with the loop identifiers replaced (spans kept)."""
    if isinstance(value, MapNode):
        if set(value) == {"Ref"} and value.get("Ref") in values:
            return values[value["Ref"]]
        copy = MapNode(value.start, value.end, value.flow)
        copy.short_tag = value.short_tag
        copy.shared = value.shared
        for key, item in value.items():
            if key == "Fn::Sub" and isinstance(item, str):
                new = _replace_names(item, values)
            elif (
                key == "Fn::Sub" and isinstance(item, SeqNode) and item and isinstance(item[0], str)
            ):
                new = _substitute(item, values)
                new[0] = _replace_names(item[0], values)
            else:
                new = _substitute(item, values)
            copy.add(key, new, value.key_span(key), value.value_span(key))
        return copy
    if isinstance(value, SeqNode):
        seq = SeqNode(value.start, value.end, value.flow)
        seq.shared = value.shared
        for index, item in enumerate(value):
            seq.add(_substitute(item, values), value.item_span(index))
        return seq
    return value


def _expand(
    key: str,
    loop: Any,
    path: Path,
    values: dict[str, str],
    parameters: dict[str, Any],
    out: list[Expanded],
) -> None:
    if not (isinstance(loop, list) and len(loop) == 3 and isinstance(loop[0], str)):
        return
    identifier, collection, outputs = loop
    items = _collection(collection, parameters)
    if items is None or not isinstance(outputs, MapNode):
        return
    for item in items:
        scope = {**values, identifier: item}
        for output_key, body in outputs.items():
            body_path = (*path, key, 2, output_key)
            if output_key.startswith(PREFIX):  # a nested loop
                _expand(output_key, body, (*path, key, 2), scope, parameters, out)
            elif isinstance(body, MapNode) and len(out) < _MAX_RESOURCES:
                name = _replace_names(output_key, scope)
                out.append(Expanded(name, _substitute(body, scope), body_path))


def expand_resources(resources: dict[str, Any], parameters: dict[str, Any]) -> list[Expanded]:
    """The resources the `Fn::ForEach` loops of a `Resources` section stand for."""
    out: list[Expanded] = []
    for key, loop in resources.items():
        if key.startswith(PREFIX):
            _expand(key, loop, ("Resources",), {}, parameters, out)
    return out
