"""RT011: data a service deletes after a default period nobody chose."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.changes import SetKey
from cfnfix.intrinsics import getatt_target, sub_parts, sub_variables
from cfnfix.nodes import walk
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ..dead_letter._refs import below_keys
from ._values import plain_properties, set_description

# Keys under which a queue's ARN makes it a dead-letter queue.
_DEAD_LETTER_KEYS = frozenset(
    {
        "RedrivePolicy",
        "deadLetterTargetArn",
        "DeadLetterConfig",
        "DeadLetterQueue",
        "DeadLetterTargetArn",
        "OnFailure",
    }
)


def _arn_of(value: Any) -> str | None:
    """The logical id whose ``Arn`` a value is (``!GetAtt Q.Arn`` or ``!Sub ${Q.Arn}``)."""
    target = getatt_target(value)
    if target is not None:
        return target[0] if target[1] == "Arn" else None
    parts = sub_parts(value)
    if parts is not None and parts[0].startswith("${") and parts[0].endswith(".Arn}"):
        names = sub_variables(parts[0])
        if len(names) == 1:
            return names[0].split(".", 1)[0]
    return None


def dead_letter_queues(template: Template) -> set[str]:
    """Queues of the template that receive failed messages or events."""
    queues: set[str] = set()
    resources = template.section("Resources")
    for below, subtree in below_keys(resources, ("Resources",), _DEAD_LETTER_KEYS.__contains__):
        for _, value in walk(subtree, below):
            if isinstance(value, dict):
                name = _arn_of(value)
                if name is not None:
                    queues.add(name)
    return queues


class DataWithoutExplicitRetention(Rule):
    id = "RT011"
    name = "data-without-explicit-retention"
    family = "retention"
    severity = Severity.WARNING
    resource_types = ("AWS::SQS::Queue", "AWS::Kinesis::Stream", "AWS::Synthetics::Canary")
    summary = "SQS queue, Kinesis stream or Synthetics canary without an explicit retention"
    what = """
Reports resources whose data the service deletes after a default period when the template
does not choose one: `AWS::SQS::Queue` without `MessageRetentionPeriod` (4 days),
`AWS::Kinesis::Stream` without `RetentionPeriodHours` (24 hours), and
`AWS::Synthetics::Canary` without `SuccessRetentionPeriod` / `FailureRetentionPeriod`
(31 days).

By default only dead-letter queues are reported (a queue whose ARN appears in a
`RedrivePolicy`, `DeadLetterConfig`, `DeadLetterQueue` or `OnFailure` destination): there
the 4-day default silently drops the failures someone still has to look at. Elsewhere the
service's default is usually what the author wanted; to report every queue, stream and
canary set `dead-letter-queues-only = false` under `[tool.cfnfix.rules.RT011]`.
"""
    why = """
The defaults are short and invisible: messages that wait in a dead-letter queue over a long
weekend, or a stream a consumer fell a day behind on, silently lose data. Writing the
period down makes it a decision someone can review.
"""
    fix_safety = """
The fix writes the period and is **safe** (an in-place update; nothing is replaced).

The defaults of the options are the services' own defaults, so the fix changes nothing
but the template: `queue-seconds` 345600 (4 days), `stream-hours` 24, `canary-days` 31.
The one exception is a dead-letter queue (a queue whose ARN appears in a
`RedrivePolicy`, `DeadLetterConfig`, `DeadLetterQueue` or `OnFailure` destination): it
gets `dead-letter-queue-seconds` (1209600, the 14-day maximum), so failed messages
outlive the source queue's own retention and can be inspected and redriven.
"""
    fix_availability = "always"
    options_schema = {
        "dead-letter-queues-only": {
            "type": "boolean",
            "default": True,
            "description": "report only dead-letter queues; false: every queue, stream and "
            "canary without an explicit retention",
        },
        "queue-seconds": {
            "type": "integer",
            "minimum": 60,
            "maximum": 1209600,
            "default": 345600,
            "description": "the MessageRetentionPeriod written on queues",
        },
        "dead-letter-queue-seconds": {
            "type": "integer",
            "minimum": 60,
            "maximum": 1209600,
            "default": 1209600,
            "description": "the MessageRetentionPeriod written on dead-letter queues",
        },
        "stream-hours": {
            "type": "integer",
            "minimum": 24,
            "maximum": 8760,
            "default": 24,
            "description": "the RetentionPeriodHours written on Kinesis streams",
        },
        "canary-days": {
            "type": "integer",
            "minimum": 1,
            "maximum": 455,
            "default": 31,
            "description": "the Success/FailureRetentionPeriod written on canaries",
        },
    }
    examples = (
        Example(
            bad="""
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Failures.Arn, maxReceiveCount: 5}
  Failures:
    Type: AWS::SQS::Queue
    Properties:
      SqsManagedSseEnabled: true
""",
            good="""
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Failures.Arn, maxReceiveCount: 5}
  Failures:
    Type: AWS::SQS::Queue
    Properties:
      SqsManagedSseEnabled: true
      MessageRetentionPeriod: 1209600
""",
        ),
        Example(
            bad="""
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
""",
            good="""
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
      RetentionPeriodHours: 24
""",
            options={"dead-letter-queues-only": False},
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        dead_letter = dead_letter_queues(template)
        only_dead_letter = bool(self.options["dead-letter-queues-only"])
        for resource in template.resources.values():
            if not plain_properties(resource):
                continue
            if only_dead_letter and resource.logical_id not in dead_letter:
                continue
            wanted = self._wanted(resource, resource.logical_id in dead_letter)
            missing = {k: v for k, v in wanted.items() if k not in resource.properties}
            if not missing:
                continue
            yield self.finding(
                resource.path,
                f"{resource.type} without {' and '.join(missing)}: the service deletes its "
                "data after a default period nobody chose",
                fix=Fix.safe(
                    set_description(missing),
                    *(SetKey(resource.prop_path(), k, v) for k, v in missing.items()),
                ),
            )

    def _wanted(self, resource: Resource, is_dead_letter: bool) -> dict[str, int]:
        if resource.type == "AWS::SQS::Queue":
            key = "dead-letter-queue-seconds" if is_dead_letter else "queue-seconds"
            return {"MessageRetentionPeriod": self.options[key]}
        if resource.type == "AWS::Kinesis::Stream":
            return {"RetentionPeriodHours": self.options["stream-hours"]}
        if resource.type == "AWS::Synthetics::Canary":
            days = self.options["canary-days"]
            return {"SuccessRetentionPeriod": days, "FailureRetentionPeriod": days}
        return {}
