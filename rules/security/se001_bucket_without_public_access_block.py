"""SE001: an S3 bucket that does not block public access with all four settings."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.changes import ReplaceValue, SetKey, set_property
from cfnfix.intrinsics import is_intrinsic
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ..dead_letter._refs import as_bool
from ..retention._values import readable
from ._storage import BUCKET_TYPE, public_intent

FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
CONFIG = "PublicAccessBlockConfiguration"


class BucketWithoutPublicAccessBlock(Rule):
    id = "SE001"
    name = "bucket-without-public-access-block"
    family = "security"
    severity = Severity.WARNING
    resource_types = ("AWS::S3::Bucket",)
    summary = "S3 bucket without a PublicAccessBlockConfiguration that sets all four flags"
    what = """
Reports every `AWS::S3::Bucket` whose `PublicAccessBlockConfiguration` is missing, lacks
one of `BlockPublicAcls`, `BlockPublicPolicy`, `IgnorePublicAcls` and
`RestrictPublicBuckets`, or sets one of them to `false`.

Buckets that look **meant to be public** are not reported, because blocking public access
would break them: a bucket with a `WebsiteConfiguration`, an `AccessControl` of
`PublicRead`, `PublicReadWrite` or `AuthenticatedRead` (or one chosen by an intrinsic
function), or a bucket policy of the template that allows `Principal: "*"` (or cannot be
read). Flags whose value is an intrinsic function (`!Ref`, `!If`) are the template's
choice and are not judged.
"""
    why = """
Public access block settings are the guard rail that keeps a wrong ACL or bucket policy
(by a person, a script or a later template change) from exposing the bucket's objects to
the internet. S3 has enabled them on new buckets by default since April 2023, but a
bucket created earlier, or one whose settings were changed, keeps whatever it has: only
the template stating all four makes every deployment the same. An omitted flag in a
configuration means `false`.
"""
    fix_safety = """
A missing configuration or missing flags: the fix sets the four flags to `true` and is
**safe**: an in-place update that changes only what the finding asks for. Public ACLs and
public bucket policies stop working, which the template does not use (buckets that use
them are not reported); objects that were made public by hand or by an application with
a `public-read` ACL stop being public, so check for such uploads first.

A flag set to `false` is a stated choice: turning it on is **unsafe**.
"""
    fix_availability = "always"
    examples = (
        Example(
            bad="""
Resources:
  Uploads:
    Type: AWS::S3::Bucket
""",
            good="""
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for bucket in readable(template, BUCKET_TYPE):
            if public_intent(template, bucket) is not None:
                continue
            config = bucket.properties.get(CONFIG)
            if config is None:
                yield self.finding(
                    bucket.path,
                    "bucket does not block public access (no PublicAccessBlockConfiguration)",
                    fix=Fix.safe(
                        "block public access with all four flags",
                        set_property(bucket.logical_id, CONFIG, dict.fromkeys(FLAGS, True)),
                    ),
                )
                continue
            if not isinstance(config, dict) or is_intrinsic(config):
                continue
            path = bucket.prop_path(CONFIG)
            missing = [flag for flag in FLAGS if flag not in config]
            off = [flag for flag in FLAGS if flag in config and as_bool(config[flag]) is False]
            if missing:
                yield self.finding(
                    path,
                    f"public access block does not set {', '.join(missing)} (omitted means false)",
                    fix=Fix.safe(
                        f"set {', '.join(missing)} to true",
                        *(SetKey(path, flag, True) for flag in missing),
                    ),
                )
            if off:
                yield self.finding(
                    bucket.prop_path(CONFIG, off[0]),
                    f"public access block turns off {', '.join(off)}",
                    fix=Fix.unsafe(
                        f"set {', '.join(off)} to true",
                        *(ReplaceValue((*path, flag), True) for flag in off),
                    ),
                )
