"""Test-only rules that edit every resource, to stress the shared writer on real files.

Loaded with ``--rules-dir tests/plugins``; never shipped.
"""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.changes import AppendItem, SetKey, set_attribute, set_property
from cfnfix.intrinsics import Ref, Sub
from cfnfix.nodes import MapNode, SeqNode, walk
from cfnfix.rule import Finding, Fix, Rule
from cfnfix.template import Template


class StressInsertEverywhere(Rule):
    id = "ZZ001"
    name = "stress-insert-everywhere"
    family = "stress"
    summary = "Adds a key to every resource, a property, and a nested block"
    what = "Test rule."
    why = "Test rule."
    fix_availability = "always"

    def check(self, template: Template) -> Iterator[Finding]:
        for resource in template.resources.values():
            if resource.node.get("Metadata", {}).get("stressed") == "yes":
                continue
            yield self.finding(
                resource.path,
                "not stressed",
                fix=Fix.safe(
                    "stress",
                    set_attribute(resource.logical_id, "Metadata", {"stressed": "yes"})
                    if "Metadata" not in resource.node
                    else SetKey((*resource.path, "Metadata"), "stressed", "yes"),
                    set_property(
                        resource.logical_id,
                        "ZzNested",
                        {
                            "List": [{"Key": "a", "Value": "true"}, "yes", 12, "0123"],
                            "Ref": Ref("AWS::Region"),
                            "Sub": Sub("arn:${AWS::Partition}:s3:::x"),
                            "Quote": "it's: # tricky",
                            "Empty": {},
                        },
                    ),
                ),
            )


class StressAppendEverywhere(Rule):
    id = "ZZ002"
    name = "stress-append-everywhere"
    family = "stress"
    summary = "Appends an item to every non-intrinsic list under resources"
    what = "Test rule."
    why = "Test rule."
    fix_availability = "always"

    def check(self, template: Template) -> Iterator[Finding]:
        for path, value in walk(template.section("Resources"), ("Resources",)):
            if not isinstance(value, SeqNode) or value.shared or "zz-stress" in value:
                continue
            parent = template.root
            try:
                for key in path[:-1]:
                    parent = parent[key]
            except (KeyError, IndexError, TypeError):
                continue
            if isinstance(parent, MapNode) and (
                parent.short_tag or (len(parent) == 1 and str(path[-1]).startswith(("Fn::", "Ref")))
            ):
                continue
            yield self.finding(
                path, "no stress item", fix=Fix.safe("append", AppendItem(path, "zz-stress"))
            )
