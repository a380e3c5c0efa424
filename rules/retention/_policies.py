"""Which DeletionPolicy / UpdateReplacePolicy protects a stateful resource's data."""

from __future__ import annotations

from cfnfix.resource_data import type_info
from cfnfix.template import Resource, Template

from ._values import literal_str, possible_strings, referenced_resource

# Instances whose data lives in their cluster: deleting one loses nothing, and retaining
# one that belongs to a deleted cluster blocks the cluster's deletion.
_MEMBER_TYPES = ("AWS::DocDB::DBInstance", "AWS::Neptune::DBInstance")

PREFERENCES = ("snapshot-or-retain", "retain", "retain-except-on-create")


def is_stateful(resource: Resource) -> bool:
    info = type_info(resource.type)
    return info is not None and info.stateful


def maybe_aurora(resource: Resource) -> bool:
    """An RDS instance whose engine is, or may be, Aurora (an Aurora cluster's member)."""
    if resource.type != "AWS::RDS::DBInstance" or "Engine" not in resource.properties:
        return False
    engines = possible_strings(resource.properties["Engine"])
    return any(engine.lower().startswith("aurora") for engine in engines)


def is_cluster_member(resource: Resource) -> bool:
    """A database instance of a cluster (Aurora, DocumentDB, Neptune): no data of its own."""
    if resource.type in _MEMBER_TYPES:
        return True
    if resource.type == "AWS::RDS::DBInstance":
        return "DBClusterIdentifier" in resource.properties or maybe_aurora(resource)
    return False


def supports_snapshot(resource: Resource) -> bool:
    """Whether ``Snapshot`` is a valid policy for this resource (not only for its type)."""
    info = type_info(resource.type)
    if info is None or not info.supports_snapshot:
        return False
    props = resource.properties
    if resource.type == "AWS::ElastiCache::CacheCluster":
        # Memcached has no snapshots; an engine only known at deploy time may be memcached.
        engine = literal_str(props.get("Engine"))
        return engine is not None and engine.lower() in ("redis", "valkey")
    if resource.type == "AWS::RDS::DBInstance":
        # Read replicas and cluster members cannot take a final snapshot.
        return "SourceDBInstanceIdentifier" not in props and not is_cluster_member(resource)
    return True


def _mirror(value: str) -> str:
    """The UpdateReplacePolicy matching a DeletionPolicy (and the other way round)."""
    return "Retain" if value == "RetainExceptOnCreate" else value


def protective_policies(template: Template, resource: Resource, preference: str) -> tuple[str, str]:
    """(DeletionPolicy, UpdateReplacePolicy) that keep the resource's data."""
    if is_cluster_member(resource):
        cluster = referenced_resource(template, resource.properties.get("DBClusterIdentifier"))
        if cluster is not None and not is_cluster_member(cluster):
            policy = literal_str(cluster.deletion_policy)
            if policy is None:
                policy = protective_policies(template, cluster, preference)[0]
        else:
            policy = None
        # The cluster keeps the data: a member follows it, so that a retained cluster keeps
        # its instances and a deleted (snapshotted) cluster is not blocked by a retained one.
        if policy in ("Retain", "RetainExceptOnCreate"):
            return "Retain", "Retain"
        return "Delete", "Delete"
    if preference == "snapshot-or-retain" and supports_snapshot(resource):
        return "Snapshot", "Snapshot"
    if preference == "retain-except-on-create":
        return "RetainExceptOnCreate", "Retain"
    return "Retain", "Retain"


def _author_choice(resource: Resource, value: object, choices: tuple[str, ...]) -> str | None:
    """The literal policy ``value`` when it is one of ``choices`` (or a supported Snapshot)."""
    chosen = literal_str(value)
    if chosen in choices or (chosen == "Snapshot" and supports_snapshot(resource)):
        return chosen
    return None


def missing_policy(template: Template, resource: Resource, preference: str) -> dict[str, str]:
    """The policy attributes a stateful resource lacks, with the values a fix writes.

    When one of the two is set to a literal, the other mirrors it (the author's choice is
    kept); otherwise the protective values are used.
    """
    deletion = resource.deletion_policy
    replace = resource.update_replace_policy
    protective = protective_policies(template, resource, preference)
    missing: dict[str, str] = {}
    if deletion is None:
        chosen = _author_choice(resource, replace, ("Delete", "Retain"))
        missing["DeletionPolicy"] = chosen if chosen is not None else protective[0]
    if replace is None:
        chosen = _author_choice(resource, deletion, ("Delete", "Retain", "RetainExceptOnCreate"))
        missing["UpdateReplacePolicy"] = _mirror(chosen) if chosen is not None else protective[1]
    return missing
