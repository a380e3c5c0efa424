"""SE007: a CloudWatch Logs log group not encrypted with a customer-managed key."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.changes import set_property
from cfnfix.intrinsics import GetAtt
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ..retention._values import readable
from ._kms import example_key, key_allows_service, pick_key

LOG_GROUP = "AWS::Logs::LogGroup"
LOGS_SERVICE = "logs.amazonaws.com"
LOGS_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*")
_KEY = example_key(
    "LogsKey",
    "!Sub 'logs.${AWS::Region}.amazonaws.com'",
    ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
)


class LogGroupWithoutKmsKey(Rule):
    id = "SE007"
    name = "log-group-without-kms-key"
    family = "security"
    severity = Severity.INFO
    resource_types = ("AWS::Logs::LogGroup",)
    default_enabled = False  # a compliance choice most stacks do not need
    summary = "Log group without KmsKeyId (encrypted only with a key CloudWatch Logs owns)"
    what = """
Reports every `AWS::Logs::LogGroup` without a `KmsKeyId`. Opt-in (select `SE007` or
`log-group-without-kms-key`): for most stacks the default encryption is the right
choice, and a fix is possible only when the template has a key for it.
"""
    why = """
CloudWatch Logs always encrypts log data, by default with a key it owns: nothing but IAM
on the logs API decides who reads the events. Logs often hold request payloads, tokens
and personal data that leaked into a print statement; a customer-managed key adds a
second, auditable gate (informational).
"""
    fix_safety = """
A fix exists only when, among the template's keys whose policy already lets the
CloudWatch Logs service (`logs.<region>.amazonaws.com`) encrypt and decrypt with them,
one is the sound choice (see SE002); with any other key CloudWatch Logs would refuse the
association and the deployment would fail. It sets `KmsKeyId` to that key's ARN and is
**unsafe**: new events are encrypted with the key, so disabling or deleting it makes them
unreadable, and readers of the logs depend on the key policy from then on.
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad=f"""
Resources:
  AppLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 30
{_KEY}""",
            good=f"""
Resources:
  AppLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 30
      KmsKeyId: !GetAtt LogsKey.Arn
{_KEY}""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for group in readable(template, LOG_GROUP):
            if "KmsKeyId" in group.properties:
                continue
            yield self.finding(
                group.path,
                "log group has no KmsKeyId: only a key CloudWatch Logs owns protects its events",
                fix=self._fix(template, group),
            )

    def _fix(self, template: Template, group: Resource) -> Fix | None:
        key = pick_key(template, group, lambda k: key_allows_service(k, LOGS_SERVICE, LOGS_ACTIONS))
        if key is None:
            return None
        return Fix.unsafe(
            f"encrypt with the template's key {key.logical_id}",
            set_property(group.logical_id, "KmsKeyId", GetAtt(key.logical_id, "Arn")),
        )
