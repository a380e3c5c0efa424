"""Load JSON into the span-aware model (the standard library gives no positions)."""

from __future__ import annotations

import re
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

from cfnfix.errors import LoadError
from cfnfix.nodes import MapNode, SeqNode, line_col

MAX_DEPTH = 400
_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}


class _Parser:
    def __init__(self, text: str, max_depth: int = MAX_DEPTH) -> None:
        self.text = text
        self.max_depth = max_depth

    def fail(self, message: str, offset: int) -> LoadError:
        return LoadError(f"invalid JSON: {message}", *line_col(self.text, offset))

    def skip(self, pos: int) -> int:
        match = _WS.match(self.text, pos)
        return match.end() if match else pos

    def value(self, pos: int, depth: int) -> tuple[Any, int]:
        """Parse a value starting at ``pos`` (no leading whitespace); return (value, end)."""
        text = self.text
        if depth > self.max_depth:
            raise self.fail(f"nesting deeper than {self.max_depth} levels", pos)
        char = text[pos : pos + 1]
        if char == "{":
            return self.object(pos, depth)
        if char == "[":
            return self.array(pos, depth)
        if char == '"':
            try:
                string, end = scanstring(text, pos + 1, True)
                return string, end
            except ValueError as exc:
                raise self.fail(str(exc).split(":")[0], pos) from None
        for word, literal in _LITERALS.items():
            if text.startswith(word, pos):
                return literal, pos + len(word)
        match = _NUMBER.match(text, pos)
        if match:
            number = match.group()
            is_float = match.group(1) or match.group(2)
            return (float(number) if is_float else int(number)), match.end()
        raise self.fail("expected a value" if char else "unexpected end of file", pos)

    def object(self, start: int, depth: int) -> tuple[MapNode, int]:
        text = self.text
        node = MapNode(start, start, flow=True)
        pos = self.skip(start + 1)
        if text.startswith("}", pos):
            node.end = pos + 1
            return node, pos + 1
        while True:
            if pos >= len(text):
                raise self.fail("unexpected end of file", pos)
            if not text.startswith('"', pos):
                raise self.fail("expected a quoted key", pos)
            key_start = pos
            key, key_end = self.value(pos, depth + 1)
            if key in node:
                raise self.fail(f"duplicate key {key!r}", pos)
            pos = self.skip(key_end)
            if not text.startswith(":", pos):
                raise self.fail("expected ':'", pos)
            pos = self.skip(pos + 1)
            value, end = self.value(pos, depth + 1)
            node.add(key, value, (key_start, key_end), (pos, end))
            pos = self.skip(end)
            if text.startswith(",", pos):
                pos = self.skip(pos + 1)
            elif text.startswith("}", pos):
                node.end = pos + 1
                return node, pos + 1
            else:
                raise self.fail(
                    "expected ',' or '}'" if pos < len(text) else "unexpected end of file", pos
                )

    def array(self, start: int, depth: int) -> tuple[SeqNode, int]:
        text = self.text
        node = SeqNode(start, start, flow=True)
        pos = self.skip(start + 1)
        if text.startswith("]", pos):
            node.end = pos + 1
            return node, pos + 1
        while True:
            value, end = self.value(pos, depth + 1)
            node.add(value, (pos, end))
            pos = self.skip(end)
            if text.startswith(",", pos):
                pos = self.skip(pos + 1)
            elif text.startswith("]", pos):
                node.end = pos + 1
                return node, pos + 1
            else:
                raise self.fail(
                    "expected ',' or ']'" if pos < len(text) else "unexpected end of file", pos
                )


def load_json(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse a JSON document into the model. Raises :class:`LoadError`."""
    parser = _Parser(text, max_depth)
    pos = parser.skip(0)
    if pos == len(text):
        raise LoadError("empty document")
    value, end = parser.value(pos, 0)
    end = parser.skip(end)
    if end != len(text):
        raise parser.fail("extra data after the document", end)
    return value
