"""Building blocks for fixes that add things: fresh names and born-compliant resources.

A resource a fix creates must already satisfy every rule (tags, deletion policy,
encryption), or one rule's fix would feed another rule forever.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from cfnfix.resource_data import type_info
from cfnfix.settings import Settings
from cfnfix.template import Template

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def logical_name(*parts: str) -> str:
    """A CloudFormation logical id from words: ``("my-fn", "dlq")`` -> ``MyFnDlq``."""
    words = [w for part in parts for w in _NOT_ALNUM.split(part) if w]
    return "".join(w[:1].upper() + w[1:] for w in words)[:255] or "Generated"


def sam_generated_names(template: Template) -> set[str]:
    """Logical ids the SAM transform will generate (a function's role, its event rules,
    permissions and queues, invoke configuration, URL, alias...)."""
    names: set[str] = set()
    if not template.is_sam:
        return names
    for resource in template.resources.values():
        if not resource.is_sam:
            continue
        rid = resource.logical_id
        names.update(f"{rid}{suffix}" for suffix in ("Role", "EventInvokeConfig", "Url", "Alias"))
        events = resource.properties.get("Events")
        for event in events if isinstance(events, dict) else ():
            names.update(
                f"{rid}{event}{suffix}"
                for suffix in ("", "Permission", "Queue", "QueuePolicy", "Role")
            )
    return names


def taken_names(template: Template) -> frozenset[str]:
    """Every name used in the shared namespace of parameters, resources, conditions...,
    and the names SAM will generate (computed once per template)."""

    def compute() -> frozenset[str]:
        names = sam_generated_names(template)
        for section in ("Parameters", "Resources", "Conditions", "Mappings", "Outputs", "Rules"):
            names.update(template.section(section))
        return frozenset(names)

    return template.memoize("compliant.taken-names", compute)


def unique_name(template: Template, base: str, reserved: Iterable[str] = ()) -> str:
    """``base``, or ``base2``, ``base3``... whichever is free in the template."""
    taken, also = taken_names(template), set(reserved)
    if base not in taken and base not in also:
        return base
    n = 2
    while f"{base}{n}" in taken or f"{base}{n}" in also:
        n += 1
    return f"{base}{n}"


def tags_value(type_name: str, settings: Settings, extra: dict[str, Any] | None = None) -> Any:
    """The required tags (plus ``extra``) in the shape ``type_name`` takes them."""
    info = type_info(type_name)
    tags = {**settings.required_tags, **(extra or {})}
    if info is None or not info.taggable:
        return None
    if info.tag_shape == "list":
        items = []
        for key, value in tags.items():
            item: dict[str, Any] = {"Key": key, "Value": value}
            if "PropagateAtLaunch" in info.tag_item_required:
                item["PropagateAtLaunch"] = True
            items.append(item)
        return items
    return dict(tags)


def new_resource(
    type_name: str,
    properties: dict[str, Any],
    settings: Settings,
    *,
    condition: str | None = None,
    depends_on: list[str] | None = None,
) -> dict[str, Any]:
    """A resource body that satisfies cfnfix's rules from birth.

    Adds the required tags (in the type's shape, under its tag property) and, for types
    that hold data, ``DeletionPolicy`` and ``UpdateReplacePolicy`` of ``Retain``.
    """
    info = type_info(type_name)
    body: dict[str, Any] = {"Type": type_name}
    if condition:
        body["Condition"] = condition
    if depends_on:
        body["DependsOn"] = depends_on if len(depends_on) > 1 else depends_on[0]
    if info is not None and info.stateful:
        body["DeletionPolicy"] = "Retain"
        body["UpdateReplacePolicy"] = "Retain"
    props = dict(properties)
    tags = tags_value(type_name, settings)
    if tags and info is not None and len(info.tag_path) == 1 and info.tag_path[0] not in props:
        props[info.tag_path[0]] = tags
    body["Properties"] = props
    return body
