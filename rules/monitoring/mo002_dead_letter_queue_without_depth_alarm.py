"""MO002: a dead-letter queue whose messages no alarm watches."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix_rules.dead_letter._refs import dead_letter_uses

from cfnfix.compliant import logical_name
from cfnfix.intrinsics import GetAtt
from cfnfix.rule import Example, Finding, Fix, Rule, Severity, listed
from cfnfix.template import Template

from ._alarms import watched
from ._build import action_for, new_alarm

# Either metric rises while failed messages sit on the queue.
DEPTH_METRICS = ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage")


class DeadLetterQueueWithoutDepthAlarm(Rule):
    id = "MO002"
    name = "dead-letter-queue-without-depth-alarm"
    family = "monitoring"
    severity = Severity.WARNING
    resource_types = ("AWS::SQS::Queue",)
    summary = "Dead-letter or OnFailure queue without an alarm on the messages it holds"
    what = """
Reports an `AWS::SQS::Queue` that the template uses as a dead-letter queue or failure
destination (a function's `DeadLetterConfig.TargetArn`, SAM `DeadLetterQueue` or
`EventInvokeConfig` `OnFailure`, an `AWS::Lambda::EventInvokeConfig` or event source
mapping `DestinationConfig.OnFailure`, another queue's `RedrivePolicy.deadLetterTargetArn`,
an SNS subscription's or EventBridge target's dead-letter config, SAM `Globals` included)
when no alarm of the template watches `AWS/SQS` `ApproximateNumberOfMessagesVisible`
(or `ApproximateAgeOfOldestMessage`) with `QueueName` naming it (`!GetAtt Q.QueueName`,
or its `QueueName` spelled the same way). Metric math alarms count.
"""
    why = """
A dead-letter queue only helps if someone notices what lands there: messages expire after
the queue's retention period (4 days by default) and are then lost as surely as without
the queue. An alarm on the number of visible messages is how the failure becomes known.
(`NumberOfMessagesSent` does not work for this: messages moved by a redrive policy are not
counted in it.)
"""
    fix_safety = """
The fix is **unsafe**: it creates a resource. It adds an `AWS::CloudWatch::Alarm`
`<Queue>DepthAlarm` on `ApproximateNumberOfMessagesVisible` for
`QueueName: !GetAtt <Queue>.QueueName`: `Maximum` over 5 minutes, alarming at 1 message or
more, `TreatMissingData: notBreaching`, the required tags, and `AlarmActions` set to the
SNS topic the template's other alarms already notify. It is offered only when there is
such a topic, usable under the queue's condition.
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad="""
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt JobsDeadLetterQueue.Arn
        maxReceiveCount: 5
  JobsDeadLetterQueue:
    Type: AWS::SQS::Queue
  JobsAgeAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/SQS
      MetricName: ApproximateAgeOfOldestMessage
      Dimensions:
        - Name: QueueName
          Value: !GetAtt Jobs.QueueName
      Statistic: Maximum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 600
      ComparisonOperator: GreaterThanThreshold
      AlarmActions:
        - !Ref AlarmTopic
  AlarmTopic:
    Type: AWS::SNS::Topic
""",
            good="""
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt JobsDeadLetterQueue.Arn
        maxReceiveCount: 5
  JobsDeadLetterQueue:
    Type: AWS::SQS::Queue
  JobsDeadLetterQueueDepthAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/SQS
      MetricName: ApproximateNumberOfMessagesVisible
      Dimensions:
        - Name: QueueName
          Value: !GetAtt JobsDeadLetterQueue.QueueName
      Statistic: Maximum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      TreatMissingData: notBreaching
      AlarmActions:
        - !Ref AlarmTopic
  JobsAgeAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/SQS
      MetricName: ApproximateAgeOfOldestMessage
      Dimensions:
        - Name: QueueName
          Value: !GetAtt Jobs.QueueName
      Statistic: Maximum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 600
      ComparisonOperator: GreaterThanThreshold
      AlarmActions:
        - !Ref AlarmTopic
  AlarmTopic:
    Type: AWS::SNS::Topic
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        uses = dead_letter_uses(template)
        for queue_id, where in uses.items():
            queue = template.resources[queue_id]
            if watched(template, queue, "AWS/SQS", DEPTH_METRICS, "QueueName", "QueueName"):
                continue
            owners = list(dict.fromkeys(owner for owner, _ in where))
            shown = listed(owners)
            message = (
                f"queue holds the failures of {shown} but no alarm watches its "
                "ApproximateNumberOfMessagesVisible: failed messages wait unseen until "
                "they expire"
            )
            if watched(
                template, queue, "AWS/SQS", ("NumberOfMessagesSent",), "QueueName", "QueueName"
            ):
                message += (
                    " (its alarm on NumberOfMessagesSent stays silent: messages moved there by "
                    "a redrive policy are not counted in it)"
                )
            fix = None
            action = action_for(template, queue.condition)
            if action is not None:
                name, change = new_alarm(
                    template,
                    self.settings,
                    logical_name(queue_id, "DepthAlarm"),
                    {
                        "AlarmDescription": f"Failed messages are waiting on {queue_id}",
                        "Namespace": "AWS/SQS",
                        "MetricName": DEPTH_METRICS[0],
                        "Dimensions": [
                            {"Name": "QueueName", "Value": GetAtt(queue_id, "QueueName")}
                        ],
                        "Statistic": "Maximum",
                    },
                    action,
                    queue.condition,
                )
                fix = Fix.unsafe(
                    f"add alarm {name} on its visible messages, notifying {action.label}",
                    change,
                )
            else:
                message += " (no alarm topic of the template to notify, so no fix)"
            yield self.finding(queue.path, message, fix=fix)
