"""DL005: an SNS subscription without a redrive policy loses messages it cannot deliver."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.changes import SetKey
from cfnfix.compliant import logical_name
from cfnfix.intrinsics import GetAtt
from cfnfix.nodes import Path
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ._build import Plan, dead_letter_queue, grant_service_send
from ._refs import has_value, resources_referenced, sam_events, sub_text

# Notification channels for people: a dead-letter queue is not what keeps them reliable.
SKIPPED_PROTOCOLS = frozenset({"email", "email-json", "sms"})


def _topic_fifo_value(template: Template, topic_arn: Any) -> Any:
    """The ``FifoQueue`` value a dead-letter queue of a subscription to ``topic_arn`` needs."""
    topics = resources_referenced(template, topic_arn, "AWS::SNS::Topic")
    if len(topics) == 1:
        return topics[0].properties.get("FifoTopic")
    text = sub_text(topic_arn)
    if isinstance(text, str) and text.endswith(".fifo"):
        return True
    return None


def _skipped(protocol: Any) -> bool:
    return isinstance(protocol, str) and protocol.lower() in SKIPPED_PROTOCOLS


class SubscriptionWithoutRedrivePolicy(Rule):
    id = "DL005"
    name = "subscription-without-redrive-policy"
    family = "dead-letter"
    severity = Severity.WARNING
    resource_types = ("AWS::SNS::Subscription", "AWS::SNS::Topic", "AWS::Serverless::Function")
    summary = "SNS subscription without a RedrivePolicy (dead-letter queue)"
    what = """
Reports an `AWS::SNS::Subscription` and a SAM `SNS` event without `RedrivePolicy`, and an
inline `Subscription` of an `AWS::SNS::Topic` (which cannot have one). Subscriptions with
protocol `email`, `email-json` or `sms` are not reported.
"""
    why = """
When SNS cannot deliver a message to a subscription's endpoint (the queue or function was
deleted, its policy or key denies SNS, the HTTP endpoint is down), it retries according to
the delivery policy and then **discards the message**. A redrive policy sends it to an
SQS dead-letter queue instead, with the error, so it can be inspected and re-published.
"""
    fix_safety = """
The fix is **unsafe**: it creates resources. It adds an SQS queue `<Subscription>DeadLetterQueue`
(SAM: `<Function><Event>DeadLetterQueue`; FIFO when the topic is FIFO; SSE-SQS, 14 days
retention, required tags, Retain policies; reused if it exists), an
`AWS::SQS::QueuePolicy` that lets `sns.amazonaws.com` send to it for this topic only
(`aws:SourceArn`), and sets the subscription's `RedrivePolicy.deadLetterTargetArn`.
An inline topic subscription has no fix: declare it as an `AWS::SNS::Subscription`.
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad="""
Resources:
  Alerts:
    Type: AWS::SNS::Topic
  AlertsToQueue:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Alerts
      Protocol: sqs
      Endpoint: !GetAtt AlertsQueue.Arn
  AlertsQueue:
    Type: AWS::SQS::Queue
""",
            good="""
Resources:
  Alerts:
    Type: AWS::SNS::Topic
  AlertsToQueue:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Alerts
      Protocol: sqs
      Endpoint: !GetAtt AlertsQueue.Arn
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt AlertsToQueueDeadLetterQueue.Arn
  AlertsQueue:
    Type: AWS::SQS::Queue
  AlertsToQueueDeadLetterQueue:
    Type: AWS::SQS::Queue
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for subscription in template.resources_of("AWS::SNS::Subscription"):
            props = subscription.properties
            if _skipped(props.get("Protocol")) or has_value(props.get("RedrivePolicy")):
                continue
            yield self._fixable(
                template,
                subscription,
                subscription.path,
                subscription.prop_path(),
                props.get("TopicArn"),
                subscription.logical_id,
                "SNS subscription",
            )
        for topic in template.resources_of("AWS::SNS::Topic"):
            items = topic.properties.get("Subscription")
            for index, item in enumerate(items if isinstance(items, list) else []):
                if not isinstance(item, dict) or _skipped(item.get("Protocol")):
                    continue
                yield self.finding(
                    topic.prop_path("Subscription", index),
                    "inline topic subscription cannot have a RedrivePolicy: a message SNS "
                    "cannot deliver is discarded; declare it as an AWS::SNS::Subscription "
                    "with a dead-letter queue",
                )
        for function in template.resources_of("AWS::Serverless::Function"):
            for event, event_type, props in sam_events(function):
                if event_type != "SNS" or has_value(props.get("RedrivePolicy")):
                    continue
                yield self._fixable(
                    template,
                    function,
                    function.prop_path("Events", event),
                    function.prop_path("Events", event, "Properties"),
                    props.get("Topic"),
                    logical_name(function.logical_id, event),
                    "SNS event subscription",
                )

    def _fixable(
        self,
        template: Template,
        owner: Resource,
        path: Path,
        holder: Path,
        topic_arn: Any,
        base: str,
        what: str,
    ) -> Finding:
        plan = Plan()
        queue = dead_letter_queue(
            template,
            self.settings,
            logical_name(base, "DeadLetterQueue"),
            fifo=_topic_fifo_value(template, topic_arn),
            condition=owner.condition,
            plan=plan,
        )
        if topic_arn is not None:
            grant_service_send(
                template,
                self.settings,
                queue,
                "sns.amazonaws.com",
                topic_arn,
                owner.condition,
                plan,
            )
        plan.changes.append(
            SetKey(holder, "RedrivePolicy", {"deadLetterTargetArn": GetAtt(queue, "Arn")})
        )
        return self.finding(
            path,
            f"{what} has no RedrivePolicy: a message SNS cannot deliver to the endpoint is "
            "discarded after the delivery retries",
            fix=Fix.unsafe(
                f"send undeliverable messages to dead-letter queue {queue}", *plan.changes
            ),
        )
