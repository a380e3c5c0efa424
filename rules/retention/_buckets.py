"""Reading an S3 bucket's versioning and lifecycle rules."""

from __future__ import annotations

from typing import Any

from cfnfix.changes import AppendItem
from cfnfix.intrinsics import getatt_target, is_intrinsic
from cfnfix.template import Resource, Template

from ._values import free_name

RULES_PATH = ("LifecycleConfiguration", "Rules")


def versioning_status(bucket: Resource) -> str | None:
    """``Enabled`` / ``Suspended`` / ``None`` (not set); ``?`` when not a literal."""
    config = bucket.properties.get("VersioningConfiguration")
    if config is None:
        return None
    if not isinstance(config, dict) or is_intrinsic(config):
        return "?"
    status = config.get("Status")
    return status if isinstance(status, str) else "?"


def replication_destinations(template: Template) -> set[str]:
    """Buckets of the template that another bucket's replication rules write into."""
    found: set[str] = set()
    for bucket in template.resources_of("AWS::S3::Bucket"):
        rules = bucket.properties.get("ReplicationConfiguration")
        rules = rules.get("Rules") if isinstance(rules, dict) else None
        for rule in rules if isinstance(rules, list) else []:
            destination = rule.get("Destination") if isinstance(rule, dict) else None
            if isinstance(destination, dict):
                target = getatt_target(destination.get("Bucket")) or ()
                found.update(target[:1])
    return found


def lifecycle_rules(bucket: Resource) -> list[dict[str, Any]] | None:
    """The bucket's lifecycle rules; ``None`` when they cannot be read (intrinsics)."""
    config = bucket.properties.get("LifecycleConfiguration")
    if config is None:
        return []
    if not isinstance(config, dict) or is_intrinsic(config):
        return None
    rules = config.get("Rules", [])
    if not isinstance(rules, list):
        return None
    if any(not isinstance(rule, dict) or is_intrinsic(rule) for rule in rules):
        return None
    return rules


def has_enabled_rule_with(rules: list[dict[str, Any]], *actions: str) -> bool:
    """Whether an enabled rule (any filter) has one of ``actions``."""
    for rule in rules:
        status = rule.get("Status", "Enabled")
        if status != "Disabled" and any(action in rule for action in actions):
            return True
    return False


def append_rule(bucket: Resource, base_id: str, rule: dict[str, Any]) -> AppendItem:
    """Add ``rule`` with an ``Id`` no other rule of the bucket has."""
    rule_id = free_name(base_id, {r.get("Id") for r in lifecycle_rules(bucket) or []})
    return AppendItem(bucket.prop_path(*RULES_PATH), {"Id": rule_id, **rule})
