"""RT007: a database that one API call (or one stack operation) can delete."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.changes import ReplaceValue, SetKey
from cfnfix.nodes import Path
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ._databases import DELETION_PROTECTION, global_table_replicas, owner_path
from ._policies import is_cluster_member
from ._values import literal_bool, readable


class DatabaseWithoutDeletionProtection(Rule):
    id = "RT007"
    name = "database-without-deletion-protection"
    family = "retention"
    severity = Severity.WARNING
    resource_types = (
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::DocDB::DBCluster",
        "AWS::Neptune::DBCluster",
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
    )
    summary = "Database or DynamoDB table without deletion protection"
    what = """
Reports RDS DB instances, RDS and Aurora DB clusters, DocumentDB and Neptune clusters
whose `DeletionProtection` is missing or false, and DynamoDB tables (and global table
replicas) whose `DeletionProtectionEnabled` is. Skipped: instances that belong to a
cluster (the cluster's setting applies) and resources whose `DeletionPolicy` is `Delete`
(the template says the stack may delete them; RT004 reports that).
"""
    why = """
Without deletion protection, a stack deletion, a resource removed from the template, a
replacing update or a single API call deletes the database. With it, every deletion
fails until someone turns protection off on purpose.
"""
    fix_safety = """
Missing property: the fix turns protection on and is **safe** (an in-place update with no
interruption). From then on deleting the stack, or an update that replaces the database,
fails until protection is turned off: that is the point.

A literal `false` is a stated choice: the fix turning protection on is **unsafe**.
"""
    fix_availability = "always"
    examples = (
        Example(
            bad="""
Resources:
  Database:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      DBInstanceClass: db.t4g.micro
      AllocatedStorage: '20'
      DeletionProtection: false
""",
            good="""
Resources:
  Database:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      DBInstanceClass: db.t4g.micro
      AllocatedStorage: '20'
      DeletionProtection: true
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for resource in readable(template, *DELETION_PROTECTION):
            if is_cluster_member(resource) or resource.deletion_policy == "Delete":
                continue
            key = DELETION_PROTECTION[resource.type]
            yield from self._check(resource.prop_path(), resource.properties, key, resource.type)
        for resource in readable(template, "AWS::DynamoDB::GlobalTable"):
            if resource.deletion_policy == "Delete":
                continue
            for path, replica in global_table_replicas(resource):
                yield from self._check(
                    path, replica, "DeletionProtectionEnabled", "global table replica"
                )

    def _check(self, path: Path, owner: dict[str, Any], key: str, what: str) -> Iterator[Finding]:
        if key not in owner:
            yield self.finding(
                owner_path(path),
                f"{what} without {key}: a stack operation or one API call can delete it",
                fix=Fix.safe(f"set {key} to true", SetKey(path, key, True)),
            )
        elif literal_bool(owner[key]) is False:
            yield self.finding(
                (*path, key),
                f"{what} has {key} false: a stack operation or one API call can delete it",
                fix=Fix.unsafe(f"set {key} to true", ReplaceValue((*path, key), True)),
            )
