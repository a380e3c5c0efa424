"""Narrow a replacement down to the parts of a value that change.

A fix that rewrites one element of a `Fn::Join` or the text of a `!Sub` describes the
whole new value; re-rendering all of it would rewrite a block list as a flow list, a
`!Sub` as `Fn::Sub:`, or re-quote untouched strings. Walking the old node and the new
value together finds the smallest subtrees that differ, so only those are rendered and
everything around them keeps its text.
"""

from __future__ import annotations

from typing import Any

from cfnfix.nodes import MapNode, Path, SeqNode


def same(old: Any, new: Any) -> bool:
    """Equal as data, with scalar types compared too (``1`` is not ``True``)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return list(old) == list(new) and all(same(old[k], new[k]) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(same(a, b) for a, b in zip(old, new, strict=True))
    return type(old) is type(new) and old == new


def _descend(old: Any) -> bool:
    """Whether the parts of ``old`` have spans of their own that can be edited alone."""
    if isinstance(old, MapNode):
        return not old.shared and old.short_tag != "!GetAtt"
    if isinstance(old, SeqNode):
        # `!GetAtt A.B` is one scalar split in two: its items share one span.
        return not old.shared and len(set(old.item_spans)) == len(old.item_spans)
    return False


def changed_parts(path: Path, old: Any, new: Any) -> list[tuple[Path, Any]]:
    """The (path, new value) pairs that turn ``old`` (at ``path``) into ``new``.

    Mappings with the same keys in the same order and sequences of the same length are
    compared part by part; anything else is replaced whole. Empty when nothing differs.
    """
    if same(old, new):
        return []
    if _descend(old):
        if isinstance(old, MapNode) and isinstance(new, dict) and list(old) == list(new):
            parts: list[tuple[Path, Any]] = []
            for key in old:
                parts += changed_parts((*path, key), old[key], new[key])
            return parts
        if isinstance(old, SeqNode) and isinstance(new, list) and len(old) == len(new):
            parts = []
            for index, (a, b) in enumerate(zip(old, new, strict=True)):
                parts += changed_parts((*path, index), a, b)
            return parts
    return [(path, new)]
