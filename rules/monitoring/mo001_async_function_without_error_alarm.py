"""MO001: an asynchronously invoked function whose errors no alarm watches."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix_rules.dead_letter._refs import FUNCTION_TYPES

from cfnfix.compliant import logical_name
from cfnfix.intrinsics import Ref
from cfnfix.rule import Example, Finding, Fix, Rule, Severity, listed
from cfnfix.template import Template

from ._alarms import async_callers, functions, metrics_named, watched
from ._build import action_for, new_alarm
from ._dimensions import TARGETS, judge


class AsyncFunctionWithoutErrorAlarm(Rule):
    id = "MO001"
    name = "async-function-without-error-alarm"
    family = "monitoring"
    severity = Severity.WARNING
    resource_types = FUNCTION_TYPES
    summary = "Asynchronously invoked Lambda function without an alarm on its Errors metric"
    what = """
Reports a Lambda function (`AWS::Lambda::Function`, `AWS::Serverless::Function`) that the
template invokes **asynchronously** (S3 notifications, SNS, EventBridge, schedules, IoT,
log subscriptions...: the callers the dead-letter family recognises) when no
`AWS::CloudWatch::Alarm` of the template watches its `Errors` metric: namespace
`AWS/Lambda`, metric `Errors`, dimension `FunctionName` naming the function (`!Ref`, a
`!Sub`/literal spelled like its `FunctionName`). Metric math alarms (`Metrics` with a
`MetricStat`) count, and so does an account-wide `Errors` alarm (no dimensions). A
function whose `Errors` alarm names it wrongly (a typo, `!GetAtt Fn.Arn`) is MO004's
finding, not this rule's.
"""
    why = """
Nobody waits for the result of an asynchronous invocation: when the function fails, Lambda
retries and then drops the event (or parks it in a dead-letter queue), and nothing tells a
human. In the seed stack, failed thumbnails were only visible as log lines nobody read.
An alarm on `Errors` is the smallest signal that the function is failing.
"""
    fix_safety = """
The fix is **unsafe**: it creates a resource. It adds an `AWS::CloudWatch::Alarm`
`<Function>ErrorsAlarm` on `AWS/Lambda` `Errors` for `FunctionName: !Ref <Function>`:
`Sum` over 5 minutes, alarming at 1 error or more, `TreatMissingData: notBreaching` (no
invocations is not an error), the required tags, and `AlarmActions` set to the SNS topic
the template's other alarms already notify (the most used one). The fix is offered only
when there is such a topic (an alarm that notifies nobody is itself a finding, MO003) and
it exists under the function's condition; otherwise add the alarm and its topic by hand.
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad="""
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration:
        LambdaConfigurations:
          - Event: s3:ObjectCreated:*
            Function: !GetAtt Processor.Arn
  Processor:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/processor
      Code: {ZipFile: "def handler(event, context): pass"}
  ThrottlesAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Throttles
      Dimensions:
        - Name: FunctionName
          Value: !Ref Processor
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions:
        - !Ref AlarmTopic
  AlarmTopic:
    Type: AWS::SNS::Topic
""",
            good="""
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration:
        LambdaConfigurations:
          - Event: s3:ObjectCreated:*
            Function: !GetAtt Processor.Arn
  Processor:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/processor
      Code: {ZipFile: "def handler(event, context): pass"}
  ProcessorErrorsAlarm:
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
      TreatMissingData: notBreaching
      AlarmActions:
        - !Ref AlarmTopic
  ThrottlesAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Throttles
      Dimensions:
        - Name: FunctionName
          Value: !Ref Processor
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions:
        - !Ref AlarmTopic
  AlarmTopic:
    Type: AWS::SNS::Topic
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for function in functions(template):
            calls = async_callers(template, function)
            if not calls or watched(
                template, function, "AWS/Lambda", ("Errors",), "FunctionName", "FunctionName"
            ):
                continue
            if _misspelled_alarm(template, function.logical_id):
                continue  # an Errors alarm meant for it names it wrongly: MO004's finding
            shown = listed(calls)
            message = (
                f"function is invoked asynchronously ({shown}) but no alarm watches its "
                "Errors metric: failures are retried and dropped without anyone being told"
            )
            fix = None
            action = action_for(template, function.condition)
            if action is not None:
                fid = function.logical_id
                name, change = new_alarm(
                    template,
                    self.settings,
                    logical_name(fid, "ErrorsAlarm"),
                    {
                        "AlarmDescription": f"Lambda function {fid} reported errors",
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Errors",
                        "Dimensions": [{"Name": "FunctionName", "Value": Ref(fid)}],
                        "Statistic": "Sum",
                    },
                    action,
                    function.condition,
                )
                fix = Fix.unsafe(
                    f"add alarm {name} on its Errors, notifying {action.label}", change
                )
            if fix is None:
                message += " (no alarm topic of the template to notify, so no fix)"
            yield self.finding(function.path, message, fix=fix)


def _misspelled_alarm(template: Template, function: str) -> str | None:
    """An Errors alarm whose FunctionName MO004 reports as meant for ``function``."""
    target = TARGETS[("AWS/Lambda", "FunctionName")]
    for metric in metrics_named(template, "AWS/Lambda", "Errors"):
        for value in metric.values("FunctionName"):
            problem = judge(template, target, value)
            if problem is not None and problem[1] == function:
                return metric.alarm.logical_id
    return None
