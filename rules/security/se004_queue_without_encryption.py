"""SE004: an SQS queue whose encryption at rest is turned off or not stated."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.changes import ReplaceValue, set_property
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ..dead_letter._refs import QUEUE_TYPE, as_bool, has_value
from ..retention._values import readable

MANAGED = "SqsManagedSseEnabled"


class QueueWithoutEncryption(Rule):
    id = "SE004"
    name = "queue-without-encryption"
    family = "security"
    severity = Severity.WARNING
    resource_types = ("AWS::SQS::Queue",)
    summary = "SQS queue with SqsManagedSseEnabled false, or no encryption stated"
    what = """
Reports an `AWS::SQS::Queue` with neither `KmsMasterKeyId` nor `SqsManagedSseEnabled`
(**info**), and one with `SqsManagedSseEnabled: false` and no `KmsMasterKeyId`
(**warning**: its messages are stored unencrypted). Values that are intrinsic functions
are not judged.
"""
    why = """
Since late 2022 SQS encrypts new queues with SSE-SQS when nothing is stated, so a queue
without either property is encrypted on creation, but a queue created earlier is not,
and the template does not say which it is: stating it makes every deployment the same.
`SqsManagedSseEnabled: false` without a KMS key turns encryption at rest off: messages
(often whole events with personal data) sit on disk in clear text for up to 14 days.
"""
    fix_safety = """
The fix sets `SqsManagedSseEnabled: true` (SSE-SQS, keys managed by SQS). Nothing in the
queue's use changes: producers, consumers and AWS services that send to the queue (SNS,
S3, EventBridge) need no extra permission, unlike with a KMS key. Not stated: **safe**,
the fix states what SQS already does for new queues (an older queue gets encrypted in
place). Stated `false`: **unsafe**, as it reverses a choice the template made.
"""
    fix_availability = "always"
    examples = (
        Example(
            bad="""
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      SqsManagedSseEnabled: false
""",
            good="""
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      SqsManagedSseEnabled: true
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for queue in readable(template, QUEUE_TYPE):
            props = queue.properties
            if has_value(props.get("KmsMasterKeyId")):
                continue
            if MANAGED not in props:
                yield self.finding(
                    queue.path,
                    "queue does not state its encryption at rest (SqsManagedSseEnabled or "
                    "KmsMasterKeyId)",
                    fix=Fix.safe(
                        "encrypt with SSE-SQS", set_property(queue.logical_id, MANAGED, True)
                    ),
                    severity=Severity.INFO,
                )
            elif as_bool(props[MANAGED]) is False:
                path = queue.prop_path(MANAGED)
                yield self.finding(
                    path,
                    "queue turns encryption at rest off (SqsManagedSseEnabled false and no "
                    "KmsMasterKeyId): messages are stored in clear text",
                    fix=Fix.unsafe("encrypt with SSE-SQS", ReplaceValue(path, True)),
                )
