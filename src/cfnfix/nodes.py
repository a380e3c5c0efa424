"""The document model: plain Python containers that remember where they came from.

Mappings and sequences are ``dict`` / ``list`` subclasses, so rules read them like
ordinary data. Scalars stay plain Python values; the container that holds a scalar
records its span, so *every* node has a span, addressed by its path from the root.
Short-form intrinsics (``!Ref X``) are mappings in long form (``{"Ref": "X"}``)
that remember the tag they were written with.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

Path = tuple[str | int, ...]
Span = tuple[int, int]


# The spans of a node that has none yet: its own span is (0, 0) and it has no entries.
# Never written: a node makes its own copy first (see ``_Spanned._own``).
_UNPLACED: array[int] = array("q", (0, 0))


# Mappings with at most this many keys find a key's spans without an index.
_SCANNED = 8


class _Spanned:
    """A collection's own span and its children's, read from an array of integers.

    The node's own span is the two integers at ``_base - 2`` and ``_base - 1``; its
    children's follow from ``_base``. The array is the node's own, or one the loader
    shares between every node of a document (a template of 5,000 resources has some
    70,000 collections): a node then holds no integer objects of its own for its offsets,
    which took a sixth of the model's memory.
    """

    # The subclasses hold the two slots: a dict or list subclass can have slots, but not
    # inherit them from a second base with slots of its own.
    __slots__: tuple[str, ...] = ("_base", "_spans") if TYPE_CHECKING else ()
    _spans: array[int]
    _base: int

    @property
    def start(self) -> int:
        return self._spans[self._base - 2]

    @start.setter
    def start(self, offset: int) -> None:
        self._own()[self._base - 2] = offset

    @property
    def end(self) -> int:
        return self._spans[self._base - 1]

    @end.setter
    def end(self, offset: int) -> None:
        self._own()[self._base - 1] = offset

    def _own(self) -> array[int]:
        """The node's spans, in an array that may be written (its own, or a share)."""
        if self._spans is _UNPLACED:
            self._spans = array("q", _UNPLACED)
        return self._spans

    def share_spans(self, spans: array[int], base: int) -> None:
        """Read the spans from ``spans``: the node's own at ``base - 2`` and ``base - 1``,
        its children's from ``base`` (the loader puts every node's in one array)."""
        self._spans = spans
        self._base = base


class MapNode(_Spanned, dict[str, Any]):
    """A mapping with the spans of its keys and values (character offsets).

    Spans are kept compactly, four integers per key in key order (see ``_Spanned``);
    ``key_span`` and ``value_span`` read them. Entries are added with :meth:`add` (or the
    loader's :meth:`share_spans`) while loading; the model is read-only after that.
    """

    __slots__ = ("_base", "_index", "_spans", "flow", "opaque_tags", "shared", "short_tag")
    # Set on a document's root only: the unknown tags the loader kept as opaque values.
    opaque_tags: tuple[str, ...]

    def __init__(self, start: int = 0, end: int = 0, flow: bool = False) -> None:
        # No super().__init__(): the new container is empty already, and the call was a
        # third of the cost of a node (the loader makes tens of thousands).
        self._spans = array("q", (start, end)) if start or end else _UNPLACED
        self._base = 2
        self.flow = flow
        self.short_tag: str | None = None
        self.shared = False
        self._index: dict[str, int] | None = None

    def add(self, key: str, value: Any, key_span: Span, value_span: Span) -> None:
        """A new entry (``key`` must not be present yet) with its spans, kept in the
        mapping's own array."""
        self[key] = value
        self._own().extend((*key_span, *value_span))
        self._index = None

    def _offset(self, key: str) -> int:
        """Where ``key``'s spans start in ``_spans``; ``KeyError`` for a missing key.

        A small mapping finds the key by scanning its keys: as fast as building an index,
        and an index of two keys takes 250 bytes, as much as the mapping (a fix looks up
        keys in tens of thousands of them). A larger one builds its key -> offset index on
        the first look-up: most are never looked up by key (walks use :meth:`entries`)."""
        index = self._index
        if index is None:
            if len(self) <= _SCANNED:
                for position, name in enumerate(self):
                    if name == key:
                        return self._base + 4 * position
                raise KeyError(key)
            base = self._base
            index = self._index = {name: base + 4 * i for i, name in enumerate(self)}
        return index[key]

    def entries(self) -> Iterator[tuple[str, Any, Span, Span]]:
        """(key, value, key span, value span) of every entry, in order."""
        flat = self._spans
        for position, (key, value) in enumerate(self.items()):
            at = self._base + 4 * position
            yield key, value, (flat[at], flat[at + 1]), (flat[at + 2], flat[at + 3])

    def key_span(self, key: str) -> Span:
        """The span of ``key`` itself."""
        at = self._offset(key)
        return self._spans[at], self._spans[at + 1]

    def value_span(self, key: str) -> Span:
        """The span of the value of ``key``."""
        at = self._offset(key) + 2
        return self._spans[at], self._spans[at + 1]


class SeqNode(_Spanned, list[Any]):
    """A sequence with the spans of its items (two integers per item, in item order)."""

    __slots__ = ("_base", "_spans", "flow", "shared")

    def __init__(self, start: int = 0, end: int = 0, flow: bool = False) -> None:
        # No super().__init__(): the new container is empty already, and the call was a
        # third of the cost of a node (the loader makes tens of thousands).
        self._spans = array("q", (start, end)) if start or end else _UNPLACED
        self._base = 2
        self.flow = flow
        self.shared = False

    def add(self, value: Any, span: Span) -> None:
        """A new last item with its span, kept in the sequence's own array."""
        self.append(value)
        self._own().extend(span)

    def item_span(self, index: int) -> Span:
        """The span of item ``index`` (negative indexes count from the end)."""
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        at = self._base + 2 * index
        return self._spans[at], self._spans[at + 1]

    @property
    def item_spans(self) -> list[Span]:
        """Every item's span, in order."""
        flat, base = self._spans, self._base
        return [(flat[base + 2 * i], flat[base + 2 * i + 1]) for i in range(len(self))]


class OpaqueNode:
    """A value under a tag cfnfix does not know (``!Rain::Embed file.txt``).

    Preprocessors replace such values before CloudFormation sees the template, so
    cfnfix cannot know what they hold: rules see neither a string nor a mapping, and
    the writer refuses every change inside or of one. Two opaque values are equal when
    their tag and source text are.
    """

    __slots__ = ("end", "start", "tag", "text")

    def __init__(self, tag: str, text: str, start: int, end: int) -> None:
        self.tag = tag
        self.text = text  # the tagged value's source text, tag excluded
        self.start = start
        self.end = end

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OpaqueNode) and (self.tag, self.text) == (other.tag, other.text)

    def __hash__(self) -> int:
        return hash((self.tag, self.text))

    def __repr__(self) -> str:
        return f"OpaqueNode({self.tag!r}, {self.text!r})"


def opaque_tags(root: Any) -> tuple[str, ...]:
    """The unknown tags of a loaded document, in order of first use."""
    return getattr(root, "opaque_tags", ()) if isinstance(root, MapNode) else ()


def contains_opaque(value: Any) -> bool:
    """Whether ``value`` is or holds an :class:`OpaqueNode`."""
    return any(isinstance(v, OpaqueNode) for _, v in walk(value))


def column_of(text: str, offset: int) -> int:
    """The 0-based column of ``offset`` in ``text``."""
    return offset - (text.rfind("\n", 0, offset) + 1)


def line_col(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of ``offset`` (for one-off lookups, such as errors)."""
    return text.count("\n", 0, offset) + 1, column_of(text, offset) + 1


def child_span(parent: MapNode | SeqNode, key: str | int) -> Span:
    """The span of ``parent[key]``."""
    if isinstance(parent, MapNode):
        assert isinstance(key, str)
        return parent.value_span(key)
    assert isinstance(key, int)
    return parent.item_span(key)


def has_child(node: Any, key: str | int) -> bool:
    """Whether ``node[key]`` exists: a key of a mapping, an index of a sequence."""
    if isinstance(node, dict):
        return isinstance(key, str) and key in node
    return isinstance(node, list) and isinstance(key, int) and -len(node) <= key < len(node)


def get_path(root: Any, path: Path) -> Any:
    """The value at ``path``; ``KeyError`` when it does not exist."""
    node = root
    for key in path:
        if not has_child(node, key):
            raise KeyError(path)
        node = node[key]
    return node


def walk(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every (path, value) below and including ``value``, depth first, in document order."""
    stack: list[tuple[Path, Any]] = [(path, value)]
    while stack:
        p, v = stack.pop()
        yield p, v
        if isinstance(v, dict):
            stack.extend([((*p, k), child) for k, child in reversed(v.items())])
        elif isinstance(v, list):
            stack.extend([((*p, i), v[i]) for i in range(len(v) - 1, -1, -1)])


def to_plain(value: Any) -> Any:
    """A deep copy as plain ``dict`` / ``list`` / scalars (for comparisons and output)."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value
