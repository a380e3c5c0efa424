"""MO003: an alarm that tells nobody when it goes off."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix_rules.retention._values import literal_bool

from cfnfix.changes import set_property
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ._alarms import ALARM_TYPES, consumers, has_actions
from ._build import action_for


class AlarmWithoutActions(Rule):
    id = "MO003"
    name = "alarm-without-actions"
    family = "monitoring"
    severity = Severity.WARNING
    resource_types = ALARM_TYPES
    summary = "CloudWatch alarm with no AlarmActions, or with its actions disabled"
    what = """
Reports an `AWS::CloudWatch::Alarm` or `AWS::CloudWatch::CompositeAlarm` that has no
`AlarmActions` (`OKActions` and `InsufficientDataActions` alone do not act on an alarm),
unless something else in the template consumes it: a composite alarm's `AlarmRule`
(by reference or by its literal `AlarmName`), a CodeDeploy deployment group or SAM
`DeploymentPreference`, a Route 53 health check, an AppConfig monitor, an ECS deployment
alarm, or an output that exports it for another stack. Dashboards do not count.

Also reports an alarm with `AlarmActions` whose `ActionsEnabled` is literally `false`:
its actions never run. An `ActionsEnabled` given by a parameter or condition is not
judged (turning notifications off per environment is a legitimate choice).
"""
    why = """
An alarm without actions changes colour in the console and nothing else: nobody is paged,
no ticket is opened, no scaling happens. It looks like monitoring in a review and does
not work as monitoring in production.
"""
    fix_safety = """
An alarm without `AlarmActions`: the fix is **unsafe** (notifications start arriving).
It sets `AlarmActions` to the SNS topic the template's other alarms already notify, when
there is one usable under the alarm's condition. `ActionsEnabled: false` has no fix: it
was written on purpose, and whether to enable it is a decision for its author.
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad="""
Resources:
  AlarmTopic:
    Type: AWS::SNS::Topic
  ErrorsAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions:
        - !Ref AlarmTopic
  ThrottlesAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Throttles
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
""",
            good="""
Resources:
  AlarmTopic:
    Type: AWS::SNS::Topic
  ErrorsAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions:
        - !Ref AlarmTopic
  ThrottlesAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Throttles
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions:
        - !Ref AlarmTopic
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for alarm in template.resources_of(*ALARM_TYPES):
            kind = "composite alarm" if alarm.type.endswith("CompositeAlarm") else "alarm"
            if has_actions(alarm):
                enabled = alarm.properties.get("ActionsEnabled")
                if literal_bool(enabled) is False:
                    yield self.finding(
                        alarm.prop_path("ActionsEnabled"),
                        f"{kind} has ActionsEnabled: false: its AlarmActions never run",
                    )
                continue
            if alarm.logical_id in consumers(template):
                continue
            message = f"{kind} has no AlarmActions: when it fires, nobody is told"
            fix = None
            action = action_for(template, alarm.condition)
            disabled = literal_bool(alarm.properties.get("ActionsEnabled")) is False
            if action is not None and not disabled:
                fix = Fix.unsafe(
                    f"notify {action.label}",
                    set_property(alarm.logical_id, "AlarmActions", [action.value]),
                )
            yield self.finding(alarm.path, message, fix=fix)
