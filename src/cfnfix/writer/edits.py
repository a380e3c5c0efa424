"""Text edits: the only way cfnfix changes a file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class TextEdit:
    """Replace ``text[start:end]`` with ``replacement`` (``start == end``: an insertion)."""

    start: int
    end: int
    replacement: str


def overlaps(a: TextEdit, b: TextEdit) -> bool:
    """Whether two edits touch the same text (insertions at one point do not overlap)."""
    if a.start == a.end or b.start == b.end:
        return a.start < b.end and b.start < a.end
    return a.start < b.end and b.start < a.end


def apply_edits(text: str, edits: Sequence[TextEdit]) -> str:
    """Apply non-overlapping edits; insertions at one point keep their given order."""
    ordered = sorted(enumerate(edits), key=lambda pair: (pair[1].start, pair[0]))
    out: list[str] = []
    cursor = 0
    for _, edit in ordered:
        if edit.start < cursor:
            raise ValueError("overlapping edits")
        out.append(text[cursor : edit.start])
        out.append(edit.replacement)
        cursor = edit.end
    out.append(text[cursor:])
    return "".join(out)
