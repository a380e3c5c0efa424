"""The template view rules work with: sections, resources, references, SAM Globals."""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Callable, Iterator, KeysView
from functools import cached_property
from pathlib import Path as FsPath
from typing import Any, Final, TypeVar

from cfnfix.collector import paused
from cfnfix.errors import LoadError, NotATemplate
from cfnfix.foreach import TRANSFORM as FOREACH_TRANSFORM
from cfnfix.foreach import Expanded, expand_resources
from cfnfix.intrinsics import PSEUDO_PARAMETERS, getatt_target, ref_target, sub_parts, sub_variables
from cfnfix.json_loader import load_json
from cfnfix.nodes import MapNode, Path, SeqNode, get_path
from cfnfix.records import FrozenRecord, Record
from cfnfix.source import Source
from cfnfix.yaml_loader import load_yaml

_LINE_BREAK = re.compile("\n")
T = TypeVar("T")
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
SECTIONS = (
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Globals",
    "Resources",
    "Outputs",
)
# SAM Globals section -> the resource type it applies to.
SAM_GLOBALS = {
    "Function": "AWS::Serverless::Function",
    "Api": "AWS::Serverless::Api",
    "HttpApi": "AWS::Serverless::HttpApi",
    "SimpleTable": "AWS::Serverless::SimpleTable",
    "StateMachine": "AWS::Serverless::StateMachine",
    "LayerVersion": "AWS::Serverless::LayerVersion",
    "CapacityProvider": "AWS::Serverless::CapacityProvider",
    "WebSocketApi": "AWS::Serverless::WebSocketApi",
}


class Location(FrozenRecord):
    __match_args__ = ("line", "column", "end_line", "end_column")
    __slots__ = __match_args__

    def __init__(self, line: int, column: int, end_line: int, end_column: int) -> None:
        self.line: Final = line
        self.column: Final = column
        self.end_line: Final = end_line
        self.end_column: Final = end_column


class Resource(Record):
    """One entry of ``Resources``."""

    __match_args__ = (
        "logical_id",
        "node",
        "type",
        "properties",
        "condition",
        "depends_on",
        "metadata",
        "deletion_policy",
        "update_replace_policy",
    )
    __slots__ = __match_args__

    def __init__(
        self,
        logical_id: str,
        node: MapNode,
        type: str,
        properties: dict[str, Any],
        condition: str | None,
        depends_on: list[str],
        metadata: dict[str, Any],
        deletion_policy: Any,
        update_replace_policy: Any,
    ) -> None:
        self.logical_id = logical_id
        self.node = node
        self.type = type
        self.properties = properties
        self.condition = condition
        self.depends_on = depends_on
        self.metadata = metadata
        self.deletion_policy = deletion_policy
        self.update_replace_policy = update_replace_policy

    @property
    def path(self) -> Path:
        return ("Resources", self.logical_id)

    def prop_path(self, *keys: str | int) -> Path:
        return ("Resources", self.logical_id, "Properties", *keys)

    @property
    def is_sam(self) -> bool:
        return self.type.startswith("AWS::Serverless::")


class RefTarget(FrozenRecord):
    """What a ``Ref`` (or ``${Name}``) points at."""

    __match_args__ = ("kind", "name", "node")
    __slots__ = __match_args__

    def __init__(self, kind: str, name: str, node: Any = None) -> None:
        self.kind: Final = kind  # "parameter" | "resource" | "pseudo" | "unknown"
        self.name: Final = name
        self.node: Final = node


class Template(Record):
    """A parsed template: its source and its model. What is derived from them (the line
    index, the rules' indexes) is neither given nor compared."""

    # Not slots: cached_property keeps its values in the instance's __dict__.
    __match_args__ = ("source", "root")

    def __init__(self, source: Source, root: MapNode) -> None:
        self.source = source
        self.root = root  # see the cached property below: what unload() takes
        self._line_starts: array[int] = array("q")
        # Indexes that rules derive from this template, computed once (see ``memoize``).
        self._memo: dict[str, Any] = {}

    def memoize(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()``, once per template: for indexes several checks look up."""
        if key not in self._memo:
            self._memo[key] = compute()
        value: T = self._memo[key]
        return value

    def forget_indexes(self) -> None:
        """Drop what :meth:`memoize` kept and the indexes of resources (each is computed
        again if asked for): a fixer that has what it needs of them frees their memory."""
        self._memo.clear()
        for name in _CACHED:
            self.__dict__.pop(name, None)

    def unload(self) -> None:
        """Let go of the model and of all that is derived from it; the next use parses the
        source again, which gives an equal model. A fixer unloads the version of a
        template it has moved on from (a large one before it parses the next version):
        the memory is reused, and whoever still holds this template may use it all the
        same."""
        self.__dict__.pop("root", None)
        self.forget_indexes()

    @cached_property
    def root(self) -> MapNode:
        """The model, parsed again from the source after :meth:`unload`. Given to the
        constructor, it is read from the instance's dictionary: rules read it tens of
        thousands of times, and a property's call would cost them more than the rest of
        reading it."""
        return _load(self.source)

    @classmethod
    def parse(cls, source: Source) -> Template:
        """Parse and check the shape of a template. Raises :class:`LoadError`."""
        return cls(source, _load(source))

    # -- positions -----------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.source.text

    @property
    def path(self) -> FsPath:
        return self.source.path

    def span(self, path: Path) -> tuple[int, int]:
        """The character span of the node at ``path`` (the deepest existing ancestor)."""
        path = self.real_path(path)
        node: Any = self.root
        span = (self.root.start, self.root.end)
        for key in path:
            if isinstance(node, MapNode) and isinstance(key, str) and key in node:
                span = node.value_span(key)
            elif isinstance(node, SeqNode) and isinstance(key, int) and 0 <= key < len(node):
                span = node.item_span(key)
            else:
                break
            node = node[key]
        return span

    def key_span(self, path: Path) -> tuple[int, int]:
        """The span of the *key* naming the node at ``path`` (or of the node itself)."""
        path = self.real_path(path)
        if path:
            try:
                parent = get_path(self.root, path[:-1])
            except KeyError:
                return self.span(path)
            if isinstance(parent, MapNode) and path[-1] in parent:
                assert isinstance(path[-1], str)
                return parent.key_span(path[-1])
        return self.span(path)

    def line_col(self, offset: int) -> tuple[int, int]:
        if not self._line_starts:  # the offset after each line break (twice as fast as find)
            self._line_starts = array("q", [0, *(m.end() for m in _LINE_BREAK.finditer(self.text))])
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def location(self, path: Path) -> Location:
        """Where a finding at ``path`` points: its key when it has one, else the node.

        Sorting, suppressions and reports all ask, so each path is located once.
        """
        locations: dict[Path, Location] = self.memoize("template.locations", dict)
        if path not in locations:
            locations[path] = self._locate(path)
        return locations[path]

    def _locate(self, path: Path) -> Location:
        start, _ = self.key_span(path)
        _, end = self.span(path)
        end = max(end, start)
        # Block collections end where the next token starts; point at their first line.
        end_text = self.text[start:end].rstrip()
        end = start + len(end_text)
        line, column = self.line_col(start)
        end_line, end_column = self.line_col(end)
        return Location(line, column, end_line, end_column)

    def source_text(self, path: Path) -> str:
        start, end = self.span(path)
        return self.text[start:end]

    # -- sections ------------------------------------------------------------------

    def section(self, name: str) -> dict[str, Any]:
        value = self.root.get(name)
        return value if isinstance(value, dict) else {}

    @property
    def parameters(self) -> dict[str, Any]:
        return self.section("Parameters")

    @property
    def conditions(self) -> dict[str, Any]:
        return self.section("Conditions")

    @property
    def outputs(self) -> dict[str, Any]:
        return self.section("Outputs")

    @property
    def mappings(self) -> dict[str, Any]:
        return self.section("Mappings")

    @property
    def globals(self) -> dict[str, Any]:
        return self.section("Globals")

    @cached_property
    def transforms(self) -> list[str]:
        value = self.root.get("Transform")
        items = value if isinstance(value, list) else [value]
        names = []
        for item in items:
            if isinstance(item, str):
                names.append(item)
            elif isinstance(item, dict) and isinstance(item.get("Name"), str):
                names.append(item["Name"])
        return names

    @property
    def is_sam(self) -> bool:
        return SAM_TRANSFORM in self.transforms

    @property
    def has_foreign_macros(self) -> bool:
        """Transforms other than SAM rewrite the template in ways cfnfix cannot see."""
        return any(name != SAM_TRANSFORM for name in self.transforms)

    @cached_property
    def resources(self) -> dict[str, Resource]:
        result: dict[str, Resource] = {}
        for logical_id, node in self.section("Resources").items():
            resource = _resource(logical_id, node)
            if resource is not None:
                result[logical_id] = resource
        for expanded in self._expanded:
            resource = _resource(expanded.logical_id, expanded.node)
            if resource is not None and expanded.logical_id not in result:
                result[expanded.logical_id] = resource
        return result

    @cached_property
    def foreach_bodies(self) -> dict[str, Path]:
        """Resources that `Fn::ForEach` loops stand for -> the path of the loop body."""
        if not self._expanded:
            return {}
        resources = self.resources
        return {
            e.logical_id: e.body_path
            for e in self._expanded
            if e.logical_id in resources and resources[e.logical_id].node is e.node
        }

    @cached_property
    def _expanded(self) -> list[Expanded]:
        if FOREACH_TRANSFORM not in self.transforms:
            return []
        return expand_resources(self.section("Resources"), self.parameters)

    def value_at(self, path: Path) -> Any:
        """The value at ``path``, resources of `Fn::ForEach` loops included (``get_path``
        on ``root`` sees only what is written). ``KeyError`` when there is none."""
        if len(path) >= 2 and path[0] == "Resources" and str(path[1]) in self.foreach_bodies:
            return get_path(self.resources[str(path[1])].node, path[2:])
        return get_path(self.root, path)

    def real_path(self, path: Path) -> Path:
        """Where ``path`` is written: a resource an `Fn::ForEach` loop stands for is
        written as the loop's body (see :mod:`cfnfix.foreach`)."""
        if len(path) >= 2 and path[0] == "Resources":
            body = self.foreach_bodies.get(str(path[1]))
            if body is not None:
                return (*body, *path[2:])
        return path

    @cached_property
    def _resources_by_type(self) -> dict[str, list[Resource]]:
        by_type: dict[str, list[Resource]] = {}
        for resource in self.resources.values():
            by_type.setdefault(resource.type, []).append(resource)
        return by_type

    @property
    def resource_types(self) -> KeysView[str]:
        """The types of the template's resources (those of `Fn::ForEach` loops included)."""
        return self._resources_by_type.keys()

    def resources_of(self, *types: str) -> Iterator[Resource]:
        """The resources of these types, in file order (indexed: rules ask often)."""
        found = [r for t in dict.fromkeys(types) if (r := self._resources_by_type.get(t))]
        if len(found) == 1:
            yield from found[0]
        elif found:
            order = self.memoize(
                "resource-order", lambda: {k: i for i, k in enumerate(self.resources)}
            )
            yield from sorted((r for rs in found for r in rs), key=lambda r: order[r.logical_id])

    # -- references ----------------------------------------------------------------

    def resolve(self, name: str) -> RefTarget:
        if name in PSEUDO_PARAMETERS:
            return RefTarget("pseudo", name)
        if name in self.parameters:
            return RefTarget("parameter", name, self.parameters[name])
        if name in self.resources:
            return RefTarget("resource", name, self.resources[name])
        return RefTarget("unknown", name)

    def resolve_ref(self, value: Any) -> RefTarget | None:
        """What a ``Ref`` value points at; ``None`` if ``value`` is no ``Ref``."""
        name = ref_target(value)
        return None if name is None else self.resolve(name)

    def resolve_getatt(self, value: Any) -> tuple[Resource, str] | None:
        target = getatt_target(value)
        if target and target[0] in self.resources:
            return self.resources[target[0]], target[1]
        return None

    def sub_targets(self, value: Any) -> list[RefTarget]:
        """What each ``${...}`` of a ``Fn::Sub`` points at (its own variables excluded)."""
        parts = sub_parts(value)
        if parts is None:
            return []
        text, variables = parts
        targets = []
        for name in sub_variables(text):
            if name in variables:
                continue
            targets.append(self.resolve(name.split(".", 1)[0]))
        return targets

    # -- SAM -------------------------------------------------------------------------

    def effective_properties(self, resource: Resource) -> dict[str, Any]:
        """A resource's properties with SAM ``Globals`` merged in, as SAM merges them.

        Maps merge key by key (the resource wins), lists concatenate (Globals first),
        anything else is overridden by the resource.
        """
        if not self.is_sam:
            return resource.properties
        for section, type_name in SAM_GLOBALS.items():
            if resource.type == type_name:
                defaults = self.globals.get(section)
                if isinstance(defaults, dict):
                    merged = merge_globals(defaults, resource.properties)
                    assert isinstance(merged, dict)
                    return merged
        return resource.properties

    def globals_section_for(self, resource: Resource) -> str | None:
        for section, type_name in SAM_GLOBALS.items():
            if resource.type == type_name and isinstance(self.globals.get(section), dict):
                return section
        return None


# What a template derives from its model once and keeps (see Template.forget_indexes).
_CACHED = tuple(
    name
    for name, value in vars(Template).items()
    if isinstance(value, cached_property) and name != "root"
)


def _load(source: Source) -> MapNode:
    """The model of ``source``, whose shape is checked. Raises :class:`LoadError`."""
    # The loaders allocate many objects and no cycles: without the collector's passes
    # over every live object, parsing is about 40% faster and linear in size.
    with paused():
        root = (
            load_json(source.text, source.max_depth)
            if source.is_json
            else load_yaml(source.text, source.max_depth, source.max_alias_nodes)
        )
    check_template_shape(root)
    assert isinstance(root, MapNode)
    return root


def _resource(logical_id: str, node: Any) -> Resource | None:
    if not isinstance(node, MapNode) or not isinstance(node.get("Type"), str):
        return None
    props = node.get("Properties")
    depends = node.get("DependsOn")
    metadata = node.get("Metadata")
    condition = node.get("Condition")
    return Resource(
        logical_id=logical_id,
        node=node,
        type=node["Type"],
        properties=props if isinstance(props, dict) else {},
        condition=condition if isinstance(condition, str) else None,
        depends_on=[depends]
        if isinstance(depends, str)
        else [d for d in depends if isinstance(d, str)]
        if isinstance(depends, list)
        else [],
        metadata=metadata if isinstance(metadata, dict) else {},
        deletion_policy=node.get("DeletionPolicy"),
        update_replace_policy=node.get("UpdateReplacePolicy"),
    )


def merge_globals(defaults: Any, own: Any) -> Any:
    if isinstance(defaults, dict) and isinstance(own, dict):
        if set(defaults) & {"Ref", "Fn::If", "Fn::Sub"} or set(own) & {"Ref", "Fn::If"}:
            return own
        merged = dict(defaults)
        for key, value in own.items():
            merged[key] = merge_globals(defaults[key], value) if key in defaults else value
        return merged
    if isinstance(defaults, list) and isinstance(own, list):
        return [*defaults, *own]
    return own


def check_template_shape(root: Any) -> None:
    """Raise :class:`NotATemplate` unless ``root`` looks like a CloudFormation template."""
    if not isinstance(root, MapNode):
        kind = "a list" if isinstance(root, list) else "a scalar"
        raise NotATemplate(f"not a CloudFormation template (the document is {kind})")
    declared = "AWSTemplateFormatVersion" in root or "Transform" in root
    if "Resources" not in root and not declared:
        raise NotATemplate("not a CloudFormation template (no Resources section)")
    resources = root.get("Resources")
    if "Resources" in root and not isinstance(resources, dict):
        if not declared:
            raise NotATemplate("not a CloudFormation template (Resources is not a mapping)")
        if resources is None:
            raise LoadError("the Resources section is empty")
        raise LoadError("the Resources section must be a mapping")


def load_template(source: Source) -> Template:
    try:
        return Template.parse(source)
    except LoadError:
        raise
    except RecursionError:
        raise LoadError("nesting too deep") from None
