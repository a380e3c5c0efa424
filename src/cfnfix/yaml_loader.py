"""Load YAML into the span-aware model.

libyaml's parser (through PyYAML's C binding) gives every event its start and end
offset and keeps short-form tags as written; the model is built straight from the
event stream, so no node tree is composed beside it (that tree took more memory than
the model itself and a third of the time). Values are resolved under YAML 1.1, as
CloudFormation reads them, by PyYAML's own resolver table.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable
from typing import Any

from cfnfix import pyyaml  # before yaml: see cfnfix.pyyaml

# isort: split
import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from cfnfix.errors import LoadError
from cfnfix.intrinsics import SHORT_TAGS
from cfnfix.nodes import MapNode, OpaqueNode, SeqNode, Span, line_col

# A document whose aliases expand to more nodes than this is refused ("billion laughs").
MAX_EXPANDED_NODES = 2_000_000
# Nesting deeper than this is refused (as soon as the parser reaches it: libyaml's parser
# keeps its own stack on the heap, and the model is built without recursion).
MAX_DEPTH = 400

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_constructor = yaml.constructor.SafeConstructor()
_TAG = "tag:yaml.org,2002:"
_STR = _TAG + "str"
_MERGE = _TAG + "merge"
_GETATT_TAG = "!GetAtt"
# YAML's own tags that a template may use; others (`!!python/object:...`) are refused.
_STANDARD = {"str", "int", "float", "bool", "null", "map", "seq", "binary", "timestamp", "merge"}
# Plain scalars: first character -> the (tag, pattern) pairs that may resolve them, as
# PyYAML registers them; compiled the first time a scalar starts with that character.
_IMPLICIT: dict[str, list[tuple[str, Any]]] = yaml.resolver.Resolver.yaml_implicit_resolvers
_RESOLVERS: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {}
_CONSTRUCT: dict[str, Callable[[yaml.ScalarNode], Any]] = {
    _TAG + "int": _constructor.construct_yaml_int,
    _TAG + "float": _constructor.construct_yaml_float,
    _TAG + "bool": _constructor.construct_yaml_bool,
}
_MISSING = object()
_LIBYAML_DEPTH = "exceeded maximum nesting depth"  # libyaml's own limit (1,000 levels)


def _resolve_plain(value: str) -> str:
    """The tag of a plain scalar (YAML 1.1, as PyYAML resolves it)."""
    first = value[:1]
    resolvers = _RESOLVERS.get(first)
    if resolvers is None:
        resolvers = tuple((tag, pyyaml.compiled(p)) for tag, p in _IMPLICIT.get(first, ()))
        _RESOLVERS[first] = resolvers
    for tag, pattern in resolvers:
        if pattern.match(value):
            return tag
    return _STR


def _typed_value(tag: str, value: str) -> Any:
    """A scalar's value under its tag: numbers, booleans and null are typed; strings,
    timestamps and binary stay the text CloudFormation reads."""
    construct = _CONSTRUCT.get(tag)
    if construct is not None:
        return construct(yaml.ScalarNode(tag, value))
    return None if tag == _TAG + "null" else value


class _Open:
    """A collection being read: its node, and for a mapping the key awaiting a value."""

    __slots__ = (
        "anchor",
        "before",
        "depth",
        "key",
        "key_span",
        "mapping",
        "merged",
        "merging",
        "node",
        "spans",
        "start",
        "tag",
    )

    def __init__(
        self,
        node: MapNode | SeqNode,
        start: int,
        tag: str | None,
        anchor: str | None,
        depth: int,
        before: int,
    ) -> None:
        self.node = node
        self.start = start  # the node's spans go into the document's array when it closes
        self.mapping = isinstance(node, MapNode)
        self.tag = tag  # a short-form intrinsic's tag, wrapped around the node at its end
        self.anchor = anchor
        self.depth = depth
        self.before = before  # nodes counted before this one (an anchored node's size)
        self.key: str | None = None  # a mapping's key whose value is being read
        self.key_span: Span = (0, 0)
        self.merging = False  # the key is `<<`
        self.merged: list[MapNode] = []  # a mapping's `<<` sources
        self.spans: list[int] = []  # its entries' spans, until it is complete


class _Builder:
    """Builds the model from the event stream, one event at a time (no recursion).

    Every value counts one node and an alias counts the size of what it stands for, so
    alias bombs are refused before they expand; keys are not counted.
    """

    def __init__(self, text: str, max_depth: int, max_expanded: int) -> None:
        self.text = text
        self.max_depth = max_depth
        self.max_expanded = max_expanded
        self.anchors: dict[str, tuple[Any, int, str | None]] = {}  # value, size, scalar text
        self.expanded = 0
        self.opaque: dict[str, None] = {}  # unknown tags, in order of first use
        self.plain: dict[str, Any] = {}  # plain scalar text -> its value (shared objects)
        self.strings: dict[str, str] = {}  # one object per distinct string
        # Every collection's spans, each one's together (see MapNode.share_spans).
        # An offset is at most the text's length: 32 bits hold it (half the room of 64)
        # unless the text has 2**32 characters or more. Unsigned: an array of unsigned
        # integers converts each item directly, a signed one through an argument parser
        # (the whole parse takes 5% more instructions with it).
        self.spans: array[int] = array("I" if len(text) < 2**32 else "Q")

    def error(self, message: str, offset: int) -> LoadError:
        return LoadError(message, *line_col(self.text, offset))

    def build(self, next_event: Callable[[], Any]) -> Any:
        """The document's root value; ``_MISSING`` for an empty stream."""
        next_event()  # stream start
        if isinstance(next_event(), StreamEndEvent):
            return _MISSING
        stack: list[_Open] = []
        root: Any = _MISSING
        intern = self.strings.setdefault
        while True:
            event = next_event()
            kind = type(event)
            if kind is ScalarEvent and event.tag is None and event.anchor is None and stack:
                # An untagged, unanchored scalar inside a collection: nearly every event,
                # read here in one piece (the general path below does the same, slower).
                top = stack[-1]
                word = intern(event.value, event.value)
                at = (event.start_mark.index, event.end_mark.index)
                node: Any = top.node
                if top.mapping and top.key is None:
                    if word in node or word == "<<":  # a duplicate (refused), or a merge
                        self.key(top, word, at, _is_merge(event))
                    else:
                        top.key = word
                        top.key_span = at
                        top.merging = False
                    continue
                if top.depth < self.max_depth:  # else the general path's error
                    self.expanded += 1
                    self.place(top, self.untagged(word, event.implicit[0]), at)
                    continue
            if kind is DocumentEndEvent:
                break
            if kind is MappingEndEvent or kind is SequenceEndEvent:
                value, span = self.close(stack.pop(), event.end_mark.index)
                if stack:
                    self.place(stack[-1], value, span)
                else:
                    root = value
                continue
            start = event.start_mark.index
            parent = stack[-1] if stack else None
            as_key = parent is not None and parent.key is None and parent.mapping
            if parent is not None and not as_key and parent.depth >= self.max_depth:
                raise self.error(f"nesting deeper than {self.max_depth} levels", start)
            text: str | None = None  # a scalar's text, should it be a key
            if kind is ScalarEvent:
                span = (start, event.end_mark.index)
                value, text = self.scalar(event, span, as_key)
            elif kind is AliasEvent:
                value, text = self.alias(event.anchor, start, as_key)
                span = (start, event.end_mark.index)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if as_key:
                    raise self.error("mapping keys must be scalars", start)
                opened = self.open(event, start, kind is MappingStartEvent, parent)
                if opened is not None:
                    stack.append(opened)
                    continue
                value, span = self.skip_opaque(event.tag, start, next_event)
            else:  # pragma: no cover - libyaml sends nothing else inside a document
                raise self.error("unsupported YAML event", start)
            if parent is None:
                root = value
            elif as_key:
                assert text is not None
                self.key(parent, text, span, kind is ScalarEvent and _is_merge(event))
            else:
                self.place(parent, value, span)
        following = next_event()
        if not isinstance(following, StreamEndEvent):
            raise self.error(
                "invalid YAML: expected a single document in the stream, but found another",
                following.start_mark.index,
            )
        return root

    # -- values ----------------------------------------------------------------------

    def scalar(self, event: ScalarEvent, span: Span, as_key: bool) -> tuple[Any, str]:
        """(value, text) of a scalar; registers its anchor. A key needs only its text."""
        start = span[0]
        text = self.strings.setdefault(event.value, event.value)
        if as_key and event.anchor is None:
            return None, text
        tag = event.tag
        value: Any
        if tag is None or tag == "!":
            value = self.untagged(text, event.implicit[0])
        elif tag.startswith("!"):
            value = self.scalar_intrinsic(tag, text, start, span[1])
        else:
            value = self.typed(tag, text, start)
        if not as_key:
            self.expanded += 1
        if event.anchor is not None:
            self.remember(event.anchor, value, 1, text, start)
        return value, text

    def untagged(self, text: str, plain: bool) -> Any:
        """The value of an untagged scalar: a plain one is resolved (and its value shared)
        by its text, as YAML 1.1 reads it (a lone `=` stays a string)."""
        if not plain:
            return text
        value = self.plain.get(text, _MISSING)
        if value is _MISSING:
            value = self.plain[text] = _typed_value(_resolve_plain(text), text)
        return value

    def typed(self, tag: str, text: str, start: int) -> Any:
        self.check_standard(tag, start)
        return _typed_value(tag, text)

    def check_standard(self, tag: str, start: int) -> None:
        """Refuse YAML's own tags that a template has no use for (`!!python/object`)."""
        if tag.startswith(_TAG) and tag[len(_TAG) :] not in _STANDARD:
            raise self.error(f"unsupported YAML tag {'!!' + tag[len(_TAG) :]!r}", start)

    def argument_start(self, tag: str, start: int, end: int) -> int:
        """Where a tagged value's argument starts, after the tag and white space."""
        at = start + len(tag)
        while at < end and self.text[at] in " \t\r\n":
            at += 1
        return at

    def scalar_intrinsic(self, tag: str, text: str, start: int, end: int) -> Any:
        arg_start = self.argument_start(tag, start, end)
        long_name = SHORT_TAGS.get(tag)
        if long_name is None:  # a preprocessor's tag (`!Rain::Embed`): kept, never looked into
            return self.opaque_node(tag, arg_start, start, end)
        arg: Any = text
        if tag == _GETATT_TAG and "." in text:  # `!GetAtt A.B`: one scalar split in two
            arg = SeqNode(0, 0, True)
            arg.extend(text.split(".", 1))
            self.share(arg, arg_start, end, [arg_start, end, arg_start, end])
        return self.wrap(long_name, tag, arg, start, end, arg_start)

    def opaque_node(self, tag: str, arg_start: int, start: int, end: int) -> OpaqueNode:
        self.opaque[tag] = None
        return OpaqueNode(tag, self.text[arg_start:end].rstrip(), start, end)

    def alias(self, anchor: str, start: int, as_key: bool) -> tuple[Any, str | None]:
        """(value, scalar text) an alias stands for, counted at its full size."""
        found = self.anchors.get(anchor)
        if found is None:
            raise self.error(f"invalid YAML: found undefined alias {anchor!r}", start)
        value, size, text = found
        if as_key:
            if text is None:
                raise self.error("mapping keys must be scalars", start)
            return None, text
        if isinstance(value, (MapNode, SeqNode)):
            value.shared = True
        self.expanded += size
        if self.expanded > self.max_expanded:
            raise self.error("aliases expand to too many nodes (an alias bomb?)", 0)
        return value, text

    def remember(self, anchor: str, value: Any, size: int, text: str | None, start: int) -> None:
        if anchor in self.anchors:
            raise self.error(f"invalid YAML: duplicate anchor {anchor!r}", start)
        self.anchors[anchor] = (value, size, text)

    # -- collections ---------------------------------------------------------------

    def open(
        self,
        event: MappingStartEvent | SequenceStartEvent,
        start: int,
        mapping: bool,
        parent: _Open | None,
    ) -> _Open | None:
        """A new collection's frame; ``None`` for one under a tag cfnfix does not know."""
        tag = event.tag
        short: str | None = None
        if tag is not None and tag.startswith("!") and tag != "!":
            if tag not in SHORT_TAGS:
                return None
            short = tag
        elif tag is not None:
            self.check_standard(tag, start)
        flow = bool(event.flow_style)
        # Positional arguments: a keyword makes the call a quarter dearer.
        node = MapNode(0, 0, flow) if mapping else SeqNode(0, 0, flow)
        depth = 0 if parent is None else parent.depth + 1
        return _Open(node, start, short, event.anchor, depth, self.expanded)

    def close(self, opened: _Open, end: int) -> tuple[Any, Span]:
        node = opened.node
        start = opened.start
        spans = opened.spans
        for source in opened.merged:  # YAML 1.1 merge keys: explicit keys win
            assert isinstance(node, MapNode)
            node.shared = True
            for key, item in source.items():
                if key not in node:
                    node[key] = item
                    spans.extend(source.key_span(key))
                    spans.extend(source.value_span(key))
        value: Any = node
        if opened.tag is None:
            self.share(node, start, end, spans)
        else:  # the node is the tag's argument; the wrapper spans the tag too
            arg_start = self.argument_start(opened.tag, start, end)
            self.share(node, arg_start, end, spans)
            value = self.wrap(SHORT_TAGS[opened.tag], opened.tag, node, start, end, arg_start)
        self.expanded += 1
        if opened.anchor is not None:
            self.remember(opened.anchor, value, self.expanded - opened.before, None, start)
        return value, (start, end)

    def skip_opaque(
        self, tag: str, start: int, next_event: Callable[[], Any]
    ) -> tuple[OpaqueNode, Span]:
        """A collection under an unknown tag: kept as its source text, never looked into."""
        depth = 1
        while depth:
            event = next_event()
            kind = type(event)
            if kind is MappingStartEvent or kind is SequenceStartEvent:
                depth += 1
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                depth -= 1
        end = event.end_mark.index
        self.expanded += 1
        return self.opaque_node(tag, self.argument_start(tag, start, end), start, end), (start, end)

    def key(self, parent: _Open, key: str, span: Span, merge: bool) -> None:
        """A mapping's next key: its value comes next."""
        node = parent.node
        assert isinstance(node, MapNode)
        if not merge and key in node:
            first = line_col(self.text, parent.spans[4 * list(node).index(key)])[0]
            raise self.error(f"duplicate key {key!r} (first defined on line {first})", span[0])
        parent.key = key
        parent.key_span = span
        parent.merging = merge

    def place(self, parent: _Open, value: Any, span: Span) -> None:
        """Put a finished value into the collection being read."""
        node = parent.node
        if isinstance(node, SeqNode):
            node.append(value)
            parent.spans.extend(span)
            return
        key = parent.key
        assert key is not None
        parent.key = None
        if parent.merging:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(s, MapNode) for s in sources):
                raise self.error("'<<' merge key needs a mapping", span[0])
            parent.merged.extend(sources)
            return
        node[key] = value
        parent.spans.extend(parent.key_span)
        parent.spans.extend(span)

    def share(self, node: MapNode | SeqNode, start: int, end: int, spans: list[int]) -> None:
        """Move a complete collection's span and its children's into the document's
        array (see MapNode.share_spans)."""
        document = self.spans
        document.append(start)
        document.append(end)
        node.share_spans(document, len(document))
        document.extend(spans)

    def wrap(
        self, long_name: str, tag: str, arg: Any, start: int, end: int, arg_start: int
    ) -> MapNode:
        """A short-form intrinsic (``!Sub x``) as its long form (``{"Fn::Sub": x}``)."""
        wrapper = MapNode()
        wrapper.short_tag = tag
        wrapper[long_name] = arg
        self.share(wrapper, start, end, [start, start + len(tag), arg_start, end])
        return wrapper


def _is_merge(event: ScalarEvent) -> bool:
    """A `<<` key: plain (resolved as YAML 1.1 merge) or tagged `!!merge`."""
    if event.value != "<<" and event.tag != _MERGE:  # nearly every key: answered at once
        return False
    if event.tag is None or event.tag == "!":
        return bool(event.implicit[0]) and _resolve_plain(event.value) == _MERGE
    return bool(event.tag == _MERGE)


class _Pieces:
    """The text, read by the parser a piece at a time. Given the whole string, PyYAML's
    parser would copy it whole (libyaml reads UTF-8): as large as the text again, for as
    long as the parse takes, when parsing a fixed template is what a fix's peak memory
    is made of."""

    __slots__ = ("_at", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._at = 0

    def read(self, size: int) -> str:
        piece = self._text[self._at : self._at + size]
        self._at += len(piece)
        return piece


def load_yaml(text: str, max_depth: int = MAX_DEPTH, max_expanded: int = MAX_EXPANDED_NODES) -> Any:
    """Parse one YAML document into the model. Raises :class:`LoadError`."""
    loader = _Loader(_Pieces(text))
    builder = _Builder(text, max_depth, max_expanded)
    try:
        value = builder.build(loader.get_event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if _LIBYAML_DEPTH in problem:
            # libyaml 0.2.6 and later refuse nesting deeper than 1,000 levels (more than
            # max_depth can be) while scanning ahead, before the builder gets there.
            problem = f"nesting deeper than {max_depth} levels"
        else:
            problem = f"invalid YAML: {problem}"
        if mark is not None:
            raise LoadError(problem, mark.line + 1, mark.column + 1) from None
        raise LoadError(problem) from None
    except yaml.YAMLError as exc:
        raise LoadError(f"invalid YAML: {str(exc).splitlines()[0]}") from None
    finally:
        loader.dispose()
    if value is _MISSING:
        raise LoadError("empty document")
    if isinstance(value, MapNode):
        value.opaque_tags = tuple(builder.opaque)
    return value
