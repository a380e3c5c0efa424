"""RT009: a versioned bucket that keeps every old version forever."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ._buckets import (
    append_rule,
    has_enabled_rule_with,
    lifecycle_rules,
    replication_destinations,
    versioning_status,
)
from ._values import readable


class BucketWithoutNoncurrentVersionExpiration(Rule):
    id = "RT009"
    name = "bucket-without-noncurrent-version-expiration"
    family = "retention"
    severity = Severity.WARNING
    resource_types = ("AWS::S3::Bucket",)
    summary = "Versioned S3 bucket without a lifecycle rule expiring noncurrent versions"
    what = """
Reports every `AWS::S3::Bucket` whose versioning is `Enabled` and none of whose enabled
lifecycle rules has `NoncurrentVersionExpiration` (or the older
`NoncurrentVersionExpirationInDays`). A rule limited to a prefix or tags counts: the rule
does not second-guess how the author split the bucket. A bucket that another bucket of
the template replicates into is not reported: a replica is versioned because replication
requires it, and it is there to keep what the source had.
"""
    why = """
A versioned bucket keeps every overwritten and deleted version, billed as stored data,
until something deletes it. Without an expiration rule the bucket grows forever.
"""
    fix_safety = """
The fix adds an enabled lifecycle rule (`Id` `ExpireNoncurrentVersions`) that deletes
versions `noncurrent-days` (90) days after they stop being current. It is **unsafe**: it
permanently deletes data the bucket keeps today. A replication destination, a backup or
a compliance bucket is versioned precisely to keep every version, and no lifecycle rule
is ever undone for the versions it already deleted. Choose the period per bucket.
"""
    fix_availability = "always"
    options_schema = {
        "noncurrent-days": {
            "type": "integer",
            "minimum": 1,
            "default": 90,
            "description": "the NoncurrentDays the added rule expires old versions after",
        }
    }
    examples = (
        Example(
            bad="""
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration:
        Status: Enabled
""",
            good="""
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration:
        Status: Enabled
      LifecycleConfiguration:
        Rules:
          - Id: ExpireNoncurrentVersions
            Status: Enabled
            NoncurrentVersionExpiration:
              NoncurrentDays: 90
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        days = self.options["noncurrent-days"]
        replicas = replication_destinations(template)
        for bucket in readable(template, "AWS::S3::Bucket"):
            if versioning_status(bucket) != "Enabled" or bucket.logical_id in replicas:
                continue
            rules = lifecycle_rules(bucket)
            if rules is None or has_enabled_rule_with(
                rules, "NoncurrentVersionExpiration", "NoncurrentVersionExpirationInDays"
            ):
                continue
            yield self.finding(
                bucket.path,
                "versioned bucket without a lifecycle rule expiring noncurrent versions: "
                "every old version is kept and billed forever",
                fix=Fix.unsafe(
                    f"expire noncurrent versions after {days} days",
                    append_rule(
                        bucket,
                        "ExpireNoncurrentVersions",
                        {
                            "Status": "Enabled",
                            "NoncurrentVersionExpiration": {"NoncurrentDays": days},
                        },
                    ),
                ),
            )
