"""Database resources: which ones own their backups and their deletion protection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.intrinsics import is_intrinsic
from cfnfix.nodes import Path
from cfnfix.template import Resource

from ._policies import is_cluster_member

# Type -> the property holding the days automated backups are kept.
BACKUP_RETENTION = {
    "AWS::RDS::DBInstance": "BackupRetentionPeriod",
    "AWS::RDS::DBCluster": "BackupRetentionPeriod",
    "AWS::DocDB::DBCluster": "BackupRetentionPeriod",
    "AWS::Neptune::DBCluster": "BackupRetentionPeriod",
    "AWS::Redshift::Cluster": "AutomatedSnapshotRetentionPeriod",
}

# Type -> the property turning deletion protection on.
DELETION_PROTECTION = {
    "AWS::RDS::DBInstance": "DeletionProtection",
    "AWS::RDS::DBCluster": "DeletionProtection",
    "AWS::DocDB::DBCluster": "DeletionProtection",
    "AWS::Neptune::DBCluster": "DeletionProtection",
    "AWS::DynamoDB::Table": "DeletionProtectionEnabled",
}


def owns_backups(resource: Resource) -> bool:
    """False for cluster members and read replicas: their source keeps the backups."""
    if is_cluster_member(resource):
        return False
    return not (
        resource.type == "AWS::RDS::DBInstance"
        and "SourceDBInstanceIdentifier" in resource.properties
    )


def global_table_replicas(table: Resource) -> Iterator[tuple[Path, dict[str, Any]]]:
    """``(path, replica)`` of each literal replica of an ``AWS::DynamoDB::GlobalTable``."""
    replicas = table.properties.get("Replicas")
    if not isinstance(replicas, list):
        return
    for index, replica in enumerate(replicas):
        if isinstance(replica, dict) and not is_intrinsic(replica):
            yield table.prop_path("Replicas", index), replica


def owner_path(path: Path) -> Path:
    """Where to report on a table's ``Properties`` or a replica: the resource, or the item."""
    return path[:-1] if path[-1] == "Properties" else path
