"""Text edits: the only way cfnfix changes a file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class TextEdit(NamedTuple):
    """Replace ``text[start:end]`` with ``replacement`` (``start == end``: an insertion).

    ``depth`` orders insertions at one point: text for a deeper container goes first,
    so that a key added to a nested mapping stays inside it when its parent also grows.
    """

    start: int
    end: int
    replacement: str
    depth: int = 0
    # The same edit asked for twice is made once (e.g. `|` -> `|-` before two insertions).
    idempotent: bool = False


def overlaps(a: TextEdit, b: TextEdit) -> bool:
    """Whether two edits touch the same text.

    Insertions at one point, or at either end of a replaced range, do not overlap.
    """
    return a.start < b.end and b.start < a.end


def in_order(edits: Sequence[TextEdit]) -> list[TextEdit]:
    """Edits in the order they apply: by position, insertions at one point deepest first,
    then as given; an idempotent edit asked for twice is kept once."""
    ordered = sorted(enumerate(edits), key=lambda pair: (pair[1].start, -pair[1].depth, pair[0]))
    result: list[TextEdit] = []
    seen: set[tuple[int, int, str]] = set()
    for _, edit in ordered:
        if edit.idempotent:
            key = (edit.start, edit.end, edit.replacement)
            if key in seen:
                continue
            seen.add(key)
        result.append(edit)
    return result


def apply_edits(text: str, edits: Sequence[TextEdit]) -> str:
    """Apply non-overlapping edits, in the order of :func:`in_order`."""
    out: list[str] = []
    cursor = 0
    for edit in in_order(edits):
        if edit.start < cursor:
            raise ValueError("overlapping edits")
        out.append(text[cursor : edit.start])
        out.append(edit.replacement)
        cursor = edit.end
    out.append(text[cursor:])
    return "".join(out)
