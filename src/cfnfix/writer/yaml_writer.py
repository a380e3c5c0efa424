"""Render planned operations as text edits to a YAML file.

Every edit is an insertion at a line boundary or a replacement of one node's text;
bytes outside those spans never change.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from cfnfix.errors import FixError
from cfnfix.nodes import MapNode, Path, SeqNode, Span, child_span, column_of, get_path
from cfnfix.writer import yaml_emit as emit
from cfnfix.writer.diff import changed_parts
from cfnfix.writer.edits import TextEdit
from cfnfix.writer.plan import Op
from cfnfix.writer.style import YamlStyle, dash_column

# An entry added to an empty `{}` stays on its line up to this width, else goes block.
MAX_FLOW_WIDTH = 100


class YamlWriter:
    def __init__(self, text: str, root: MapNode, style: YamlStyle, newline: str) -> None:
        self.text = text
        self.root = root
        self.style = style
        self.nl = newline

    # -- text geometry -------------------------------------------------------------

    def column(self, offset: int) -> int:
        return column_of(self.text, offset)

    def line_start(self, offset: int) -> int:
        return self.text.rfind("\n", 0, offset) + 1

    def line_end(self, offset: int) -> int:
        """Offset of the line break ending the line that holds ``offset``."""
        end = self.text.find("\n", offset)
        if end == -1:
            return len(self.text)
        return end - 1 if end > 0 and self.text[end - 1] == "\r" else end

    def after_line(self, offset: int) -> int:
        """Offset of the start of the line after the one holding ``offset``."""
        end = self.text.find("\n", offset)
        return len(self.text) if end == -1 else end + 1

    def last_leaf(self, value: Any, span: Span) -> Span:
        """The span of the last scalar (or flow collection) of a value."""
        if isinstance(value, MapNode) and value and not value.flow:
            last = next(reversed(value))
            return self.last_leaf(value[last], value.value_span(last))
        if isinstance(value, SeqNode) and value and not value.flow:
            return self.last_leaf(value[-1], value.item_span(-1))
        return span

    def block_indicator(self, span: Span) -> int | None:
        """Offset of the ``|`` or ``>`` of a block scalar at ``span``, else ``None``."""
        start, end = span
        pos = start
        text = self.text
        while pos < end and text[pos] in "!&":  # tag or anchor before the scalar
            while pos < end and not text[pos].isspace():
                pos += 1
            while pos < end and text[pos] in " \t":
                pos += 1
        return pos if pos < end and text[pos] in "|>" else None

    def content_end(self, value: Any, span: Span) -> int:
        """Where a value's own text ends (block collections run on to the next token)."""
        start, end = self.last_leaf(value, span)
        indicator = self.block_indicator((start, end))
        if indicator is None:
            return end
        header = self.text[indicator : self.line_end(indicator)].split("#")[0].strip()
        if "+" in header:
            raise FixError("cannot edit next to a block scalar that keeps trailing lines")
        return start + len(self.text[start:end].rstrip())

    def keep_clipped_value(self, value: Any, span: Span, at: int) -> list[TextEdit]:
        """Text after a clipped block scalar ending the file would add a line break to
        its value; strip chomping (``|-``) keeps the value exactly as it was."""
        if at != len(self.text):
            return []
        leaf = self.last_leaf(value, span)
        indicator = self.block_indicator(leaf)
        if indicator is None:
            return []
        header = self.text[indicator : self.line_end(indicator)].split("#")[0].strip()
        if "-" in header:
            return []
        return [TextEdit(indicator + 1, indicator + 1, "-", idempotent=True)]

    def colon_after(self, key_end: int) -> int:
        pos = key_end
        while pos < len(self.text) and self.text[pos] in " \t":
            pos += 1
        if self.text[pos : pos + 1] != ":":
            raise FixError("unusual key syntax")
        return pos

    def node(self, path: Path) -> Any:
        return get_path(self.root, path)

    def in_flow(self, path: Path) -> bool:
        node: Any = self.root
        for key in path:
            if isinstance(node, (MapNode, SeqNode)) and node.flow:
                return True
            node = node[key]
        return False

    # -- operations ----------------------------------------------------------------

    def render(self, op: Op) -> list[TextEdit]:
        if op.kind == "insert":
            assert isinstance(op.key, str)
            return self.insert_key(op.path, op.key, op.value, op.before)
        if op.kind == "append":
            return self.append(op.path, op.value)
        if op.kind == "replace":
            old = self.node(op.path)
            parts = changed_parts(op.path, old, op.value) or [(op.path, op.value)]
            return [self.replace(path, value) for path, value in parts]
        if op.kind == "comment":
            assert isinstance(op.key, int) and isinstance(op.value, int)
            return [self.remove_comment(op.key, op.value)]
        if op.kind == "remove_key":
            assert isinstance(op.key, str)
            return [self.remove_key(op.path, op.key)]
        assert isinstance(op.key, int)
        return [self.remove_item(op.path, op.key)]

    def insert_key(self, path: Path, key: str, value: Any, before: str | None) -> list[TextEdit]:
        mapping = self.node(path)
        assert isinstance(mapping, MapNode)
        if not mapping and mapping.flow and path and not self.in_flow(path):
            # `Properties: {}` in block context: a long entry is written in block style.
            flow = self._insert_flow_key(path, mapping, key, value)
            width = self.column(flow.start) + len(flow.replacement)
            if width + len(self.text[flow.end : self.line_end(flow.end)]) > MAX_FLOW_WIDTH:
                return [self.replace(path, {key: value})]
            return [flow]
        if mapping.flow or not mapping:
            return [self._insert_flow_key(path, mapping, key, value)]
        first = next(iter(mapping))
        column = self.column(mapping.key_span(first)[0])
        text = emit.entry(key, value, column, self.style, self.nl)
        if before is not None and before in mapping:
            at = self.line_start(mapping.key_span(before)[0])
            if self.column(mapping.key_span(before)[0]) != column:
                raise FixError(f"cannot insert before {before!r}")
            at = self._above_comments(at, column)
            separator = self.nl if self._blank_before(at) else ""
            return [TextEdit(at, at, text + self.nl + separator)]
        last = next(reversed(mapping))
        end = self.content_end(mapping[last], mapping.value_span(last))
        at = self.line_end(end)
        # Entries separated by blank lines (resources, often) get one too.
        last_line = self._above_comments(self.line_start(mapping.key_span(last)[0]), column)
        gap = self.nl if len(mapping) > 1 and self._blank_before(last_line) else ""
        return [
            *self.keep_clipped_value(mapping[last], mapping.value_span(last), at),
            TextEdit(at, at, self.nl + gap + text),
        ]

    def _above_comments(self, at: int, column: int) -> int:
        """Move an insertion point above the comment lines that introduce a key: those
        at its column or left of it (a banner at column 0 labels the key below it)."""
        while at > 0:
            previous = self.line_start(at - 1)
            line = self.text[previous:at].rstrip("\r\n")
            if (
                line.strip().startswith("#")
                and self.column(previous + len(line) - len(line.lstrip())) <= column
            ):
                at = previous
            else:
                break
        return at

    def _blank_before(self, at: int) -> bool:
        if at == 0:
            return False
        previous = self.line_start(at - 1)
        return not self.text[previous:at].strip()

    def _insert_flow_key(self, path: Path, mapping: MapNode, key: str, value: Any) -> TextEdit:
        if not mapping.flow:  # an empty block value can only be `{}` here
            raise FixError("cannot insert into this mapping")
        close = self.text.rfind("}", mapping.start, mapping.end)
        if close == -1:
            raise FixError("cannot find the end of a flow mapping")
        rendered = f"{emit.key_text(key, self.style, True)}: {emit.inline(value, self.style, True)}"
        if not mapping:
            return TextEdit(mapping.start, close + 1, "{" + rendered + "}")
        last = next(reversed(mapping))
        end = mapping.value_span(last)[1]
        return TextEdit(end, end, ", " + rendered)

    def append(self, path: Path, value: Any) -> list[TextEdit]:
        seq = self.node(path)
        assert isinstance(seq, SeqNode)
        if seq.flow or not seq:
            if not seq.flow:
                raise FixError("cannot append to this sequence")
            close = self.text.rfind("]", seq.start, seq.end)
            rendered = str(emit.inline(value, self.style, True))
            if not seq:
                return [TextEdit(seq.start, close + 1, "[" + rendered + "]")]
            end = seq.item_span(-1)[1]
            return [TextEdit(end, end, ", " + rendered)]
        first_start = seq.item_span(0)[0]
        dash = dash_column(self.text, first_start)
        if dash is None:
            raise FixError("cannot find the dash of a sequence item")
        style = dataclasses.replace(self.style, item_offset=self.column(first_start) - dash)
        end = self.content_end(seq[-1], seq.item_span(-1))
        at = self.line_end(end)
        return [
            *self.keep_clipped_value(seq[-1], seq.item_span(-1), at),
            TextEdit(at, at, self.nl + emit.item(value, dash, style, self.nl)),
        ]

    def replace(self, path: Path, value: Any) -> TextEdit:
        parent = self.node(path[:-1])
        key = path[-1]
        old = parent[key]
        span = child_span(parent, key)
        end = self.content_end(old, span)
        flow = self.in_flow(path)
        if isinstance(old, str) and not isinstance(old, bool):
            kept = self._scalar_in_place(old, span, end, value, flow)
            if kept is not None:
                return kept
        if flow or (isinstance(parent, MapNode) and parent.short_tag):
            return TextEdit(span[0], end, str(emit.inline(value, self.style, True)))
        one_line = emit.inline(value, self.style)
        if isinstance(parent, MapNode):
            assert isinstance(key, str)
            key_start = parent.key_span(key)[0]
            colon = self.colon_after(parent.key_span(key)[1])
            start = colon + 1
            if not self.text[span[0] : span[1]].strip():  # `Key:` with no value
                end = start
            comments = self._comments_kept(start, max(end, start))
            if one_line is not None:
                return TextEdit(start, max(end, start), " " + one_line + comments)
            column = self.column(key_start)
            block = emit.block(value, column, self.style, self.nl)
            return TextEdit(start, max(end, start), self.nl + block + comments)
        # an item of a block sequence
        if one_line is not None:
            return TextEdit(span[0], end, one_line)
        if isinstance(value, dict):
            column = self.column(span[0])
            return TextEdit(span[0], end, emit.map_body(value, column, self.style, self.nl))
        return TextEdit(span[0], end, str(emit.inline(value, self.style, True)))

    def _comments_kept(self, start: int, end: int) -> str:
        """The comment lines of ``text[start:end]``, to write after its replacement.

        A comment sharing a line with content there cannot be placed: the change is refused.
        """
        kept = []
        for line in self.text[start:end].splitlines():
            if line.lstrip().startswith("#"):
                kept.append(line.rstrip("\r"))
            elif "#" in line:
                raise FixError("the value to replace has a comment on one of its lines")
        return "".join(self.nl + line for line in kept)

    # -- a scalar rewritten in its own style -----------------------------------------

    def _scalar_in_place(
        self, old: str, span: Span, end: int, value: Any, flow: bool
    ) -> TextEdit | None:
        """Replace a string scalar keeping its style: quotes, plain, or a block scalar
        edited inside the block (a string that becomes a ``!Sub`` of a string too).

        ``None``: no style to keep (the caller renders the value as usual).
        """
        start = span[0]
        indicator = self.block_indicator((start, end))
        sub = emit.sub_text(value, self.style)
        if indicator is not None and indicator == start:
            if isinstance(value, str):
                return self._block_edit(indicator, end, value)
            if sub is not None:  # `|` text -> `!Sub |` text, the block kept
                edit = self._block_edit(indicator, end, sub)
                head = TextEdit(start, start, "!Sub ")
                return TextEdit(start, edit.end, self._apply(head, edit, start))
            return None
        raw = self.text[start:end]
        if sub is not None and raw[:1] in ("'", '"'):  # 'text' -> !Sub 'text'
            quoted = emit.quoted(sub, raw[0])
            return None if quoted is None else TextEdit(start, end, "!Sub " + quoted)
        if not isinstance(value, str):
            return None
        if raw[:1] in ("'", '"'):
            quoted = emit.quoted(value, raw[0])
            return None if quoted is None else TextEdit(start, end, quoted)
        return TextEdit(start, end, emit.scalar(value, self.style, flow))

    def _apply(self, head: TextEdit, edit: TextEdit, start: int) -> str:
        """The text from ``start`` to ``edit.end`` with both edits made."""
        return head.replacement + self.text[start : edit.start] + edit.replacement

    def _block_edit(self, indicator: int, end: int, value: str) -> TextEdit:
        """Rewrite a literal block scalar's content lines that change; the header, the
        indentation and every unchanged line stay as written."""
        header_end = self.line_end(indicator)
        header = self.text[indicator:header_end].split("#")[0].strip()
        if any(ch.isdigit() or ch == "+" for ch in header):
            raise FixError("cannot rewrite an explicitly indented or kept block scalar")
        if header[:1] == ">":
            return self._folded_edit(indicator, end, value)
        strip = "-" in header
        body_start = self.after_line(indicator)
        old_lines = self.text[body_start:end].split(self.nl) if end > body_start else []
        indent = next(
            (len(line) - len(line.lstrip(" ")) for line in old_lines if line.strip()), None
        )
        if indent is None or indent <= self.column(self.line_start(indicator)):
            raise FixError("cannot find the indentation of a block scalar")
        if strip == value.endswith("\n") or value.endswith("\n\n") or "\r" in value:
            raise FixError("the new text does not fit the block scalar's chomping")
        lines = (value if strip else value[:-1]).split("\n")
        first = next((line for line in lines if line.strip()), "")
        if first[:1] == " " or any(
            not ch.isprintable() and ch != "\t" for line in lines for ch in line
        ):
            raise FixError("the new text cannot be written in the block scalar")
        old_text = self.text[body_start:end]
        new_text = self.nl.join(" " * indent + line if line else "" for line in lines)
        # Only what differs is rewritten (the common head and tail stay).
        head, tail = _common_ends(old_text, new_text)
        return TextEdit(body_start + head, end - tail, new_text[head : len(new_text) - tail])

    def _folded_edit(self, indicator: int, end: int, value: str) -> TextEdit:
        """Change text inside one line of a folded block scalar (``>``), when its lines
        fold plainly (no blank or more-indented lines) and the change stays on a line."""
        header = self.text[indicator : self.line_end(indicator)].split("#")[0].strip()
        body_start = self.after_line(indicator)
        lines = self.text[body_start:end].split(self.nl)
        indent = len(lines[0]) - len(lines[0].lstrip(" "))
        pieces: list[tuple[int, str]] = []  # (offset of the line's text, the text)
        at = body_start
        for line in lines:
            text = line.strip(" ")
            if not text or len(line) - len(line.lstrip(" ")) != indent or "\t" in line:
                raise FixError("cannot rewrite this folded block scalar")
            pieces.append((at + indent, text))
            at += len(line) + len(self.nl)
        old = " ".join(text for _, text in pieces)
        clipped = "-" not in header
        if clipped != value.endswith("\n"):
            raise FixError("the new text does not fit the block scalar's chomping")
        new = value[:-1] if clipped else value
        head, tail = _common_ends(old, new)
        stop, middle = len(old) - tail, new[head : len(new) - tail]
        position = 0
        for offset, text in pieces:
            inside = position < head and stop < position + len(text)
            if inside and "\n" not in middle and middle.isprintable():
                return TextEdit(offset + head - position, offset + stop - position, middle)
            position += len(text) + 1
        raise FixError("cannot rewrite this folded block scalar across its lines")

    def remove_comment(self, line: int, column: int) -> TextEdit:
        starts = [0] + [i + 1 for i, ch in enumerate(self.text) if ch == "\n"]
        if not 1 <= line <= len(starts):
            raise FixError(f"no line {line}")
        start = starts[line - 1]
        end = self.line_end(start)
        hash_at = start + column - 1
        if self.text[hash_at : hash_at + 1] != "#":
            raise FixError(f"no comment at line {line}, column {column}")
        if not self.text[start:hash_at].strip():  # the comment is the whole line
            return TextEdit(start, self.after_line(start), "")
        before = hash_at
        while before > start and self.text[before - 1] in " \t":
            before -= 1
        return TextEdit(before, end, "")

    def remove_key(self, path: Path, key: str) -> TextEdit:
        mapping = self.node(path)
        assert isinstance(mapping, MapNode)
        if mapping.flow or len(mapping) < 2:
            raise FixError("can only remove a key from a block mapping with other keys")
        key_start = mapping.key_span(key)[0]
        start = self.line_start(key_start)
        if self.text[start:key_start].strip():
            raise FixError("the key does not start its line")
        return self._delete_lines(start, mapping[key], mapping.value_span(key))

    def remove_item(self, path: Path, index: int) -> TextEdit:
        seq = self.node(path)
        assert isinstance(seq, SeqNode)
        if seq.flow or len(seq) < 2:
            raise FixError("can only remove an item from a block sequence with other items")
        item_start = seq.item_span(index)[0]
        if dash_column(self.text, item_start) is None:
            raise FixError("the item does not start its line")
        start = self.line_start(item_start)
        if not self.text[start:item_start].strip():  # "-" alone on the line above
            start = self.line_start(start - 1)
        return self._delete_lines(start, seq[index], seq.item_span(index))

    def _delete_lines(self, start: int, value: Any, span: Span) -> TextEdit:
        """Delete from ``start`` (a line start) through the line where ``value`` ends."""
        return TextEdit(start, self.after_line(self.content_end(value, span)), "")


def _common_ends(old: str, new: str) -> tuple[int, int]:
    """The lengths of the longest common head and (not overlapping it) tail."""
    head = 0
    limit = min(len(old), len(new))
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return head, tail
