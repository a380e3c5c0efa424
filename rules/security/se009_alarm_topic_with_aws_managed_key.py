"""SE009: alarms (or S3, EventBridge) publishing to a topic under ``alias/aws/sns``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.intrinsics import GetAtt, function_of
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ..retention._values import readable
from ._kms import EXAMPLE_ALARM, PUBLISH_ACTIONS, aws_managed, encrypt_topic, example_key
from ._storage import TOPIC_TYPE, topic_publishers

MAX_SHOWN = 3


def without_managed_key(template: Template, value: Any, key: Any) -> Any:
    """``value`` with each spelling of ``alias/aws/sns`` replaced by ``key`` (through
    ``Fn::If`` branches); ``None`` when it comes from a parameter (the deployer's choice)."""
    fn = function_of(value)
    if fn is not None and fn[0] == "Fn::If" and isinstance(fn[1], list) and len(fn[1]) == 3:
        branches = [without_managed_key(template, b, key) for b in fn[1][1:]]
        if any(b is None for b in branches):
            return None
        return {"Fn::If": [fn[1][0], *branches]}
    if not aws_managed(template, value, "sns"):
        return value
    return None if fn is not None and fn[0] == "Ref" else key


class AlarmTopicWithAwsManagedKey(Rule):
    id = "SE009"
    name = "alarm-topic-with-aws-managed-key"
    family = "security"
    severity = Severity.ERROR
    summary = "Alarms, S3 or EventBridge publish to a topic encrypted with alias/aws/sns"
    what = """
Reports an `AWS::SNS::Topic` whose `KmsMasterKeyId` is the AWS-managed key
`alias/aws/sns` (as an alias name, an alias ARN, a `!Sub` or `!Join` of one, a branch of
`!If`, or the default of the parameter it refers to) when AWS services publish to it
through the template: CloudWatch alarms and composite alarms (`AlarmActions`,
`OKActions`, `InsufficientDataActions`), S3 bucket notifications
(`TopicConfigurations`) and EventBridge rule targets.
"""
    why = """
The policy of an AWS-managed key cannot be changed, and it lets only principals of the
account use the key through SNS: AWS services are not among them. CloudWatch cannot
encrypt the alarm notification, the publish fails, and **the alarm notifies nobody**,
with no error anywhere in the stack. S3 and EventBridge drop their events the same way.
"""
    fix_safety = """
The fix replaces the AWS-managed key with a customer-managed key that the publishing
services may use: the template's key when it is the sound choice (see SE002) and its key
policy already allows them, else a new key `<Topic>Key` born compliant (rotation on,
the required tags, Retain policies; a policy for the account and for each publishing
service, with `aws:SourceAccount` where the service sends it). It is **unsafe**: it
creates a resource (a customer-managed key has a monthly fee), and IAM roles or users
that publish to the topic then need `kms:GenerateDataKey*` and `kms:Decrypt` on the key.
Only the `!If` branches that name the AWS-managed key change. A key that comes from a
parameter is the deployer's choice: that finding has no fix (pass another key).
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad=f"""
Resources:
  AlarmTopic:
    Type: AWS::SNS::Topic
    Properties:
      KmsMasterKeyId: alias/aws/sns
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
        publishers = topic_publishers(template)
        for topic in readable(template, TOPIC_TYPE):
            value = topic.properties.get("KmsMasterKeyId")
            if value is None or not aws_managed(template, value, "sns"):
                continue
            services = {
                service: [s for s in sources if self._direct(template, s)]
                for service, sources in publishers.get(topic.logical_id, {}).items()
            }
            sources = [s for found in services.values() for s in found]
            if not sources:
                continue
            shown = ", ".join(sources[:MAX_SHOWN]) + (" and more" if len(sources) > 3 else "")
            path = topic.prop_path("KmsMasterKeyId")
            yield self.finding(
                path,
                f"topic is encrypted with the AWS-managed key alias/aws/sns, which AWS services "
                f"cannot use: notifications from {shown} are never delivered",
                fix=self._fix(template, topic, value, sorted(services)),
            )

    @staticmethod
    def _direct(template: Template, source: str) -> bool:
        resource = template.resources.get(source)
        return resource is not None and resource.type != "AWS::SNS::TopicPolicy"

    def _fix(
        self, template: Template, topic: Resource, value: Any, services: list[str]
    ) -> Fix | None:
        if without_managed_key(template, value, "") is None:
            return None
        return encrypt_topic(
            template,
            self.settings,
            topic,
            services,
            lambda key: without_managed_key(template, value, GetAtt(key, "Arn")),
        )
