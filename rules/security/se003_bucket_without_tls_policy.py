"""SE003: an S3 bucket whose policy does not deny requests made without TLS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.changes import AppendItem, add_resource
from cfnfix.compliant import logical_name, new_resource, unique_name
from cfnfix.intrinsics import GetAtt, Ref, Sub
from cfnfix.rule import Applicability, Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ..dead_letter._refs import get
from ..retention._values import free_name, readable
from ._kms import POLICY_VERSION
from ._storage import (
    BUCKET_POLICY_TYPE,
    BUCKET_TYPE,
    bucket_policies,
    cloudfront_origins,
    denies_insecure_transport,
    statement_ids,
    statements,
)

SID = "DenyInsecureTransport"


def tls_statement(bucket: str, sid: str = SID) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [GetAtt(bucket, "Arn"), Sub("${" + bucket + ".Arn}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


class BucketWithoutTlsPolicy(Rule):
    id = "SE003"
    name = "bucket-without-tls-policy"
    family = "security"
    severity = Severity.WARNING
    resource_types = ("AWS::S3::Bucket",)
    summary = "S3 bucket without a bucket policy that denies requests made without TLS"
    what = """
Reports every `AWS::S3::Bucket` that no `AWS::S3::BucketPolicy` of the template protects
with a `Deny` statement under the condition `aws:SecureTransport` `false`. A policy
applies to the bucket when its `Bucket` is a `!Ref` to it or is spelled exactly as the
bucket's `BucketName`.

Buckets with a `WebsiteConfiguration` are not reported: S3 website endpoints speak only
HTTP, so such a statement would take the website down.
"""
    why = """
S3 accepts plain HTTP requests unless a bucket policy refuses them. Objects and
credentials-signed requests then cross the network unencrypted, open to reading and
tampering on the way. The statement costs nothing: every AWS SDK, the CLI and the console
use HTTPS.
"""
    fix_safety = """
The fix adds the statement (`Principal: "*"`, `Action: s3:*`, on the bucket and its
objects):

- Into the template's existing policy for the bucket, as one more statement: **safe**, an
  in-place policy update that only refuses plain-HTTP requests, which is what the finding
  asks. Unsafe for the origin bucket of a CloudFront distribution that lets viewers use
  HTTP (`ViewerProtocolPolicy: allow-all`): CloudFront fetches from S3 with the viewer's
  protocol, so those viewers would get errors. A policy whose statements cannot be read
  (an intrinsic function, a JSON string) is not edited and the finding has no fix; a
  bucket has a single policy, so a second one is never created next to it.
- Otherwise as a new `AWS::S3::BucketPolicy` `<Bucket>Policy` (not taggable; under the
  bucket's condition): **unsafe**. It creates a resource, and a bucket has one policy: a
  policy set outside the template (by a script, the console or another stack) is
  replaced by this one.
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad="""
Resources:
  Uploads:
    Type: AWS::S3::Bucket
  UploadsPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Uploads
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal:
              Service: logging.s3.amazonaws.com
            Action: s3:PutObject
            Resource: !Sub '${Uploads.Arn}/logs/*'
""",
            good="""
Resources:
  Uploads:
    Type: AWS::S3::Bucket
  UploadsPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Uploads
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal:
              Service: logging.s3.amazonaws.com
            Action: s3:PutObject
            Resource: !Sub '${Uploads.Arn}/logs/*'
          - Sid: DenyInsecureTransport
            Effect: Deny
            Principal: '*'
            Action: s3:*
            Resource:
              - !GetAtt Uploads.Arn
              - !Sub '${Uploads.Arn}/*'
            Condition:
              Bool:
                aws:SecureTransport: 'false'
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        policies = bucket_policies(template)
        for bucket in readable(template, BUCKET_TYPE):
            if "WebsiteConfiguration" in bucket.properties:
                continue
            own = policies.get(bucket.logical_id, [])
            readable_statements = [statements(p.properties.get("PolicyDocument")) for p in own]
            if any(s is None for s in readable_statements):
                continue  # a policy cfnfix cannot read may well deny plain HTTP
            if any(
                denies_insecure_transport(s) for found in readable_statements for s in found or []
            ):
                continue
            yield self.finding(
                bucket.path,
                "no bucket policy denies requests without TLS (aws:SecureTransport false): "
                "S3 accepts plain HTTP",
                fix=self._fix(template, bucket, own),
            )

    def _fix(self, template: Template, bucket: Resource, own: list[Resource]) -> Fix | None:
        bid = bucket.logical_id
        if len(own) > 1:
            return None
        if own:
            [policy] = own
            listed = get(policy.properties.get("PolicyDocument"), "Statement")
            if not isinstance(listed, list):
                return None  # a JSON string, or a single statement
            sid = free_name(SID, statement_ids(listed))
            return Fix(
                f"add a statement denying requests without TLS to {policy.logical_id}",
                (
                    AppendItem(
                        policy.prop_path("PolicyDocument", "Statement"), tls_statement(bid, sid)
                    ),
                ),
                Applicability.UNSAFE
                if cloudfront_origins(template).get(bid)
                else Applicability.SAFE,
            )
        name = unique_name(template, logical_name(bid, "Policy"))
        body = new_resource(
            BUCKET_POLICY_TYPE,
            {
                "Bucket": Ref(bid),
                "PolicyDocument": {"Version": POLICY_VERSION, "Statement": [tls_statement(bid)]},
            },
            self.settings,
            condition=bucket.condition,
        )
        return Fix.unsafe(
            f"create bucket policy {name} denying requests without TLS",
            add_resource(name, body),
        )
