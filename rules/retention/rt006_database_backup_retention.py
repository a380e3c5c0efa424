"""RT006: a database whose automated backups are kept for too short a time."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.changes import ReplaceValue, set_property
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ._databases import BACKUP_RETENTION, owns_backups
from ._values import literal_int, readable


class DatabaseBackupRetention(Rule):
    id = "RT006"
    name = "database-backup-retention"
    family = "retention"
    severity = Severity.WARNING
    resource_types = (
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::DocDB::DBCluster",
        "AWS::Neptune::DBCluster",
        "AWS::Redshift::Cluster",
    )
    summary = "Database without a BackupRetentionPeriod of at least 7 days"
    what = """
Reports RDS DB instances, RDS and Aurora DB clusters, DocumentDB and Neptune clusters
without a `BackupRetentionPeriod`, or with a literal one below the `days` option (7), and
Redshift clusters likewise for `AutomatedSnapshotRetentionPeriod`. Instances that belong
to a cluster and read replicas are skipped: their cluster or source keeps the backups.
"""
    why = """
The default keeps automated backups for one day: a problem noticed after a weekend can
no longer be undone, and `0` turns backups (and point-in-time restore) off entirely.
"""
    fix_safety = """
Missing property: the fix sets it to `days` and is **safe**: raising the retention from
the one-day default is an in-place change with no interruption.

A literal value below `days` is a stated choice: raising it is **unsafe**. From `0` in
particular it turns backups on, which restarts an RDS instance. Values given by a
parameter are not judged.
"""
    fix_availability = "always"
    options_schema = {
        "days": {
            "type": "integer",
            "minimum": 1,
            "maximum": 35,
            "default": 7,
            "description": "the shortest accepted retention, and the value the fix writes",
        }
    }
    examples = (
        Example(
            bad="""
Resources:
  Database:
    Type: AWS::RDS::DBCluster
    Properties:
      Engine: aurora-postgresql
      BackupRetentionPeriod: 1
""",
            good="""
Resources:
  Database:
    Type: AWS::RDS::DBCluster
    Properties:
      Engine: aurora-postgresql
      BackupRetentionPeriod: 7
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        days = self.options["days"]
        for resource in readable(template, *BACKUP_RETENTION):
            if not owns_backups(resource):
                continue
            key = BACKUP_RETENTION[resource.type]
            if key not in resource.properties:
                yield self.finding(
                    resource.path,
                    f"{resource.type} without {key}: automated backups are kept for one day only",
                    fix=Fix.safe(
                        f"set {key} to {days}", set_property(resource.logical_id, key, days)
                    ),
                )
                continue
            value = literal_int(resource.properties[key])
            if value is None or value >= days:
                continue
            kept = (
                "turns automated backups off"
                if value == 0
                else f"keeps backups only {value} day{'' if value == 1 else 's'}"
            )
            path = resource.prop_path(key)
            yield self.finding(
                path,
                f"{key} {value} {kept}; keep them at least {days} days",
                fix=Fix.unsafe(f"raise {key} to {days}", ReplaceValue(path, days)),
            )
