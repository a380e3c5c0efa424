"""Render new YAML fragments (values a fix adds) in a file's own style."""

from __future__ import annotations

import dataclasses
import json
import re
from functools import lru_cache
from typing import Any

from cfnfix import pyyaml  # noqa: F401  (before yaml: see cfnfix.pyyaml)

# isort: split
import yaml

from cfnfix.intrinsics import LONG_TO_SHORT, function_of
from cfnfix.writer.style import YamlStyle

_resolver = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
_FLOW_SPECIAL = set(",[]{}")
# Numbers under YAML 1.2 that YAML 1.1 reads as strings (`1e3`, `0o17`): quoted, so that
# every tool reads the value as the string CloudFormation sees.
_YAML12_NUMBER = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)
# Rendered in long form even in short-form files (`!Condition` trips some tools up).
_LONG_ONLY = {"Condition"}


@lru_cache(maxsize=4096)  # fixes write the same keys and names over and over
def _plain_ok(text: str, flow: bool) -> bool:
    if not text or text != text.strip() or text[0] in _INDICATORS:
        return False
    if _resolver.resolve(yaml.ScalarNode, text, (True, False)) != _STR_TAG:  # type: ignore[no-untyped-call]
        return False
    if _YAML12_NUMBER.fullmatch(text):
        return False
    if ": " in text or " #" in text or text.endswith(":") or "\t" in text:
        return False
    if not text.isprintable():
        return False
    return not (flow and not _FLOW_SPECIAL.isdisjoint(text))


def scalar(value: Any, style: YamlStyle, flow: bool = False) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if style.value_quote and isinstance(value, str):
        kept = quoted(text, style.value_quote)
        if kept is not None:
            return kept
    if _plain_ok(text, flow):
        return text
    if style.quote == "'" and text.isprintable():
        return "'" + text.replace("'", "''") + "'"
    return json.dumps(text, ensure_ascii=False)


def quoted(text: str, quote: str) -> str | None:
    """``text`` in the given quotes; ``None`` when single quotes cannot hold it."""
    if quote == '"':
        return json.dumps(text, ensure_ascii=False)
    if not text.isprintable():
        return None
    return "'" + text.replace("'", "''") + "'"


def sub_text(value: Any, style: YamlStyle) -> str | None:
    """The text of a ``Fn::Sub`` of one string, in a file that writes ``!Sub``."""
    fn = function_of(value)
    if fn is None or fn[0] != "Fn::Sub" or not isinstance(fn[1], str) or not style.short_tags:
        return None
    return fn[1]


def _short_form(value: Any, style: YamlStyle) -> tuple[str, Any] | None:
    fn = function_of(value)
    if fn is None or not style.short_tags or fn[0] in _LONG_ONLY:
        return None
    return LONG_TO_SHORT[fn[0]], fn[1]


def inline(value: Any, style: YamlStyle, flow: bool = False) -> str | None:
    """One-line rendering of ``value``; ``None`` when it needs block style.

    Inside ``flow`` context everything renders inline (flow collections).
    """
    short = _short_form(value, style)
    if short is not None:
        tag, arg = short
        if not flow and _holds_mapping(arg):
            return None  # `!If` over whole mappings reads better in block style
        if tag == "!GetAtt" and isinstance(arg, list) and [type(a) for a in arg] == [str, str]:
            return f"{tag} {arg[0]}.{arg[1]}"
        # Intrinsic arguments are names and expressions: no quotes unless needed.
        rendered = inline(arg, _unquoted(style), flow=True)
        return f"{tag} {rendered}"
    if isinstance(value, dict):
        if not value:
            return "{}"
        if not flow:
            return None
        items = (f"{key_text(k, style, True)}: {inline(v, style, True)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        if not flow:
            return None
        return "[" + ", ".join(str(inline(v, style, True)) for v in value) + "]"
    return scalar(value, style, flow)


@lru_cache(maxsize=8)
def _unquoted(style: YamlStyle) -> YamlStyle:
    """``style`` for names and intrinsic arguments: no quotes unless needed."""
    return dataclasses.replace(style, value_quote="")


def _holds_mapping(arg: Any) -> bool:
    """Whether an intrinsic's argument has a non-empty plain mapping among its items."""
    items = arg if isinstance(arg, list) else [arg]
    return any(isinstance(i, dict) and i and function_of(i) is None for i in items)


def key_text(key: str, style: YamlStyle, flow: bool = False) -> str:
    """A mapping key, quoted like the file's keys when it quotes them."""
    if style.key_quote:
        quoted_key = quoted(key, style.key_quote)
        if quoted_key is not None:
            return quoted_key
    return scalar(key, _unquoted(style), flow)


def entry(key: str, value: Any, column: int, style: YamlStyle, newline: str) -> str:
    """``key: value`` at ``column`` (no leading or trailing newline)."""
    pad = " " * column
    head = f"{pad}{key_text(key, style)}:"
    one_line = inline(value, style)
    if one_line is not None:
        return f"{head} {one_line}"
    short = _short_form(value, style)
    if short is not None:  # `key: !If` with its arguments in block style below
        tag, arg = short
        return f"{head} {tag}" + newline + block(arg, column, style, newline)
    return head + newline + block(value, column, style, newline)


def block(value: Any, parent_column: int, style: YamlStyle, newline: str) -> str:
    """A mapping or sequence as the block value of a key at ``parent_column``."""
    if isinstance(value, dict):
        column = parent_column + style.map_indent
        return newline.join(entry(k, v, column, style, newline) for k, v in value.items())
    assert isinstance(value, list)
    return items(value, parent_column + style.dash_offset, style, newline)


def items(values: list[Any], dash_column: int, style: YamlStyle, newline: str) -> str:
    return newline.join(item(v, dash_column, style, newline) for v in values)


def item(value: Any, dash_column: int, style: YamlStyle, newline: str) -> str:
    """``- value`` with its dash at ``dash_column``."""
    offset = max(2, style.item_offset)  # "-" alone on its line can have offset 1
    content_column = dash_column + offset
    dash = " " * dash_column + "-" + " " * (offset - 1)
    one_line = inline(value, style)
    if one_line is not None:
        return dash + one_line
    short = _short_form(value, style)
    if short is not None:
        tag, arg = short
        if isinstance(arg, list):  # `- !If` with its items right under the tag
            return dash + tag + newline + items(arg, content_column, style, newline)
        return dash + tag + newline + block(arg, content_column, style, newline)
    if isinstance(value, dict):
        body = newline.join(entry(k, v, content_column, style, newline) for k, v in value.items())
        return dash + body[content_column:]
    return dash + str(inline(value, style, flow=True))


def map_body(value: dict[str, Any], column: int, style: YamlStyle, newline: str) -> str:
    """The entries of a mapping at ``column``, first line unindented (after a dash)."""
    body = newline.join(entry(k, v, column, style, newline) for k, v in value.items())
    return body[column:]
