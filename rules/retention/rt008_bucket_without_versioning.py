"""RT008: an S3 bucket without versioning keeps no earlier copy of an object."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.changes import ReplaceValue, set_property
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ._buckets import versioning_status
from ._values import readable


class BucketWithoutVersioning(Rule):
    id = "RT008"
    name = "bucket-without-versioning"
    family = "retention"
    severity = Severity.WARNING
    resource_types = ("AWS::S3::Bucket",)
    summary = "S3 bucket without versioning"
    what = """
Reports every `AWS::S3::Bucket` without a `VersioningConfiguration`, or whose literal
`Status` is `Suspended`. A bucket whose `Metadata` opts out of cfn-guard's
`S3_BUCKET_VERSIONING_ENABLED` rule (`guard: {SuppressedRules: [...]}`) is not reported:
the author already decided (see docs/suppressions.md).
"""
    why = """
Without versioning, an overwrite or a delete (by a bug, a script or a person) destroys the
object: there is nothing to restore. Versioning keeps the earlier versions; pair it with a
lifecycle rule that expires them (RT009) so they do not pile up.
"""
    fix_safety = """
The fix sets `VersioningConfiguration: {Status: Enabled}` (or turns a literal `Suspended`
into `Enabled`) and is **unsafe**: versioning can be suspended but never removed from a
bucket again, every overwrite and delete then keeps a billed copy, and a bucket whose
lifecycle rules expire objects after a short period (logs, uploads, personal data) keeps
their old versions far longer than its author meant, until a noncurrent-version rule
(RT009) expires them.
"""
    fix_availability = "always"
    examples = (
        Example(
            bad="""
Resources:
  Bucket:
    Type: AWS::S3::Bucket
""",
            good="""
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration:
        Status: Enabled
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for bucket in readable(template, "AWS::S3::Bucket"):
            status = versioning_status(bucket)
            if status is None:
                yield self.finding(
                    bucket.path,
                    "bucket without versioning: an overwritten or deleted object is gone",
                    fix=Fix.unsafe(
                        "turn on versioning",
                        set_property(
                            bucket.logical_id, "VersioningConfiguration", {"Status": "Enabled"}
                        ),
                    ),
                )
            elif status == "Suspended":
                path = bucket.prop_path("VersioningConfiguration", "Status")
                yield self.finding(
                    path,
                    "bucket versioning is suspended: an overwritten or deleted object is gone",
                    fix=Fix.unsafe("turn on versioning", ReplaceValue(path, "Enabled")),
                )
