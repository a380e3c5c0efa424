"""RT010: a bucket that keeps the parts of failed multipart uploads forever."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ._buckets import append_rule, has_enabled_rule_with, lifecycle_rules
from ._values import readable


class BucketWithoutAbortIncompleteMultipartUpload(Rule):
    id = "RT010"
    name = "bucket-without-abort-incomplete-multipart-upload"
    family = "retention"
    severity = Severity.WARNING
    resource_types = ("AWS::S3::Bucket",)
    summary = "S3 bucket without a lifecycle rule aborting incomplete multipart uploads"
    what = """
Reports every `AWS::S3::Bucket` none of whose enabled lifecycle rules has
`AbortIncompleteMultipartUpload`.
"""
    why = """
The parts of a multipart upload that never completed (a crashed client, a killed job) stay
in the bucket, invisible in object listings and billed as storage, until the upload is
aborted. A lifecycle rule aborts them automatically.
"""
    fix_safety = """
The fix adds an enabled lifecycle rule (`Id` `AbortIncompleteMultipartUploads`) that aborts
uploads still incomplete `days` (7) days after they started. It is **safe**: objects are
untouched; only uploads older than the period can no longer be completed.
"""
    fix_availability = "always"
    options_schema = {
        "days": {
            "type": "integer",
            "minimum": 1,
            "default": 7,
            "description": "the DaysAfterInitiation after which incomplete uploads are aborted",
        }
    }
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
      LifecycleConfiguration:
        Rules:
          - Id: AbortIncompleteMultipartUploads
            Status: Enabled
            AbortIncompleteMultipartUpload:
              DaysAfterInitiation: 7
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        days = self.options["days"]
        for bucket in readable(template, "AWS::S3::Bucket"):
            rules = lifecycle_rules(bucket)
            if rules is None or has_enabled_rule_with(rules, "AbortIncompleteMultipartUpload"):
                continue
            yield self.finding(
                bucket.path,
                "bucket without a lifecycle rule aborting incomplete multipart uploads: "
                "their parts are kept and billed forever",
                fix=Fix.safe(
                    f"abort incomplete multipart uploads after {days} days",
                    append_rule(
                        bucket,
                        "AbortIncompleteMultipartUploads",
                        {
                            "Status": "Enabled",
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days},
                        },
                    ),
                ),
            )
