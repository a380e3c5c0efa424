"""RT003: a stateful resource without DeletionPolicy / UpdateReplacePolicy loses its data."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.changes import SetKey
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ._policies import PREFERENCES, is_cluster_member, is_stateful, missing_policy
from ._values import set_description

_ATTRIBUTES = ("DeletionPolicy", "UpdateReplacePolicy")
# CloudFormation cannot delete these while they hold data (objects, images, recovery
# points, tables): a stack deletion fails instead of losing it (cfn-lint's I3011 leaves S3
# out for the same reason). An ECR repository with `EmptyOnDelete: true` is reported.
_DELETE_REQUIRES_EMPTY = frozenset(
    {
        "AWS::S3::Bucket",
        "AWS::S3Express::DirectoryBucket",
        "AWS::S3Tables::TableBucket",
        "AWS::ECR::Repository",
        "AWS::Backup::BackupVault",
    }
)
# Retaining these only leaves orphans behind: reported with the `orphan-types` option.
_ORPHAN_TYPES = frozenset({"AWS::Logs::LogGroup", "AWS::SQS::Queue"})


def _snapshot_by_default(resource: Resource) -> bool:
    """CloudFormation's default DeletionPolicy is Snapshot for RDS clusters and for RDS
    instances outside a cluster."""
    if resource.type == "AWS::RDS::DBCluster":
        return True
    return resource.type == "AWS::RDS::DBInstance" and not is_cluster_member(resource)


def _insert_before(resource: Resource, key: str) -> str | None:
    """Where a new policy attribute goes: next to its partner, else before Properties."""
    keys = list(resource.node)
    if key == "DeletionPolicy" and "UpdateReplacePolicy" in keys:
        return "UpdateReplacePolicy"
    if key == "UpdateReplacePolicy" and "DeletionPolicy" in keys:
        index = keys.index("DeletionPolicy")
        return keys[index + 1] if index + 1 < len(keys) else None
    return "Properties" if "Properties" in keys else None


class StatefulResourceWithoutPolicies(Rule):
    id = "RT003"
    name = "stateful-resource-without-policies"
    family = "retention"
    severity = Severity.WARNING
    summary = "Stateful resource without DeletionPolicy and UpdateReplacePolicy"
    what = """
Reports every resource of a type that holds data (DynamoDB tables, RDS and Aurora
clusters, DocumentDB, Neptune, EFS, FSx, ElastiCache, OpenSearch, Kinesis streams, KMS
keys, Cognito user pools, Secrets Manager secrets, SAM `SimpleTable`...
the stateful types of cfnfix's resource data) that lacks `DeletionPolicy`,
`UpdateReplacePolicy`, or both.

Not reported: S3 buckets, S3 directory and table buckets, ECR repositories (unless
`EmptyOnDelete: true`) and Backup vaults (CloudFormation refuses to delete them while they
hold data, so a stack deletion fails rather than losing it; cfn-lint's I3011 leaves S3
out for the same reason) and database instances that belong to a cluster (Aurora,
DocumentDB, Neptune: their data lives in the cluster). Log groups and SQS queues are
reported only with the option `orphan-types = true` (`[tool.cfnfix.rules.RT003]`):
retaining them mostly leaves
orphaned resources behind after a stack deletion.
"""
    why = """
Without the attributes CloudFormation deletes the resource, and its data, when the stack
is deleted or when the resource is removed from the template, and deletes the old
physical resource when an update replaces it (a renamed table, a changed key schema). A
rollback after a failed update can destroy data the same way. Setting only one of the
two leaves the other path open.
"""
    fix_safety = """
The fix is **safe**: policy attributes change nothing in the deployed resources, only what
CloudFormation does on a later delete or replacement.

With both attributes missing it writes `Snapshot` on resources that support final
snapshots (RDS and Aurora clusters, RDS instances that are not read replicas, DocumentDB
and Neptune clusters, Redshift, EBS volumes, Redis/Valkey ElastiCache), which is what
CloudFormation already does by default for RDS, and `Retain` on every other type (option
`policy`). With one attribute set to a literal the fix gives the other the same value, keeping the
author's choice.

Retained resources keep existing (and billing) after the stack is gone; a retained
resource with a fixed name (`BucketName`, `TableName`) makes re-creating the stack under
the same name fail until it is deleted or imported.
"""
    fix_availability = "always"
    options_schema = {
        "policy": {
            "type": "string",
            "enum": list(PREFERENCES),
            "default": "snapshot-or-retain",
            "description": "the policies the fix writes: Snapshot where supported else "
            "Retain, always Retain, or DeletionPolicy RetainExceptOnCreate",
        },
        "orphan-types": {
            "type": "boolean",
            "default": False,
            "description": "also report log groups and SQS queues (opt-in: retaining them "
            "leaves orphans behind)",
        },
    }
    examples = (
        Example(
            bad="""
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
""",
            good="""
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
""",
        ),
        Example(
            bad="""
Resources:
  Database:
    Type: AWS::RDS::DBCluster
    DeletionPolicy: Snapshot
    Properties:
      Engine: aurora-postgresql
""",
            good="""
Resources:
  Database:
    Type: AWS::RDS::DBCluster
    DeletionPolicy: Snapshot
    UpdateReplacePolicy: Snapshot
    Properties:
      Engine: aurora-postgresql
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for resource in template.resources.values():
            if not self._reported(resource):
                continue
            missing = missing_policy(template, resource, self.options["policy"])
            if not missing:
                continue
            if len(missing) == 2 and _snapshot_by_default(resource):
                message = (
                    f"{resource.type} has no DeletionPolicy and no UpdateReplacePolicy: a "
                    "stack deletion keeps a final snapshot by default, but an update that "
                    "replaces the resource deletes its data"
                )
            elif len(missing) == 2:
                message = (
                    f"{resource.type} holds data but has no DeletionPolicy and no "
                    "UpdateReplacePolicy: deleting the stack or replacing the resource "
                    "deletes its data"
                )
            elif "DeletionPolicy" in missing:
                message = (
                    f"{resource.type} has an UpdateReplacePolicy but no DeletionPolicy: "
                    "deleting the stack or the resource deletes its data"
                )
            else:
                message = (
                    f"{resource.type} has a DeletionPolicy but no UpdateReplacePolicy: "
                    "an update that replaces the resource deletes the old one's data"
                )
            description = set_description(missing)
            changes = [
                SetKey(resource.path, key, missing[key], before=_insert_before(resource, key))
                for key in _ATTRIBUTES
                if key in missing
            ]
            yield self.finding(resource.path, message, fix=Fix.safe(description, *changes))

    def _reported(self, resource: Resource) -> bool:
        if not is_stateful(resource) or is_cluster_member(resource):
            return False
        if resource.type in _DELETE_REQUIRES_EMPTY:
            return resource.properties.get("EmptyOnDelete") is True
        return resource.type not in _ORPHAN_TYPES or bool(self.options["orphan-types"])
