"""Turn semantic changes into concrete operations on existing nodes.

A change may name a path that does not exist yet (``Properties/Tags`` of a resource
without properties). Planning walks the real document and turns the missing part into
one nested value inserted at the deepest existing mapping. Changes of one fix that
create the same key are merged, so a fix never inserts a key twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cfnfix.changes import (
    AppendItem,
    Change,
    ChangeError,
    RemoveComment,
    RemoveItem,
    RemoveKey,
    ReplaceValue,
    SetKey,
    apply_change,
)
from cfnfix.errors import FixError
from cfnfix.intrinsics import function_of
from cfnfix.nodes import (
    MapNode,
    OpaqueNode,
    Path,
    SeqNode,
    contains_opaque,
    get_path,
    opaque_tags,
)


@dataclass
class Op:
    """One edit to make at an existing node."""

    kind: str  # "insert" | "replace" | "append" | "remove_key" | "remove_item" | "comment"
    path: Path  # the container (insert, append, remove_*) or the node (replace)
    key: str | int | None = None
    value: Any = None
    before: str | None = None

    @property
    def claim(self) -> Path:
        """The path this op owns; two fixes whose claims nest cannot apply together."""
        if self.kind in ("insert", "remove_key", "remove_item"):
            assert self.key is not None
            return (*self.path, self.key)
        if self.kind == "append":
            return (*self.path, "+")
        if self.kind == "comment":
            return ("#", self.key or 0)
        return self.path


_OPAQUE = "the change is inside a value under the unknown tag {}: cfnfix never edits it"


def claims_conflict(a: Path, b: Path) -> bool:
    if a == b:
        return not (a and a[-1] == "+")  # appends to one list can go together
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return long[: len(short)] == short


def _nest(keys: Path, leaf: Any) -> Any:
    for key in reversed(keys):
        leaf = {key: leaf}
    return leaf


@dataclass
class Planner:
    root: MapNode
    ops: list[Op] = field(default_factory=list)
    # Values this plan creates, by the path they will have: later changes edit them.
    pending: dict[Path, Op] = field(default_factory=dict)

    def _holds_opaque(self, value: Any) -> bool:
        # Only a template with values under unknown tags can have one to find (most have
        # none, and then no value is searched).
        return bool(opaque_tags(self.root)) and contains_opaque(value)

    def add(self, change: Change) -> None:
        if isinstance(change, RemoveComment):
            self.ops.append(Op("comment", (), change.line, change.column))
            return
        if self._holds_opaque(getattr(change, "value", None)):
            raise FixError("the change would copy a value under an unknown tag")
        try:
            self._add(change)
        except ChangeError as exc:
            raise FixError(str(exc)) from None

    def _walk(self, path: Path) -> tuple[Any, int, Op | None]:
        """Follow ``path`` through real nodes; stop at the first missing key.

        Returns (deepest node, number of keys followed, pending op owning the rest).
        """
        node: Any = self.root
        for i, key in enumerate(path):
            op = self.pending.get(path[: i + 1])  # a value this plan already creates
            if op is not None:
                return node, i, op
            if isinstance(node, (MapNode, SeqNode)) and node.shared:
                raise FixError("the change is inside an anchored or merged node (YAML alias)")
            if isinstance(node, OpaqueNode):
                raise FixError(_OPAQUE.format(node.tag))
            if isinstance(node, MapNode) and isinstance(key, str) and key in node:
                if node.short_tag or function_of(node):
                    raise FixError("the change is inside an intrinsic function")
                node = node[key]
            elif isinstance(node, SeqNode) and isinstance(key, int) and 0 <= key < len(node):
                node = node[key]
            else:
                return node, i, None
        if isinstance(node, (MapNode, SeqNode)) and node.shared:
            raise FixError("the change is inside an anchored or merged node (YAML alias)")
        if isinstance(node, OpaqueNode):
            raise FixError(_OPAQUE.format(node.tag))
        return node, len(path), None

    def _edit_pending(
        self, op: Op, at: int, change: SetKey | AppendItem | ReplaceValue | RemoveKey | RemoveItem
    ) -> None:
        """Apply ``change`` inside the value ``op`` creates (``op`` owns ``path[:at+1]``)."""
        owned = op.claim if op.kind != "append" else op.path
        relative = change.path[len(owned) :]
        holder = {"v": op.value}
        rel = ("v", *relative)
        if isinstance(change, SetKey):
            apply_change(holder, SetKey(rel, change.key, change.value))
        elif isinstance(change, AppendItem):
            apply_change(holder, AppendItem(rel, change.value))
        elif isinstance(change, ReplaceValue):
            apply_change(holder, ReplaceValue(rel, change.value))
        else:
            raise FixError("cannot remove from a value the same fix adds")
        op.value = holder["v"]

    def _create(self, container: Path, key: str, value: Any, before: str | None = None) -> None:
        op = Op("insert", container, key, value, before)
        self.ops.append(op)
        self.pending[(*container, key)] = op

    def _add(self, change: SetKey | AppendItem | ReplaceValue | RemoveKey | RemoveItem) -> None:
        if isinstance(change, (SetKey, AppendItem)):
            node, depth, owner = self._walk(change.path)
            if owner is not None:
                self._edit_pending(owner, depth, change)
                return
            leaf: Any
            leaf = {change.key: change.value} if isinstance(change, SetKey) else [change.value]
            if depth < len(change.path):
                missing = change.path[depth:]
                key = missing[0]
                if not isinstance(node, MapNode) or not isinstance(key, str):
                    raise FixError(f"cannot create {key!r}: its parent is not a mapping")
                before = change.before if isinstance(change, SetKey) else None
                self._create(change.path[:depth], key, _nest(missing[1:], leaf), before)
                return
            if node is None:  # `Properties:` with nothing under it
                op = Op("replace", change.path, value=leaf)
                self.ops.append(op)
                self.pending[change.path] = op
            elif isinstance(change, SetKey):
                if isinstance(node, MapNode) and (node.short_tag or function_of(node)):
                    raise FixError("the change is inside an intrinsic function")
                if not isinstance(node, MapNode):
                    raise FixError(f"cannot set {change.key!r}: the target is not a mapping")
                if change.key in node:
                    self._replace((*change.path, change.key), change.value)
                else:
                    self._create(change.path, change.key, change.value, change.before)
            else:
                if not isinstance(node, SeqNode):
                    raise FixError("cannot append: the target is not a sequence")
                self.ops.append(Op("append", change.path, value=change.value))
        elif isinstance(change, ReplaceValue):
            node, depth, owner = self._walk(change.path[:-1])
            if owner is not None:
                self._edit_pending(owner, depth, change)
                return
            if depth < len(change.path) - 1:
                raise FixError(f"nothing to replace at {'/'.join(map(str, change.path))}")
            self._replace(change.path, change.value)
        elif isinstance(change, RemoveKey):
            node, depth, owner = self._walk(change.path)
            if owner is not None or depth < len(change.path) or not isinstance(node, MapNode):
                raise FixError("nothing to remove")
            if change.key not in node:
                raise FixError(f"no key {change.key!r} to remove")
            if self._holds_opaque(node[change.key]):
                raise FixError("the change would remove a value under an unknown tag")
            self.ops.append(Op("remove_key", change.path, change.key))
        elif isinstance(change, RemoveItem):
            node, depth, owner = self._walk(change.path)
            if owner is not None or depth < len(change.path) or not isinstance(node, SeqNode):
                raise FixError("nothing to remove")
            if not 0 <= change.index < len(node):
                raise FixError("no such item to remove")
            if self._holds_opaque(node[change.index]):
                raise FixError("the change would remove a value under an unknown tag")
            self.ops.append(Op("remove_item", change.path, change.index))

    def _replace(self, path: Path, value: Any) -> None:
        try:
            old = get_path(self.root, path)
        except KeyError:
            old = None
        if self._holds_opaque(old):
            raise FixError("the change would replace a value under an unknown tag")
        op = Op("replace", path, value=value)
        self.ops.append(op)
        self.pending[path] = op


def plan(root: MapNode, changes: list[Change]) -> list[Op]:
    planner = Planner(root)
    for change in changes:
        planner.add(change)
    return planner.ops
