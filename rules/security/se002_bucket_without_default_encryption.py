"""SE002: an S3 bucket whose default encryption the template does not state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.changes import set_property
from cfnfix.intrinsics import GetAtt
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ..retention._values import readable
from ._kms import pick_key
from ._storage import BUCKET_TYPE, public_intent, sse_s3_only


def encryption(default: dict[str, Any], bucket_key: bool = False) -> dict[str, Any]:
    rule: dict[str, Any] = {"ServerSideEncryptionByDefault": default}
    if bucket_key:
        rule["BucketKeyEnabled"] = True
    return {"ServerSideEncryptionConfiguration": [rule]}


class BucketWithoutDefaultEncryption(Rule):
    id = "SE002"
    name = "bucket-without-default-encryption"
    family = "security"
    severity = Severity.INFO
    resource_types = ("AWS::S3::Bucket",)
    summary = "S3 bucket without a stated default encryption (BucketEncryption)"
    what = """
Reports every `AWS::S3::Bucket` without `BucketEncryption`.
"""
    why = """
Since January 2023 S3 encrypts every new object with SSE-S3 (AES256) when the bucket
states nothing, so such a bucket is not unencrypted: the finding is informational. Stating
the encryption makes it reviewable, keeps it from depending on a service default, and is
where SSE-KMS with a customer-managed key (who may read is then also decided by the key
policy, and every use is in CloudTrail) is chosen.
"""
    fix_safety = """
The fix states the encryption. Which one:

- **SSE-KMS** with the template's customer-managed key when there is exactly one sound
  choice: the one symmetric `AWS::KMS::Key` that other buckets of the template already
  use, else the template's only symmetric key when nothing uses it yet (a key that only
  other kinds of resource use, say an alarm topic, was made for them; a key under another
  condition than the bucket does not count), with `BucketKeyEnabled: true` (fewer KMS
  requests, lower cost). It is **unsafe**: new objects are encrypted with that key, so
  every writer and reader (roles, services, other accounts) then needs
  `kms:GenerateDataKey`/`kms:Decrypt` on it, through the key policy or IAM; existing
  objects keep their encryption.
- **SSE-S3** (`AES256`) otherwise, and always for buckets that receive logs from AWS
  services (S3 server access logs, CloudFront, load balancers deliver only to SSE-S3
  buckets), CloudFront origins (an origin access identity cannot decrypt SSE-KMS) and
  buckets meant to be public (anonymous readers cannot use a KMS key; see SE001). It is
  **safe**: it is what S3 already does for a bucket without a stated encryption.
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
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: AES256
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for bucket in readable(template, BUCKET_TYPE):
            if "BucketEncryption" in bucket.properties:
                continue
            yield self.finding(
                bucket.path,
                "bucket does not state its default encryption (S3 applies SSE-S3 when "
                "nothing is stated)",
                fix=self._fix(template, bucket),
            )

    def _fix(self, template: Template, bucket: Resource) -> Fix:
        key = pick_key(template, bucket)
        if key is not None and (
            bucket.logical_id in sse_s3_only(template) or public_intent(template, bucket)
        ):
            key = None
        if key is None:
            return Fix.safe(
                "state SSE-S3 (AES256) default encryption",
                set_property(
                    bucket.logical_id, "BucketEncryption", encryption({"SSEAlgorithm": "AES256"})
                ),
            )
        default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": GetAtt(key.logical_id, "Arn")}
        return Fix.unsafe(
            f"encrypt new objects with SSE-KMS and key {key.logical_id}",
            set_property(bucket.logical_id, "BucketEncryption", encryption(default, True)),
        )
