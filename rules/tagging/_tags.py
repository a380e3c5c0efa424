"""Shared helpers of the tagging family: where a resource's tags live and what they hold.

The facts per type (tag property, shape, create-only) come from
:func:`cfnfix.resource_data.type_info`; this module turns them into *sites* (the places
in a template whose tags apply to one resource: its own tag property and, in SAM
templates, the ``Globals`` section covering it) and reads the keys each site holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from cfnfix.changes import AppendItem, Change, ReplaceValue, SetKey
from cfnfix.intrinsics import function_of, getatt_target, ref_target, sub_parts, sub_variables
from cfnfix.nodes import MapNode, Path, SeqNode, walk
from cfnfix.records import Record
from cfnfix.resource_data import type_info
from cfnfix.template import Resource, Template

# Limits CloudFormation and the tagging APIs enforce on user-defined tags.
MAX_TAGS = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
RESERVED_PREFIX = "aws:"

# Types tagged through ``TagSpecifications`` items, with the ``ResourceType`` that tags
# the resource itself (other items tag what it launches, e.g. ``instance``).
SPECIFICATION_RESOURCE_TYPES: dict[str, str] = {
    "AWS::EC2::CapacityReservation": "capacity-reservation",
    "AWS::EC2::CapacityReservationFleet": "capacity-reservation-fleet",
    "AWS::EC2::ClientVpnEndpoint": "client-vpn-endpoint",
    "AWS::EC2::EC2Fleet": "fleet",
    "AWS::EC2::LaunchTemplate": "launch-template",
}

# Types the provider schemas do not mark as taggable (no tagging metadata and no ``Tags``
# property) although their ``TagSpecifications`` tag the resource itself. Their tags are
# not updated in place by CloudFormation (``tagUpdatable: false`` or create-only), so
# fixes are unsafe.
_SPECIFICATION_ONLY_TYPES = frozenset(
    {"AWS::EC2::ClientVpnEndpoint", "AWS::EC2::EC2Fleet", "AWS::EC2::LaunchTemplate"}
)

# The SAM Globals sections that accept Tags (samtranslator's Globals.supported_properties);
# SAM rejects Tags in the others (Api, SimpleTable, StateMachine, LayerVersion).
GLOBALS_WITH_TAGS = ("Function", "HttpApi")

SHAPE_WORDS = {
    "list": "a list of {Key, Value} items",
    "map": "a map of key: value",
    "json": "a JSON object",
}


class TagSpec(NamedTuple):
    """How one resource type takes tags."""

    type_name: str
    # Property path of the tags; "*" stands for every item of a list
    # (("TagSpecifications", "*", "Tags")).
    path: tuple[str, ...]
    shape: str  # "list" | "map" | "json"
    item_required: tuple[str, ...]  # extra keys of list items, e.g. ("PropagateAtLaunch",)
    create_only: bool  # changing the tags replaces the resource
    specification_type: str | None = None  # the ResourceType of its TagSpecifications item

    @property
    def property_name(self) -> str:
        return self.path[0]

    @property
    def in_specifications(self) -> bool:
        return "*" in self.path


def tag_spec(type_name: str) -> TagSpec | None:
    """How ``type_name`` takes tags; ``None`` when it takes none (or is unknown)."""
    if type_name in _SPECIFICATION_ONLY_TYPES:
        return TagSpec(
            type_name,
            ("TagSpecifications", "*", "Tags"),
            "list",
            (),
            True,
            SPECIFICATION_RESOURCE_TYPES[type_name],
        )
    info = type_info(type_name)
    if info is None or not info.taggable or info.tag_shape is None:
        return None
    path = info.tag_path
    if "*" in path and (path[1:] != ("*", "Tags") or len(path) != 3):
        return None  # a layout this family does not know how to edit
    return TagSpec(
        type_name,
        path,
        info.tag_shape,
        info.tag_item_required,
        info.tags_create_only,
        SPECIFICATION_RESOURCE_TYPES.get(type_name),
    )


# SAM adds the tags of an HttpApi to its OpenAPI document: only an inline OpenAPI 3
# DefinitionBody (or none: SAM generates one) can take them (samtranslator's
# HttpApiGenerator._add_tags and OpenApiEditor.is_valid).
_OPENAPI_3 = re.compile(r"\A3(\.\d)(\.\d)?$")


def tags_refused(template: Template, resource: Resource) -> str | None:
    """Why this resource cannot take tags although its type can, or ``None``."""
    if resource.type != "AWS::Serverless::HttpApi":
        return None
    props = template.effective_properties(resource)
    if "DefinitionUri" in props:
        return "SAM adds HttpApi tags to an inline OpenAPI DefinitionBody, not to DefinitionUri"
    body = props.get("DefinitionBody")
    if body is None:
        return None
    if (
        isinstance(body, dict)
        and function_of(body) is None
        and isinstance(body.get("paths"), dict)
        and bool(body.get("openapi"))
        and _OPENAPI_3.match(str(body["openapi"]))
    ):
        return None
    return "SAM adds HttpApi tags only to a DefinitionBody that is an inline OpenAPI 3 document"


# -- reading tags -------------------------------------------------------------------


class Entry(NamedTuple):
    """One literal tag: where it is, its key and value (either may be an intrinsic)."""

    path: Path  # the list item, or the map value
    key: Any
    value: Any
    conditional: bool  # inside an Fn::If branch
    item_keys: frozenset[str] | None = None  # list items: every key of the item


class TagRead(NamedTuple):
    """What a tag property holds."""

    # "absent" | "list" | "map" | "json-string" | "conditional" (an Fn::If) |
    # "unknown" (another intrinsic, or a value that is no tags at all)
    form: str
    keys: frozenset[str] = frozenset()  # literal keys present (in any Fn::If branch)
    complete: bool = True  # False when some key is hidden behind an intrinsic
    entries: tuple[Entry, ...] = ()
    json_object: dict[str, Any] | None = None  # the parsed object of a JSON string
    json_text: str | None = None  # the JSON string itself


def _is_no_value(value: Any) -> bool:
    return ref_target(value) == "AWS::NoValue"


def _if_branches(value: Any) -> list[tuple[int, Any]] | None:
    """The ``(index, branch)`` pairs of an ``Fn::If``; ``None`` for anything else."""
    fn = function_of(value)
    if fn is None or fn[0] != "Fn::If" or not isinstance(fn[1], list) or len(fn[1]) != 3:
        return None
    return [(1, fn[1][1]), (2, fn[1][2])]


def _item_entry(item: Any, path: Path, conditional: bool) -> tuple[Entry | None, bool]:
    """The entry of one list item and whether its key is known."""
    if isinstance(item, dict) and function_of(item) is None:
        key = item.get("Key")
        entry = Entry(path, key, item.get("Value"), conditional, frozenset(item))
        return entry, isinstance(key, str)
    if function_of(item) is not None:
        return None, False  # e.g. an item given by !Ref or !FindInMap
    return None, True  # not a tag at all: a shape problem, not a hidden key


def _list_entries(items: list[Any], path: Path) -> tuple[list[Entry], bool]:
    entries: list[Entry] = []
    complete = True
    for index, item in enumerate(items):
        item_path = (*path, index)
        branches = _if_branches(item)
        if branches is None:
            found = [(item, item_path, False)]
        else:
            found = [
                (branch, (*item_path, "Fn::If", b), True)
                for b, branch in branches
                if not _is_no_value(branch)
            ]
        for value, value_path, conditional in found:
            entry, known = _item_entry(value, value_path, conditional)
            complete = complete and known
            if entry is not None:
                entries.append(entry)
    return entries, complete


def read_tags(value: Any, path: Path, present: bool = True) -> TagRead:
    """Read the tags ``value`` found at ``path`` (``present=False``: no such property)."""
    if not present or value is None or _is_no_value(value):
        return TagRead("absent")
    branches = _if_branches(value)
    if branches is not None:
        keys: set[str] = set()
        complete = True
        entries: list[Entry] = []
        for b, branch in branches:
            inner = read_tags(branch, (*path, "Fn::If", b))
            keys |= inner.keys
            complete = complete and inner.complete and inner.form != "unknown"
            entries.extend(Entry(e.path, e.key, e.value, True, e.item_keys) for e in inner.entries)
        return TagRead("conditional", frozenset(keys), complete, tuple(entries))
    if isinstance(value, list):
        found, complete = _list_entries(value, path)
        keys = {e.key for e in found if isinstance(e.key, str)}
        return TagRead("list", frozenset(keys), complete, tuple(found))
    if isinstance(value, dict):
        if function_of(value) is not None:
            return TagRead("unknown", complete=False)
        entries = [Entry((*path, k), k, v, False) for k, v in value.items()]
        return TagRead("map", frozenset(value), True, tuple(entries))
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return TagRead("unknown", complete=False)
        if isinstance(parsed, dict):
            entries = [Entry(path, k, v, False) for k, v in parsed.items()]
            return TagRead("json-string", frozenset(parsed), True, tuple(entries), parsed, value)
    return TagRead("unknown", complete=False)


def shape_fits(form: str, shape: str) -> bool:
    """Whether tags written as ``form`` are what a type of ``shape`` takes."""
    if form == "list":
        return shape in ("list", "json")
    if form == "map":
        return shape in ("map", "json")
    if form == "json-string":
        return shape == "json"
    return True  # absent, conditional, unknown: nothing to say


# -- where the tags of a resource are -----------------------------------------------


class Site(NamedTuple):
    """One place whose tags apply to a resource."""

    # "tags": ``path`` is the tag value (it may not exist yet);
    # "new-specification": ``path`` is the TagSpecifications list (it may not exist),
    # which has no item for the resource itself yet;
    # "globals": ``path`` is ``Globals/<section>/Tags`` (it exists).
    kind: str
    path: Path
    read: TagRead
    globals_section: str | None = None
    specification_count: int = 0  # "new-specification": items already in the list


def _follow(properties: dict[str, Any], keys: tuple[str, ...]) -> tuple[bool, Any, bool]:
    """Walk ``keys`` down mappings: ``(present, value, blocked)``.

    ``blocked``: an intrinsic (or a non-mapping) stands on the way, so the tags are unknown.
    """
    node: Any = properties
    for key in keys:
        if node is None:
            return False, None, False
        if not isinstance(node, dict) or function_of(node) is not None:
            return True, node, True
        if key not in node:
            return False, None, False
        node = node[key]
    return True, node, False


def resource_sites(template: Template, resource: Resource, spec: TagSpec) -> list[Site]:
    """The places whose tags apply to ``resource``: SAM Globals first, then its own."""
    sites: list[Site] = []
    section = template.globals_section_for(resource) if template.is_sam else None
    if section in GLOBALS_WITH_TAGS and spec.path == ("Tags",):
        defaults = template.globals[section]
        if "Tags" in defaults:
            path: Path = ("Globals", section, "Tags")
            read = read_tags(defaults["Tags"], path)
            sites.append(Site("globals", path, read, section))
    if not spec.in_specifications:
        present, value, blocked = _follow(resource.properties, spec.path)
        path = resource.prop_path(*spec.path)
        if blocked:
            sites.append(Site("tags", path, TagRead("unknown", complete=False)))
        else:
            sites.append(Site("tags", path, read_tags(value, path, present)))
        return sites
    # TagSpecifications: [{ResourceType, Tags}, ...]
    name = spec.property_name
    specs = resource.properties.get(name)
    list_path = resource.prop_path(name)
    if specs is None:
        sites.append(Site("new-specification", list_path, TagRead("absent")))
        return sites
    if not isinstance(specs, list):
        sites.append(Site("tags", list_path, TagRead("unknown", complete=False)))
        return sites
    matched = False
    for index, item in enumerate(specs):
        if not isinstance(item, dict) or function_of(item) is not None:
            sites.append(Site("tags", (*list_path, index), TagRead("unknown", complete=False)))
            continue
        kind = item.get("ResourceType")
        if not isinstance(kind, str):
            sites.append(Site("tags", (*list_path, index), TagRead("unknown", complete=False)))
            continue
        if kind != spec.specification_type:
            continue
        matched = True
        path = (*list_path, index, "Tags")
        sites.append(Site("tags", path, read_tags(item.get("Tags"), path, "Tags" in item)))
    if not matched:
        sites.append(
            Site("new-specification", list_path, TagRead("absent"), specification_count=len(specs))
        )
    return sites


def through_alias(root: Any, path: Path) -> bool:
    """Whether ``path`` runs through a YAML anchor or alias (the writer edits none)."""
    node = root
    for key in path:
        if isinstance(node, (MapNode, SeqNode)) and node.shared:
            return True
        if isinstance(node, dict) and isinstance(key, str) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            return False
    return isinstance(node, (MapNode, SeqNode)) and node.shared


# -- writing tags ---------------------------------------------------------------------


def list_item(key: str, value: Any, spec: TagSpec) -> dict[str, Any]:
    item: dict[str, Any] = {"Key": key, "Value": value}
    if "PropagateAtLaunch" in spec.item_required:
        item["PropagateAtLaunch"] = True
    return item


def new_tags_value(tags: dict[str, Any], spec: TagSpec) -> Any:
    """A whole tag property holding ``tags``, in the type's shape."""
    if spec.shape == "list":
        return [list_item(k, v, spec) for k, v in tags.items()]
    return dict(tags)


def add_tags_changes(site: Site, spec: TagSpec, tags: dict[str, Any]) -> list[Change] | None:
    """Changes that add ``tags`` at ``site`` in the shape found there; ``None`` if unsure."""
    read = site.read
    if site.kind == "new-specification":
        if spec.specification_type is None:
            return None
        item = {
            "ResourceType": spec.specification_type,
            "Tags": [list_item(k, v, spec) for k, v in tags.items()],
        }
        if site.specification_count == 0:
            return [SetKey(site.path[:-1], str(site.path[-1]), [item])]
        return [AppendItem(site.path, item)]
    shape = "map" if site.kind == "globals" else spec.shape
    if read.form == "absent" and site.kind != "globals":
        key = site.path[-1]
        if not isinstance(key, str):
            return None
        return [SetKey(site.path[:-1], key, new_tags_value(tags, spec))]
    if read.form == "list" and shape in ("list", "json"):
        return [AppendItem(site.path, list_item(k, v, spec)) for k, v in tags.items()]
    if read.form == "map" and shape in ("map", "json"):
        return [SetKey(site.path, k, v) for k, v in tags.items()]
    if read.form == "json-string" and shape == "json" and read.json_object is not None:
        if not all(isinstance(v, str) for v in tags.values()):
            return None  # an intrinsic cannot go into a JSON string
        merged = {**read.json_object, **tags}
        text = read.json_text or ""
        compact = '":"' in text or '","' in text  # keep the string's own separators
        separators = (",", ":") if compact else (", ", ": ")
        return [ReplaceValue(site.path, json.dumps(merged, separators=separators))]
    return None


# -- checking configured values -------------------------------------------------------


class ValueProblems(Record):
    __match_args__ = ("missing", "resources")
    __slots__ = __match_args__

    def __init__(
        self, missing: list[str] | None = None, resources: list[str] | None = None
    ) -> None:
        self.missing = [] if missing is None else missing  # names the template does not define
        self.resources = [] if resources is None else resources  # resources referenced


def _references(value: Any) -> Iterator[tuple[str, str]]:
    """``(kind, name)`` of every Ref / GetAtt / Sub variable / FindInMap map in ``value``."""
    for _, node in walk(value):
        name = ref_target(node)
        if name is not None:
            yield "ref", name
            continue
        target = getatt_target(node)
        if target is not None:
            yield "getatt", target[0]
            continue
        parts = sub_parts(node)
        if parts is not None:
            text, variables = parts
            for var in sub_variables(text):
                if var not in variables:
                    yield "ref", var.split(".", 1)[0]
            continue
        fn = function_of(node)
        args = fn[1] if fn is not None and fn[0] == "Fn::FindInMap" else None
        if isinstance(args, list) and args and isinstance(args[0], str):
            yield "map", args[0]


def value_problems(template: Template, value: Any) -> ValueProblems:
    """What would make ``value`` invalid (or circular) in ``template``."""
    problems = ValueProblems()
    for kind, name in _references(value):
        if kind == "map":
            if name not in template.mappings:
                problems.missing.append(name)
            continue
        target = template.resolve(name)
        if target.kind == "unknown":
            problems.missing.append(name)
        elif target.kind == "resource" or kind == "getatt":
            problems.resources.append(name)
    return problems


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid tag key, or ``None``."""
    if not key:
        return "is empty"
    if key.lower().startswith(RESERVED_PREFIX):
        return f"starts with the reserved prefix {RESERVED_PREFIX!r}"
    if len(key) > MAX_KEY_LENGTH:
        return f"is longer than {MAX_KEY_LENGTH} characters ({len(key)})"
    return None


def value_problem(value: Any) -> str | None:
    """Why a literal tag value is not valid, or ``None`` (intrinsics are not judged)."""
    if isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
        return f"is longer than {MAX_VALUE_LENGTH} characters ({len(value)})"
    return None
