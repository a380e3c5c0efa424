"""MO004: an alarm whose dimension cannot name the resource it was meant for."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.changes import ReplaceValue
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ._alarms import ALARM_TYPE, Metric, alarm_metrics
from ._dimensions import TARGETS, judge


class AlarmDimensionNamesNothing(Rule):
    id = "MO004"
    name = "alarm-dimension-names-nothing"
    family = "monitoring"
    severity = Severity.WARNING
    resource_types = ("AWS::CloudWatch::Alarm",)
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
            problem = judge(template, target, value)
            if problem is None:
                continue
            message, right, safe = problem
            fix = None
            if right is not None:
                change = ReplaceValue(path, target.right(right))
                description = f"use {target.spelled(right)}"
                fix = Fix.safe(description, change) if safe else Fix.unsafe(description, change)
            yield self.finding(path, message, resource=metric.alarm.logical_id, fix=fix)
