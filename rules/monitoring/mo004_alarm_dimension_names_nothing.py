"""MO004: an alarm whose dimension cannot name the resource it was meant for."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cfnfix_rules.dead_letter._refs import FUNCTION_TYPES
from cfnfix_rules.retention._values import symbolic

from cfnfix.changes import ReplaceValue
from cfnfix.intrinsics import GetAtt, Ref, getatt_target, ref_target
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ._alarms import ALARM_TYPE, Metric, alarm_metrics

SIMILAR = 0.85
MIN_LENGTH = 6
_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


@dataclass(frozen=True)
class Target:
    """A metric dimension that names a resource of the template."""

    namespace: str
    dimension: str
    types: tuple[str, ...]
    name_key: str  # the property holding the resource's name
    what: str
    ref_is: str | None  # what ``Ref`` returns when it is not the name ("URL")
    name_attribute: str | None  # the ``Fn::GetAtt`` attribute that is the name

    def right(self, logical_id: str) -> Any:
        return (
            Ref(logical_id) if self.ref_is is None else GetAtt(logical_id, str(self.name_attribute))
        )

    def spelled(self, logical_id: str) -> str:
        return (
            f"!Ref {logical_id}"
            if self.ref_is is None
            else f"!GetAtt {logical_id}.{self.name_attribute}"
        )


TARGETS = {
    (t.namespace, t.dimension): t
    for t in (
        Target(
            "AWS/Lambda", "FunctionName", FUNCTION_TYPES, "FunctionName", "function", None, None
        ),
        Target(
            "AWS/SQS", "QueueName", ("AWS::SQS::Queue",), "QueueName", "queue", "URL", "QueueName"
        ),
        Target(
            "AWS/SNS", "TopicName", ("AWS::SNS::Topic",), "TopicName", "topic", "ARN", "TopicName"
        ),
        Target(
            "AWS/DynamoDB",
            "TableName",
            ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::Serverless::SimpleTable"),
            "TableName",
            "table",
            None,
            None,
        ),
        Target("AWS/S3", "BucketName", ("AWS::S3::Bucket",), "BucketName", "bucket", None, None),
    )
}


def concrete(template: Template, spelled: str) -> str:
    """``spelled`` with each ``${Parameter}`` replaced by the parameter's default."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        default = template.parameters.get(name, {})
        value = default.get("Default") if isinstance(default, dict) else None
        return (
            str(value)
            if isinstance(value, (str, int)) and not isinstance(value, bool)
            else match.group(0)
        )

    return _VAR.sub(replace, spelled)


class AlarmDimensionNamesNothing(Rule):
    id = "MO004"
    name = "alarm-dimension-names-nothing"
    family = "monitoring"
    severity = Severity.WARNING
    summary = "Alarm dimension that does not name the template resource it points at"
    what = """
Reads the dimensions of each `AWS::CloudWatch::Alarm` (metric math `MetricStat`s
included) for `AWS/Lambda` `FunctionName`, `AWS/SQS` `QueueName`, `AWS/SNS` `TopicName`,
`AWS/DynamoDB` `TableName` and `AWS/S3` `BucketName`, and reports a value that cannot be
the name of the resource meant:

- a reference to a resource of another type (`FunctionName: !Ref FunctionRole`);
- a reference that yields something other than the name: `!Ref` of a queue (its URL) or
  of a topic (its ARN), `!GetAtt Function.Arn`, `!GetAtt Queue.Arn`...;
- a literal (or `!Sub`) that no resource of the template is named, but that looks like one
  of them: the logical id of a resource whose physical name is different, its name under
  the default parameter values only (`dev-image-processor` for
  `!Sub '${Environment}-image-processor'`), or a near miss of exactly one resource's name
  (a typo).

A literal unlike every name of the template is taken to name a resource outside it and is
not reported.
"""
    why = """
CloudWatch accepts an alarm on any metric name and dimension, existing or not. An alarm on
`FunctionName=image-procesor` watches a metric nobody publishes: it stays in
`INSUFFICIENT_DATA` (or `OK` with `TreatMissingData: notBreaching`) forever, and the
function it was written for fails without anyone being told.
"""
    fix_safety = """
A reference of the right resource that yields the wrong value: the fix replaces it with
the one that yields the name (`!Ref Function`, `!GetAtt Queue.QueueName`,
`!GetAtt Topic.TopicName`). It is **safe**: the alarm is updated in place and starts
watching the metric it was written for.

A literal that looks like a resource's name: the fix replaces it with the reference and is
**unsafe**: it changes what the alarm watches in other environments (or, for a near miss,
assumes the resource that was meant). A reference to a resource of another type has no fix.
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad="""
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  JobsBacklogAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/SQS
      MetricName: ApproximateNumberOfMessagesVisible
      Dimensions:
        - Name: QueueName
          Value: !Ref Jobs
      Statistic: Maximum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 100
      ComparisonOperator: GreaterThanThreshold
""",
            good="""
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  JobsBacklogAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/SQS
      MetricName: ApproximateNumberOfMessagesVisible
      Dimensions:
        - Name: QueueName
          Value: !GetAtt Jobs.QueueName
      Statistic: Maximum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 100
      ComparisonOperator: GreaterThanThreshold
""",
        ),
        Example(
            bad="""
Resources:
  Processor:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: image-processor
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/processor
      Code: {ZipFile: "def handler(event, context): pass"}
  ProcessorErrors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions:
        - Name: FunctionName
          Value: image-procesor
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
""",
            good="""
Resources:
  Processor:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: image-processor
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/processor
      Code: {ZipFile: "def handler(event, context): pass"}
  ProcessorErrors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions:
        - Name: FunctionName
          Value: !Ref Processor
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for alarm in template.resources_of(ALARM_TYPE):
            for metric in alarm_metrics(alarm):
                yield from self._metric(template, metric)

    def _metric(self, template: Template, metric: Metric) -> Iterator[Finding]:
        for dimension, value, path in metric.dimensions:
            target = TARGETS.get((metric.namespace, dimension))
            if target is None:
                continue
            problem = self._judge(template, target, value)
            if problem is None:
                continue
            message, right, safe = problem
            fix = None
            if right is not None:
                change = ReplaceValue(path, target.right(right))
                description = f"use {target.spelled(right)}"
                fix = Fix.safe(description, change) if safe else Fix.unsafe(description, change)
            yield self.finding(path, message, resource=metric.alarm.logical_id, fix=fix)

    def _judge(
        self, template: Template, target: Target, value: Any
    ) -> tuple[str, str | None, bool] | None:
        """(message, the resource to refer to instead, whether that fix is safe)."""
        spelled = symbolic(value)
        name = ref_target(value)
        attribute = None
        if name is None and getatt_target(value) is not None:
            name, attribute = getatt_target(value) or ("", "")
        if name is None and spelled is not None:
            inner = spelled[2:-1] if spelled.startswith("${") and spelled.endswith("}") else ""
            if inner and "${" not in inner and inner.split(".")[0] in template.resources:
                name, _, attribute = inner.partition(".")
                attribute = attribute or None
        if name is not None:
            return self._reference(template, target, name, attribute)
        if spelled is None:
            return None
        return self._literal(template, target, spelled)

    def _reference(
        self, template: Template, target: Target, name: str, attribute: str | None
    ) -> tuple[str, str | None, bool] | None:
        resource = template.resources.get(name)
        if resource is None:
            return None  # a parameter, a pseudo parameter, or cfn-lint's business
        if resource.type not in target.types:
            return (
                f"{target.dimension} refers to {name} ({resource.type}), not a {target.what}: "
                "the alarm watches a metric nobody publishes",
                None,
                False,
            )
        if attribute is None and target.ref_is is None:
            return None
        if attribute is not None and attribute == target.name_attribute:
            return None
        got = (
            f"!Ref {name} is the {target.what}'s {target.ref_is}"
            if attribute is None
            else (f"!GetAtt {name}.{attribute} is not the {target.what}'s name")
        )
        return (
            f"{target.dimension} must be the {target.what}'s name, but {got}: "
            "the alarm watches nothing",
            name,
            True,
        )

    def _literal(
        self, template: Template, target: Target, spelled: str
    ) -> tuple[str, str | None, bool] | None:
        candidates = list(template.resources_of(*target.types))
        if not candidates:
            return None
        names: dict[str, str | None] = {
            c.logical_id: symbolic(template.effective_properties(c).get(target.name_key))
            for c in candidates
        }
        if spelled in names.values():
            return None
        value = concrete(template, spelled)
        for resource in candidates:
            own = names[resource.logical_id]
            if own is not None and concrete(template, own) == value and "${" in own:
                return (
                    f"{target.dimension} {spelled!r} is the name of {target.what} "
                    f"{resource.logical_id} only with the default parameter values: in any "
                    "other deployment the alarm watches nothing",
                    resource.logical_id,
                    False,
                )
        for resource in candidates:
            if spelled.lower() == resource.logical_id.lower():
                return (
                    f"{target.dimension} {spelled!r} is the logical id of {target.what} "
                    f"{resource.logical_id}, not its name: the alarm watches nothing",
                    resource.logical_id,
                    False,
                )
        return self._near_miss(template, target, spelled, value, candidates, names)

    def _near_miss(
        self,
        template: Template,
        target: Target,
        spelled: str,
        value: str,
        candidates: list[Resource],
        names: dict[str, str | None],
    ) -> tuple[str, str | None, bool] | None:
        if len(value) < MIN_LENGTH:
            return None
        close = []
        for resource in candidates:
            own = names[resource.logical_id]
            if own is None:
                continue
            ratio = difflib.SequenceMatcher(
                None, value.lower(), concrete(template, own).lower()
            ).ratio()
            if ratio >= SIMILAR:
                close.append((resource, own))
        if len(close) != 1:
            return None  # none alike, or several (a numbered family: maybe one outside)
        resource, own = close[0]
        return (
            f"no {target.what} is named {spelled!r}; {resource.logical_id} is named {own!r}: "
            "a typo makes the alarm watch a metric nobody publishes",
            resource.logical_id,
            False,
        )
