"""Positions: cfnfix's character offsets and columns <-> LSP positions.

cfnfix addresses text by character (code point) offsets into the decoded text, and its
1-based columns count characters on lines split at ``\\n``. An LSP position is a 0-based
line, split at ``\\n``, ``\\r\\n`` or ``\\r``, and a character offset counted in the
negotiated encoding's code units: UTF-16 unless the client offered another (an emoji is
one character, two UTF-16 units, four UTF-8 bytes).
"""

from __future__ import annotations

import bisect
import re

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"

_LSP_BREAK = re.compile(r"\r\n|\r|\n")


def units(char: str, encoding: str) -> int:
    """How many code units of ``encoding`` one character takes."""
    point = ord(char)
    if encoding == UTF32:
        return 1
    if encoding == UTF8:
        return 1 if point < 0x80 else 2 if point < 0x800 else 3 if point < 0x10000 else 4
    return 2 if point > 0xFFFF else 1


def length(text: str, encoding: str) -> int:
    """The length of ``text`` in code units of ``encoding``."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8"))
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


class LineIndex:
    """Converts between character offsets of ``text`` and LSP (line, character) pairs."""

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.text = text
        self.encoding = encoding
        self._starts = [0] + [m.end() for m in _LSP_BREAK.finditer(text)]
        # cfnfix's lines: split at "\n" only (Template.line_col).
        self._nl_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def _line_end(self, line: int) -> int:
        """Offset of the end of ``line``'s content (before its line break)."""
        if line + 1 < len(self._starts):
            end = self._starts[line + 1] - 1
            if end > 0 and self.text[end - 1 : end + 1] == "\r\n":
                end -= 1
            return end
        return len(self.text)

    def position(self, offset: int) -> tuple[int, int]:
        """The LSP position (0-based line, code units) of character ``offset``."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        offset = min(offset, max(start, self._line_end(line)))  # never inside a "\r\n"
        return line, length(self.text[start:offset], self.encoding)

    def offset(self, line: int, character: int) -> int:
        """The character offset of an LSP position (clamped to its line, as LSP says)."""
        if line < 0:
            return 0
        if line >= len(self._starts):
            return len(self.text)
        start = self._starts[line]
        end = self._line_end(line)
        if self.encoding == UTF32:
            return min(start + max(character, 0), end)
        count = 0
        pos = start
        while pos < end:
            step = units(self.text[pos], self.encoding)
            if count + step > character:  # inside a character: its start
                break
            count += step
            pos += 1
        return pos

    def cfnfix_offset(self, line: int, column: int) -> int:
        """The character offset of cfnfix's 1-based ``line`` and ``column``."""
        index = max(0, min(line - 1, len(self._nl_starts) - 1))
        return min(self._nl_starts[index] + max(column - 1, 0), len(self.text))

    def cfnfix_position(self, line: int, column: int) -> tuple[int, int]:
        """The LSP position of cfnfix's 1-based ``line`` and ``column``."""
        return self.position(self.cfnfix_offset(line, column))
