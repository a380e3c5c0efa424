"""Load YAML into the span-aware model.

PyYAML's C composer (libyaml) gives every node its start and end offset and keeps
short-form tags without constructing anything, about 15x faster than a round-trip
parser. Values are resolved under YAML 1.1, as CloudFormation reads them.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from cfnfix.errors import LoadError
from cfnfix.intrinsics import SHORT_TAGS
from cfnfix.nodes import MapNode, OpaqueNode, SeqNode, line_col

# A document whose aliases expand to more nodes than this is refused ("billion laughs").
MAX_EXPANDED_NODES = 2_000_000
# Nesting deeper than this is refused before libyaml recurses into it.
MAX_DEPTH = 400

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_constructor = yaml.constructor.SafeConstructor()
_TAG = "tag:yaml.org,2002:"
_ALIAS = re.compile(r"\*[^\s,\[\]{}]+")
_GETATT_TAG = "!GetAtt"
# YAML's own tags that a template may use; others (`!!python/object:...`) are refused.
_STANDARD = {"str", "int", "float", "bool", "null", "map", "seq", "binary", "timestamp", "merge"}


def _scalar_value(node: yaml.ScalarNode) -> Any:
    tag = node.tag
    if not tag.startswith(_TAG):
        return node.value
    kind = tag[len(_TAG) :]
    if kind == "int":
        return _constructor.construct_yaml_int(node)
    if kind == "float":
        return _constructor.construct_yaml_float(node)
    if kind == "bool":
        return _constructor.construct_yaml_bool(node)
    if kind == "null":
        return None
    return node.value  # str, timestamp, binary...: CloudFormation reads them as strings


# A line's indentation plus its run of compact block indicators (`- - - x`) bounds the
# block nesting it opens; libyaml's composer recurses in C (a crash at some 30,000 levels).
_BLOCK_RUN = re.compile(r"([ \t]*)((?:[-?](?:[ \t]+(?:[&!][^ \t]*[ \t]+)*|$))+)")


def _check_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    """Refuse pathological nesting cheaply, before libyaml sees it: block (``- - - -``)
    and flow (``[[[[...``)."""
    for line in text.split("\n"):
        if len(line) <= 4 * max_depth:  # too short to open that many levels
            continue
        match = _BLOCK_RUN.match(line)
        run = match.group(2) if match else ""
        if match and len(match.group(1)) + run.count("-") + run.count("?") > 4 * max_depth:
            raise LoadError(f"nesting deeper than {max_depth} levels")
    if text.count("[") + text.count("{") < max_depth:
        return
    depth = 0
    for char in text:
        if char in "[{":
            depth += 1
            if depth > max_depth:
                raise LoadError(f"nesting deeper than {max_depth} levels")
        elif char in "]}":
            depth = max(0, depth - 1)


class _Converter:
    def __init__(self, text: str, max_depth: int, max_expanded: int) -> None:
        self.text = text
        self.max_depth = max_depth
        self.max_expanded = max_expanded
        self.memo: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}
        self.expanded = 0
        self.opaque: dict[str, None] = {}  # unknown tags, in order of first use

    def line_col(self, offset: int) -> tuple[int, int]:
        return line_col(self.text, offset)

    def error(self, message: str, offset: int) -> LoadError:
        return LoadError(message, *self.line_col(offset))

    def alias_span(self, after: int) -> tuple[int, int]:
        match = _ALIAS.search(self.text, after)
        if match is None:  # pragma: no cover - libyaml saw an alias here
            return after, after
        return match.start(), match.end()

    def convert(self, node: yaml.Node, depth: int = 0) -> tuple[Any, bool]:
        """(value, is_alias)."""
        key = id(node)
        if key in self.memo:
            value = self.memo[key]
            if isinstance(value, (MapNode, SeqNode)):
                value.shared = True
            self.expanded += self.sizes[key]
            if self.expanded > self.max_expanded:
                raise self.error("aliases expand to too many nodes (an alias bomb?)", 0)
            return value, True
        if depth > self.max_depth:
            raise self.error(f"nesting deeper than {self.max_depth} levels", node.start_mark.index)
        before = self.expanded
        value = self._convert_new(node, depth)
        self.memo[key] = value
        self.expanded += 1
        self.sizes[key] = self.expanded - before
        return value, False

    def _convert_new(self, node: yaml.Node, depth: int) -> Any:
        tag = node.tag
        if tag.startswith("!") and tag != "!":
            return self._intrinsic(node, depth)
        if tag.startswith(_TAG) and tag[len(_TAG) :] not in _STANDARD:
            shown = "!!" + tag[len(_TAG) :]
            raise self.error(f"unsupported YAML tag {shown!r}", node.start_mark.index)
        if isinstance(node, yaml.ScalarNode):
            return _scalar_value(node)
        if isinstance(node, yaml.SequenceNode):
            return self._sequence(node, depth)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth)
        raise self.error("unsupported YAML node", node.start_mark.index)  # pragma: no cover

    def _intrinsic(self, node: yaml.Node, depth: int) -> MapNode | OpaqueNode:
        long_name = SHORT_TAGS.get(node.tag)
        start, end = node.start_mark.index, node.end_mark.index
        arg_start = start + len(node.tag)
        while arg_start < end and self.text[arg_start] in " \t\r\n":
            arg_start += 1
        if long_name is None:  # a preprocessor's tag (`!Rain::Embed`): kept, never looked into
            self.opaque[node.tag] = None
            return OpaqueNode(node.tag, self.text[arg_start:end].rstrip(), start, end)
        wrapper = MapNode(start, end)
        wrapper.short_tag = node.tag
        arg: Any
        if isinstance(node, yaml.ScalarNode):
            arg = node.value
            if node.tag == _GETATT_TAG and "." in arg:
                parts = SeqNode(arg_start, end, flow=True)
                parts.extend(arg.split(".", 1))
                parts.item_spans = [(arg_start, end), (arg_start, end)]
                arg = parts
        elif isinstance(node, yaml.SequenceNode):
            arg = self._sequence(node, depth)
        else:
            assert isinstance(node, yaml.MappingNode)
            arg = self._mapping(node, depth)
        if isinstance(arg, (MapNode, SeqNode)) and not isinstance(node, yaml.ScalarNode):
            arg.start = arg_start
        wrapper[long_name] = arg
        wrapper.key_spans[long_name] = (start, start + len(node.tag))
        wrapper.value_spans[long_name] = (arg_start, end)
        return wrapper

    def _sequence(self, node: yaml.SequenceNode, depth: int) -> SeqNode:
        seq = SeqNode(node.start_mark.index, node.end_mark.index, bool(node.flow_style))
        previous_end = seq.start + 1
        for item in node.value:
            value, alias = self.convert(item, depth + 1)
            span = (
                self.alias_span(previous_end)
                if alias
                else (item.start_mark.index, item.end_mark.index)
            )
            seq.append(value)
            seq.item_spans.append(span)
            previous_end = span[1]
        return seq

    def _mapping(self, node: yaml.MappingNode, depth: int) -> MapNode:
        mapping = MapNode(node.start_mark.index, node.end_mark.index, bool(node.flow_style))
        merged: list[MapNode] = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error("mapping keys must be scalars", key_node.start_mark.index)
            if key_node.tag == _TAG + "merge":
                merged.extend(self._merge_sources(value_node, depth))
                continue
            key = str(key_node.value)
            if key in mapping:
                first = self.line_col(mapping.key_spans[key][0])[0]
                raise self.error(
                    f"duplicate key {key!r} (first defined on line {first})",
                    key_node.start_mark.index,
                )
            value, alias = self.convert(value_node, depth + 1)
            key_span = (key_node.start_mark.index, key_node.end_mark.index)
            mapping[key] = value
            mapping.key_spans[key] = key_span
            mapping.value_spans[key] = (
                self.alias_span(key_span[1])
                if alias
                else (value_node.start_mark.index, value_node.end_mark.index)
            )
        for source in merged:  # YAML 1.1 merge keys: explicit keys win
            mapping.shared = True
            for key, value in source.items():
                if key not in mapping:
                    mapping[key] = value
                    mapping.key_spans[key] = source.key_spans[key]
                    mapping.value_spans[key] = source.value_spans[key]
        return mapping

    def _merge_sources(self, node: yaml.Node, depth: int) -> list[MapNode]:
        value, _ = self.convert(node, depth + 1)
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(s, MapNode) for s in sources):
            raise self.error("'<<' merge key needs a mapping", node.start_mark.index)
        return list(sources)


def load_yaml(text: str, max_depth: int = MAX_DEPTH, max_expanded: int = MAX_EXPANDED_NODES) -> Any:
    """Parse one YAML document into the model. Raises :class:`LoadError`."""
    _check_depth(text, max_depth)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is not None:
            raise LoadError(f"invalid YAML: {problem}", mark.line + 1, mark.column + 1) from None
        raise LoadError(f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise LoadError(f"invalid YAML: {str(exc).splitlines()[0]}") from None
    finally:
        loader.dispose()
    if node is None:
        raise LoadError("empty document")
    converter = _Converter(text, max_depth, max_expanded)
    try:
        value, _ = converter.convert(node)
    except RecursionError:
        raise LoadError(f"nesting deeper than {max_depth} levels") from None
    if isinstance(value, MapNode):
        value.opaque_tags = tuple(converter.opaque)
    return value
