"""Detect how a file is written, so inserted text looks like its neighbours."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from cfnfix.nodes import MapNode, SeqNode, column_of

_SHORT = re.compile(r"!(?:Ref|Sub|GetAtt|Join|If|Select|Split|FindInMap|Equals|ImportValue)\b")
# Counted, not matched: a leading optional quote (`"Ref":`) adds nothing but makes every
# position of the text a candidate start (three times slower).
_LONG = re.compile(r"(?<!\w)(?:Ref|Fn::[A-Za-z]+)[\"']?\s*:")
_JSON_KEY_SEP = re.compile(r"\"\s*:( ?)")


@dataclass(frozen=True)
class YamlStyle:
    map_indent: int = 2  # columns from a key to the keys of its mapping value
    dash_offset: int = 2  # columns from a key to the dashes of its sequence value
    item_offset: int = 2  # columns from a dash to the item's content
    quote: str = "'"  # preferred quote character when quoting is needed
    short_tags: bool = True  # `!Ref X` rather than `Ref: X`
    key_quote: str = ""  # files that quote their keys (`"Type": ...`): the quote used
    value_quote: str = ""  # files that quote every string value: the quote used


@dataclass(frozen=True)
class JsonStyle:
    indent: str = "  "
    key_separator: str = ": "


def dash_column(text: str, item_start: int) -> int | None:
    """The column of the ``-`` introducing a block sequence item, if it is on its line."""
    line_start = text.rfind("\n", 0, item_start) + 1
    prefix = text[line_start:item_start].rstrip()
    if not prefix and line_start > 0:  # "-" alone on the line above the item
        above = text.rfind("\n", 0, line_start - 1) + 1
        prefix = text[above : line_start - 1].rstrip("\r").rstrip()
        if prefix.strip() != "-":
            return None
    if prefix.endswith("-") and prefix[:-1].strip(" -") == "":
        return len(prefix) - 1
    return None


# Style is judged from this many block mappings: plenty of evidence for any file, and
# the cost of detection stays bounded however large the template is.
STYLE_SAMPLE = 500


def detect_yaml_style(text: str, root: MapNode) -> YamlStyle:
    """The prevailing indentation, quoting and intrinsic form, judged from the text's
    quotes and tags and from at most :data:`STYLE_SAMPLE` block mappings (the root, then
    depth first from its last entry: ties go to what the walk meets first)."""
    map_indents: Counter[int] = Counter()
    dash_offsets: Counter[int] = Counter()
    item_offsets: Counter[int] = Counter()
    key_quotes: Counter[str] = Counter()
    value_quotes: Counter[str] = Counter()
    stack: list[MapNode | SeqNode] = [root]
    sampled = 0
    while stack and sampled < STYLE_SAMPLE:
        node = stack.pop()
        if isinstance(node, MapNode) and not node.flow and not node.short_tag:
            sampled += 1
            for _, value, (key_start, _), (value_start, _) in node.entries():
                first_char = text[key_start : key_start + 1]
                key_quotes[first_char if first_char in "'\"" else ""] += 1
                if isinstance(value, str):
                    value_char = text[value_start : value_start + 1]
                    value_quotes[value_char if value_char in "'\"" else ""] += 1
                key_col = column_of(text, key_start)
                if isinstance(value, MapNode) and value and not value.flow and not value.short_tag:
                    _, _, (first_start, _), _ = next(value.entries())
                    diff = column_of(text, first_start) - key_col
                    if diff > 0:
                        map_indents[diff] += 1
                elif isinstance(value, SeqNode) and value and not value.flow:
                    item_start = value.item_span(0)[0]
                    dash = dash_column(text, item_start)
                    if dash is not None and dash >= key_col:
                        dash_offsets[dash - key_col] += 1
                        item_offsets[column_of(text, item_start) - dash] += 1
        for child in node.values() if isinstance(node, MapNode) else node:
            if isinstance(child, (MapNode, SeqNode)) and not child.shared:
                stack.append(child)
    singles = text.count(": '") + text.count("- '")
    doubles = text.count(': "') + text.count('- "')
    short = len(_SHORT.findall(text))
    long = len(_LONG.findall(text))
    return YamlStyle(
        map_indent=map_indents.most_common(1)[0][0] if map_indents else 2,
        dash_offset=dash_offsets.most_common(1)[0][0] if dash_offsets else 2,
        item_offset=item_offsets.most_common(1)[0][0] if item_offsets else 2,
        quote='"' if doubles > singles else "'",
        short_tags=short >= long,
        key_quote=_prevailing_quote(key_quotes),
        value_quote=_prevailing_quote(value_quotes),
    )


def _prevailing_quote(counts: Counter[str]) -> str:
    """The quote that at least 80% of (and five or more) scalars are written with."""
    total = sum(counts.values())
    for quote in ("'", '"'):
        if counts[quote] >= 5 and counts[quote] >= 0.8 * total:
            return quote
    return ""


def detect_json_style(text: str, root: MapNode) -> JsonStyle:
    indent = "  "
    if root:
        first = next(iter(root))
        key_start = root.key_span(first)[0]
        line_start = text.rfind("\n", 0, key_start) + 1
        prefix = text[line_start:key_start]
        if line_start > root.start and prefix and not prefix.strip():
            indent = prefix
    seps = Counter(m.group(1) for m in _JSON_KEY_SEP.finditer(text, 0, min(len(text), 20000)))
    return JsonStyle(indent=indent, key_separator=":" if seps[""] > seps[" "] else ": ")
