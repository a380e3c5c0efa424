"""SE005: an SNS topic without encryption at rest."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.changes import set_property
from cfnfix.intrinsics import GetAtt
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ..retention._values import readable
from ._kms import EXAMPLE_ALARM, PUBLISH_ACTIONS, encrypt_topic, example_key
from ._storage import TOPIC_TYPE, topic_publishers

AWS_MANAGED_KEY = "alias/aws/sns"


class TopicWithoutEncryption(Rule):
    id = "SE005"
    name = "topic-without-encryption"
    family = "security"
    severity = Severity.WARNING
    resource_types = ("AWS::SNS::Topic",)
    summary = "SNS topic without KmsMasterKeyId (messages not encrypted at rest)"
    what = """
Reports every `AWS::SNS::Topic` without a `KmsMasterKeyId`.
"""
    why = """
Unlike S3, SQS and DynamoDB, SNS does not encrypt a topic's messages at rest unless the
topic names a KMS key. Messages are stored until every subscriber received them, which
for a failing subscriber can be days of retries.
"""
    fix_safety = """
The fix is **unsafe**: publishers need the right to use the key, and which key fits
depends on who publishes:

- No AWS service publishes to the topic through the template (no CloudWatch alarm action,
  S3 bucket notification, EventBridge rule target, or topic policy allowing a service):
  `KmsMasterKeyId: alias/aws/sns`, the AWS-managed key, which every principal of the
  account allowed to publish may use with no policy change. AWS services (and other
  accounts) cannot use that key: one publishing from outside the template stops
  delivering.
- AWS services publish to it: the AWS-managed key would silently drop their messages
  (see SE009), so the fix uses the template's customer-managed key when, among the keys
  whose policy already lets those services in, it is the sound choice (see SE002), and
  creates a key `<Topic>Key` (rotation on, the required tags, Retain policies; a policy
  for the account and for each publishing service, with `aws:SourceAccount` where the
  service sends it). IAM roles and users that publish then need `kms:GenerateDataKey*`
  and `kms:Decrypt` on the key; a customer-managed key costs a monthly fee.
"""
    fix_availability = "always"
    examples = (
        Example(
            bad="""
Resources:
  Events:
    Type: AWS::SNS::Topic
""",
            good="""
Resources:
  Events:
    Type: AWS::SNS::Topic
    Properties:
      KmsMasterKeyId: alias/aws/sns
""",
        ),
        Example(
            bad=f"""
Resources:
  AlarmTopic:
    Type: AWS::SNS::Topic
{EXAMPLE_ALARM}""",
            good=f"""
Resources:
  AlarmTopic:
    Type: AWS::SNS::Topic
    Properties:
      KmsMasterKeyId: !GetAtt AlarmTopicKey.Arn
{example_key("AlarmTopicKey", "cloudwatch.amazonaws.com", list(PUBLISH_ACTIONS))}{EXAMPLE_ALARM}""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for topic in readable(template, TOPIC_TYPE):
            if "KmsMasterKeyId" in topic.properties:
                continue
            yield self.finding(
                topic.path,
                "topic has no KmsMasterKeyId: its messages are not encrypted at rest",
                fix=self._fix(template, topic),
            )

    def _fix(self, template: Template, topic: Resource) -> Fix:
        services = sorted(topic_publishers(template).get(topic.logical_id, {}))
        if not services:
            return Fix.unsafe(
                f"encrypt with the AWS-managed key {AWS_MANAGED_KEY}",
                set_property(topic.logical_id, "KmsMasterKeyId", AWS_MANAGED_KEY),
            )
        return encrypt_topic(
            template, self.settings, topic, services, lambda key: GetAtt(key, "Arn")
        )
