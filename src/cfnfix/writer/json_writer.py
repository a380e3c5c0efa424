"""Render planned operations as text edits to a JSON file, in its indent and separators."""

from __future__ import annotations

import json
from typing import Any

from cfnfix.errors import FixError
from cfnfix.nodes import MapNode, Path, SeqNode, child_span, get_path
from cfnfix.writer.diff import changed_parts
from cfnfix.writer.edits import TextEdit
from cfnfix.writer.plan import Op
from cfnfix.writer.style import JsonStyle


class JsonWriter:
    def __init__(self, text: str, root: MapNode, style: JsonStyle, newline: str) -> None:
        self.text = text
        self.root = root
        self.style = style
        self.nl = newline

    def line_indent(self, offset: int) -> str:
        start = self.text.rfind("\n", 0, offset) + 1
        line = self.text[start:offset]
        return line[: len(line) - len(line.lstrip(" \t"))]

    def multiline(self, start: int, end: int) -> bool:
        return "\n" in self.text[start:end]

    def dumps(self, value: Any, indent: str, multiline: bool = True) -> str:
        if not multiline:
            return json.dumps(
                value, ensure_ascii=False, separators=(", ", self.style.key_separator)
            )
        text = json.dumps(
            value,
            ensure_ascii=False,
            indent=self.style.indent,
            separators=(",", self.style.key_separator),
        )
        return text.replace("\n", self.nl + indent)

    def member(self, key: str, value: Any, indent: str, multiline: bool = True) -> str:
        return (
            json.dumps(key, ensure_ascii=False)
            + self.style.key_separator
            + self.dumps(value, indent, multiline)
        )

    def render(self, op: Op) -> list[TextEdit]:
        node = get_path(self.root, op.path)
        if op.kind == "comment":
            raise FixError("JSON has no comments")
        if op.kind == "insert":
            assert isinstance(node, MapNode) and isinstance(op.key, str)
            return [self.insert(node, op.key, op.value, op.before)]
        if op.kind == "append":
            assert isinstance(node, SeqNode)
            return [self.append(node, op.value)]
        if op.kind == "replace":
            parts = changed_parts(op.path, node, op.value) or [(op.path, op.value)]
            return [self.replace(path, value) for path, value in parts]
        if op.kind == "remove_key":
            assert isinstance(node, MapNode) and isinstance(op.key, str)
            keys = list(node)
            spans = [(node.key_span(k)[0], node.value_span(k)[1]) for k in keys]
            return [self._remove(spans, keys.index(op.key))]
        assert isinstance(node, SeqNode) and isinstance(op.key, int)
        return [self._remove(node.item_spans, op.key)]

    def replace(self, path: Path, value: Any) -> TextEdit:
        parent = get_path(self.root, path[:-1])
        span = child_span(parent, path[-1])
        indent = self.line_indent(span[0])
        # inside a collection written on one line, the new value stays on one line
        one_line = not self.multiline(parent.start, parent.end)
        return TextEdit(span[0], span[1], self.dumps(value, indent, not one_line))

    def _remove(self, spans: list[tuple[int, int]], index: int) -> TextEdit:
        if len(spans) < 2:
            raise FixError("cannot remove the only member")
        if index > 0:
            return TextEdit(spans[index - 1][1], spans[index][1], "")
        return TextEdit(spans[0][0], spans[1][0], "")

    def insert(self, node: MapNode, key: str, value: Any, before: str | None) -> TextEdit:
        if not node:
            indent = self.line_indent(node.start)
            inner = indent + self.style.indent
            body = self.member(key, value, inner)
            return TextEdit(
                node.start, node.end, "{" + self.nl + inner + body + self.nl + indent + "}"
            )
        keys = list(node)
        first = node.key_span(keys[0])[0]
        if not self.multiline(node.start, first):
            last_end = node.value_span(keys[-1])[1]
            return TextEdit(last_end, last_end, ", " + self.member(key, value, "", False))
        indent = self.line_indent(first)
        if before is not None and before in node:
            at = node.key_span(before)[0]
            return TextEdit(at, at, self.member(key, value, indent) + "," + self.nl + indent)
        last_end = node.value_span(keys[-1])[1]
        return TextEdit(
            last_end, last_end, "," + self.nl + indent + self.member(key, value, indent)
        )

    def append(self, node: SeqNode, value: Any) -> TextEdit:
        if not node:
            indent = self.line_indent(node.start)
            inner = indent + self.style.indent
            return TextEdit(
                node.start,
                node.end,
                "[" + self.nl + inner + self.dumps(value, inner) + self.nl + indent + "]",
            )
        first = node.item_span(0)[0]
        last_end = node.item_span(-1)[1]
        if not self.multiline(node.start, first):
            return TextEdit(last_end, last_end, ", " + self.dumps(value, "", False))
        indent = self.line_indent(first)
        # items written one per line, each on a single line: the new one too
        compact = all(not self.multiline(s, e) for s, e in node.item_spans)
        rendered = self.dumps(value, indent, multiline=not compact)
        return TextEdit(last_end, last_end, "," + self.nl + indent + rendered)
