"""Semantic changes: what a fix wants, independent of how the file is written.

Rules describe fixes with these; :mod:`cfnfix.writer` turns them into text edits in
the file's own style, and :func:`apply_change` applies them to plain data so that the
engine can check that the rewritten file holds exactly the intended template.
"""

from __future__ import annotations

from typing import Any, Final

from cfnfix.nodes import MapNode, Path, SeqNode, has_child, to_plain
from cfnfix.records import FrozenRecord


class SetKey(FrozenRecord):
    """Set ``key`` in the mapping at ``path``; missing mappings on the way are created.

    ``before`` names a sibling key to insert in front of (a new top-level section
    before ``Resources``, say); otherwise a new key goes after the last one.
    """

    __match_args__ = ("path", "key", "value", "before")
    __slots__ = __match_args__

    def __init__(self, path: Path, key: str, value: Any, before: str | None = None) -> None:
        self.path: Final = path
        self.key: Final = key
        self.value: Final = value
        self.before: Final = before


class ReplaceValue(FrozenRecord):
    """Replace the value at ``path``."""

    __match_args__ = ("path", "value")
    __slots__ = __match_args__

    def __init__(self, path: Path, value: Any) -> None:
        self.path: Final = path
        self.value: Final = value


class AppendItem(FrozenRecord):
    """Append ``value`` to the sequence at ``path`` (created when missing)."""

    __match_args__ = ("path", "value")
    __slots__ = __match_args__

    def __init__(self, path: Path, value: Any) -> None:
        self.path: Final = path
        self.value: Final = value


class RemoveKey(FrozenRecord):
    """Remove ``key`` from the mapping at ``path``."""

    __match_args__ = ("path", "key")
    __slots__ = __match_args__

    def __init__(self, path: Path, key: str) -> None:
        self.path: Final = path
        self.key: Final = key


class RemoveItem(FrozenRecord):
    """Remove item ``index`` from the sequence at ``path``."""

    __match_args__ = ("path", "index")
    __slots__ = __match_args__

    def __init__(self, path: Path, index: int) -> None:
        self.path: Final = path
        self.index: Final = index


class RemoveComment(FrozenRecord):
    """Remove the comment that starts at ``column`` (1-based) of ``line``; the whole line
    when nothing else is on it. Comments are no data: the template's data is unchanged."""

    __match_args__ = ("line", "column")
    __slots__ = __match_args__

    def __init__(self, line: int, column: int) -> None:
        self.line: Final = line
        self.column: Final = column


Change = SetKey | ReplaceValue | AppendItem | RemoveKey | RemoveItem | RemoveComment


# Helpers for the changes rules make most.


def set_property(logical_id: str, key: str, value: Any) -> SetKey:
    return SetKey(("Resources", logical_id, "Properties"), key, value)


def set_attribute(logical_id: str, key: str, value: Any) -> SetKey:
    """A resource attribute such as ``DeletionPolicy``."""
    return SetKey(("Resources", logical_id), key, value)


def add_resource(logical_id: str, body: dict[str, Any]) -> SetKey:
    return SetKey(("Resources",), logical_id, body)


def add_parameter(name: str, body: dict[str, Any]) -> SetKey:
    return SetKey(("Parameters",), name, body, before="Resources")


def add_condition(name: str, expression: Any) -> SetKey:
    return SetKey(("Conditions",), name, expression, before="Resources")


def add_output(name: str, body: dict[str, Any]) -> SetKey:
    return SetKey(("Outputs",), name, body)


class ChangeError(ValueError):
    """A change that does not fit the data (a key where a list is, say)."""


def _container(data: Any, path: Path, create: type | None) -> Any:
    """The collection at ``path`` (missing ones made with ``create`` when given). Nodes of
    a loaded template on the way are replaced by plain copies first: a change applied to
    ``dict(template.root)`` leaves the template as it is, and only the collections on the
    change's path are copied (a deep copy of a large template costs more than a rule run).
    """
    node = data
    for i, key in enumerate(path):
        if isinstance(node, dict) and isinstance(key, str):
            if key not in node:
                if create is None:
                    raise ChangeError(f"no {key!r} at {'/'.join(map(str, path[:i]))}")
                node[key] = {} if i < len(path) - 1 else create()
            elif node[key] is None and create is not None:
                node[key] = {} if i < len(path) - 1 else create()
        elif not has_child(node, key):
            raise ChangeError(f"cannot follow {key!r} at {'/'.join(map(str, path[:i]))}")
        node = _writable(node, key)
    return node


def _writable(parent: dict[str, Any] | list[Any], key: Any) -> Any:
    """``parent[key]``, a plain copy put in its place if it is a node of a loaded template."""
    child = parent[key]
    if isinstance(child, MapNode):
        child = parent[key] = dict(child)
    elif isinstance(child, SeqNode):
        child = parent[key] = list(child)
    return child


def apply_change(data: Any, change: Change) -> None:
    """Apply ``change`` to ``data`` in place (the meaning of each change). ``data`` is
    the caller's; template nodes below it are copied where the change modifies them."""
    if isinstance(change, SetKey):
        target = _container(data, change.path, dict)
        if not isinstance(target, dict):
            raise ChangeError("SetKey on a value that is not a mapping")
        target[change.key] = to_plain(change.value)
    elif isinstance(change, ReplaceValue):
        if not change.path:
            raise ChangeError("cannot replace the whole template")
        parent = _container(data, change.path[:-1], None)
        key = change.path[-1]
        if not has_child(parent, key):
            raise ChangeError(f"nothing to replace at {'/'.join(map(str, change.path))}")
        parent[key] = to_plain(change.value)
    elif isinstance(change, AppendItem):
        target = _container(data, change.path, list)
        if not isinstance(target, list):
            raise ChangeError("AppendItem on a value that is not a sequence")
        target.append(to_plain(change.value))
    elif isinstance(change, RemoveKey):
        target = _container(data, change.path, None)
        if not isinstance(target, dict) or change.key not in target:
            raise ChangeError(f"no key {change.key!r} to remove")
        del target[change.key]
    elif isinstance(change, RemoveComment):
        return
    else:
        target = _container(data, change.path, None)
        if not isinstance(target, list) or not -len(target) <= change.index < len(target):
            raise ChangeError("no item to remove")
        del target[change.index]
