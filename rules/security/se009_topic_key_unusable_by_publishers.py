"""SE009: alarms (or S3, EventBridge) publishing to a topic whose key they cannot use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.changes import AppendItem
from cfnfix.intrinsics import GetAtt, function_of, getatt_target, ref_target
from cfnfix.rule import Example, Finding, Fix, Rule, Severity, listed
from cfnfix.template import Resource, Template

from ..dead_letter._refs import get
from ..retention._values import free_name, plain_properties, readable
from ._kms import (
    EXAMPLE_ALARM,
    KEY_TYPE,
    PUBLISH_ACTIONS,
    aws_managed,
    encrypt_topic,
    example_key,
    key_allows_service,
    service_statement,
)
from ._storage import TOPIC_TYPE, statement_ids, statements, topic_publishers


def ref_or_getatt(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` names."""
    target = getatt_target(value)
    return target[0] if target else ref_target(value)


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


class TopicKeyUnusableByPublishers(Rule):
    id = "SE009"
    name = "topic-key-unusable-by-publishers"
    family = "security"
    severity = Severity.ERROR
    resource_types = ("AWS::SNS::Topic",)
    summary = "Alarms, S3 or EventBridge publish to a topic whose KMS key they cannot use"
    what = """
Reports an `AWS::SNS::Topic` that AWS services publish to through the template (CloudWatch
alarms and composite alarms in `AlarmActions`, `OKActions` or `InsufficientDataActions`,
S3 bucket notifications in `TopicConfigurations`, EventBridge rule targets) when its
`KmsMasterKeyId` is a key those services cannot use:

- the AWS-managed key `alias/aws/sns`, spelled as an alias name, an alias ARN, a `!Sub` or
  `!Join` of one, a branch of `!If`, or the default of the parameter it refers to;
- a customer-managed `AWS::KMS::Key` of the template whose key policy has no `Allow`
  statement giving the service (or `*`) `kms:Decrypt` and `kms:GenerateDataKey*`. Key
  policies chosen by an intrinsic function are not judged.
"""
    why = """
An AWS service publishing to an encrypted topic must use the key itself. The policy of
an AWS-managed key cannot be changed and lets only principals of the account use it
through SNS: AWS services are not among them. A customer-managed key lets them only if
its policy says so. Otherwise CloudWatch cannot encrypt the notification, the publish
fails, and **the alarm notifies nobody**, with no error anywhere in the stack; S3 and
EventBridge drop their events the same way. This is the seed analysis's "encrypted alarm
topic" failure, which no other tool reports.
"""
    fix_safety = """
The fixes are **unsafe**.

- `alias/aws/sns`: the fix replaces it with a customer-managed key that the publishing
  services may use: the template's key when, among the keys whose policy already allows
  them, it is the sound choice (see SE002), else a new key `<Topic>Key` born compliant
  (rotation on, the required tags, Retain policies; a policy for the account and for each
  publishing service, with `aws:SourceAccount` where the service sends it). It creates a
  resource (a customer-managed key has a monthly fee), and IAM roles or users that
  publish to the topic then need `kms:GenerateDataKey*` and `kms:Decrypt` on the key.
  Only the `!If` branches that name the AWS-managed key change. A key that comes from a
  parameter is the deployer's choice: that finding has no fix (pass another key).
- A template key whose policy leaves a publishing service out: the fix appends, per
  service, a statement allowing it `kms:Decrypt` and `kms:GenerateDataKey*` (with
  `aws:SourceAccount` where the service sends it) to the key policy. It widens who may
  use the key; a policy written as a JSON string or a single statement gets no fix.
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
            if value is None:
                continue
            services = {
                service: [s for s in sources if self._direct(template, s)]
                for service, sources in publishers.get(topic.logical_id, {}).items()
            }
            sources = [s for found in services.values() for s in found]
            if not sources:
                continue
            shown = listed(sources)
            path = topic.prop_path("KmsMasterKeyId")
            if aws_managed(template, value, "sns"):
                yield self.finding(
                    path,
                    "topic is encrypted with the AWS-managed key alias/aws/sns, which AWS "
                    f"services cannot use: notifications from {shown} are never delivered",
                    fix=self._fix(template, topic, value, sorted(services)),
                )
                continue
            key = template.resources.get(ref_or_getatt(value) or "")
            if key is None or key.type != KEY_TYPE or not plain_properties(key):
                continue
            if statements(key.properties.get("KeyPolicy")) is None:
                continue  # a policy chosen by an intrinsic function is not judged
            missing = [
                service
                for service, found in services.items()
                if found and not key_allows_service(key, service, PUBLISH_ACTIONS)
            ]
            if missing:
                yield self.finding(
                    path,
                    f"the policy of key {key.logical_id} does not let {', '.join(missing)} "
                    f"use it: notifications from {shown} are never delivered",
                    fix=self._grant(key, missing),
                )

    @staticmethod
    def _direct(template: Template, source: str) -> bool:
        resource = template.resources.get(source)
        return resource is not None and resource.type != "AWS::SNS::TopicPolicy"

    @staticmethod
    def _grant(key: Resource, services: list[str]) -> Fix | None:
        listed = get(key.properties.get("KeyPolicy"), "Statement")
        if not isinstance(listed, list):
            return None  # a JSON string, or a single statement
        path = key.prop_path("KeyPolicy", "Statement")
        sids = statement_ids(listed)
        changes = []
        for service in services:
            statement = service_statement(service)
            statement["Sid"] = free_name(statement["Sid"], sids)
            changes.append(AppendItem(path, statement))
        return Fix.unsafe(
            f"let {', '.join(services)} use key {key.logical_id} for the topic", *changes
        )

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
