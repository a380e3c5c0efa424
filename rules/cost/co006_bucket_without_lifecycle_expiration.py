"""CO006: a bucket whose objects are kept in the most expensive class forever."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix_rules.retention._buckets import has_enabled_rule_with, lifecycle_rules
from cfnfix_rules.retention._values import readable

from cfnfix.rule import Example, Finding, Rule, Severity
from cfnfix.template import Template

# Lifecycle actions on current objects (noncurrent versions and incomplete uploads are
# RT009's and RT010's).
CURRENT_OBJECT_ACTIONS = ("ExpirationInDays", "ExpirationDate", "Transitions", "Transition")


class BucketWithoutLifecycleExpiration(Rule):
    id = "CO006"
    name = "bucket-without-lifecycle-expiration"
    family = "cost"
    severity = Severity.INFO
    resource_types = ("AWS::S3::Bucket",)
    summary = "S3 bucket without a lifecycle transition or expiration for its objects"
    what = """
Reports an `AWS::S3::Bucket` none of whose enabled lifecycle rules moves current objects
to a cheaper storage class (`Transitions`) or expires them (`ExpirationInDays`,
`ExpirationDate`). Buckets with `IntelligentTieringConfigurations` (storage costs are
managed there) and website buckets (`WebsiteConfiguration`: the objects are the site)
are not reported, nor are lifecycle configurations given by an intrinsic. Rules for
noncurrent versions and incomplete uploads do not count here: RT009 and RT010 report
those.
"""
    why = """
Everything written to a bucket stays in S3 Standard, billed every month, until someone
deletes it. For generated data (the seed's thumbnails, uploads once processed, exports,
logs) that is usually nobody: the bill grows with the bucket's age. A transition to
Standard-IA, Glacier or Intelligent-Tiering, or an expiration, states how long the data is
worth its price.
"""
    fix_safety = """
There is no fix: when objects may move to a colder class or be deleted is a decision
about the data (an expiration deletes it).
"""
    examples = (
        Example(
            bad="""
Resources:
  Thumbnails:
    Type: AWS::S3::Bucket
""",
            good="""
Resources:
  Thumbnails:
    Type: AWS::S3::Bucket
    Properties:
      LifecycleConfiguration:
        Rules:
          - Id: ToInfrequentAccess
            Status: Enabled
            Transitions:
              - StorageClass: STANDARD_IA
                TransitionInDays: 30
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for bucket in readable(template, "AWS::S3::Bucket"):
            props = bucket.properties
            if "IntelligentTieringConfigurations" in props or "WebsiteConfiguration" in props:
                continue
            rules = lifecycle_rules(bucket)
            if rules is None or has_enabled_rule_with(rules, *CURRENT_OBJECT_ACTIONS):
                continue
            yield self.finding(
                bucket.path,
                "bucket has no lifecycle rule that transitions or expires its objects: they "
                "stay in S3 Standard, billed, until someone deletes them",
            )
