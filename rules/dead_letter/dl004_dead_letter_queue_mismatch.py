"""DL004: a dead-letter queue of the wrong kind (FIFO / standard) or with a shorter retention."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from cfnfix.changes import Change, RemoveKey, set_property
from cfnfix.nodes import Path
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ._refs import (
    FUNCTION_TYPES,
    QUEUE_TYPE,
    SQS_MAX_RETENTION,
    get,
    json_value,
    queue_fifo,
    queue_retention,
    resources_referenced,
    sam_events,
    topic_fifo,
)

FIFO_ONLY_KEYS = ("ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
EVENT_TARGET_EVENTS = ("EventBridgeRule", "CloudWatchEvent", "Schedule", "ScheduleV2")


class Link(NamedTuple):
    """``source`` sends what it cannot deliver to the dead-letter queue ``dlq``."""

    path: Path  # where the dead-letter queue is named
    source: str  # "queue Orders", "function Fn", ...
    dlq: Resource
    need_fifo: bool | None  # the kind the dlq must be; None: unknown
    source_fifo_value: Any = None  # the source queue's FifoQueue expression
    retention: int | None = None  # the source queue's retention, for queue sources


def _dlq(template: Template, value: Any) -> Resource | None:
    queues = resources_referenced(template, value, QUEUE_TYPE)
    return queues[0] if len(queues) == 1 else None


def links(template: Template) -> Iterator[Link]:
    for queue in template.resources_of(QUEUE_TYPE):
        policy = json_value(queue.properties.get("RedrivePolicy"))
        dlq = _dlq(template, get(policy, "deadLetterTargetArn"))
        if dlq is not None and dlq is not queue:
            yield Link(
                queue.prop_path("RedrivePolicy"),
                f"queue {queue.logical_id}",
                dlq,
                queue_fifo(queue),
                queue.properties.get("FifoQueue"),
                queue_retention(queue),
            )
    for function in template.resources_of(*FUNCTION_TYPES):
        props = template.effective_properties(function)
        path: Path
        if function.is_sam:
            value, path = get(props, "DeadLetterQueue", "TargetArn"), ("DeadLetterQueue",)
        else:
            value, path = get(props, "DeadLetterConfig", "TargetArn"), ("DeadLetterConfig",)
        dlq = _dlq(template, value)
        if dlq is not None:
            yield Link(function.prop_path(*path), f"function {function.logical_id}", dlq, False)
    for rule in template.resources_of("AWS::Events::Rule"):
        targets = rule.properties.get("Targets")
        for index, target in enumerate(targets if isinstance(targets, list) else []):
            dlq = _dlq(template, get(target, "DeadLetterConfig", "Arn"))
            if dlq is not None:
                path = rule.prop_path("Targets", index, "DeadLetterConfig")
                yield Link(path, f"EventBridge rule {rule.logical_id}", dlq, False)
    for schedule in template.resources_of("AWS::Scheduler::Schedule"):
        dlq = _dlq(template, get(schedule.properties, "Target", "DeadLetterConfig", "Arn"))
        if dlq is not None:
            path = schedule.prop_path("Target", "DeadLetterConfig")
            yield Link(path, f"schedule {schedule.logical_id}", dlq, False)
    for subscription in template.resources_of("AWS::SNS::Subscription"):
        policy = json_value(subscription.properties.get("RedrivePolicy"))
        dlq = _dlq(template, get(policy, "deadLetterTargetArn"))
        topics = resources_referenced(
            template, subscription.properties.get("TopicArn"), "AWS::SNS::Topic"
        )
        if dlq is not None and len(topics) == 1:
            yield Link(
                subscription.prop_path("RedrivePolicy"),
                f"subscription {subscription.logical_id} of topic {topics[0].logical_id}",
                dlq,
                topic_fifo(topics[0]),
            )
    for resource in template.resources_of("AWS::Serverless::Function"):
        for event, event_type, props in sam_events(resource):
            path = resource.prop_path("Events", event, "Properties")
            if event_type in EVENT_TARGET_EVENTS:
                dlq = _dlq(template, get(props, "DeadLetterConfig", "Arn"))
                if dlq is not None:
                    yield Link(
                        (*path, "DeadLetterConfig"), f"{event_type} event {event}", dlq, False
                    )
            elif event_type == "SNS":
                policy = json_value(props.get("RedrivePolicy"))
                dlq = _dlq(template, get(policy, "deadLetterTargetArn"))
                topics = resources_referenced(template, props.get("Topic"), "AWS::SNS::Topic")
                if dlq is not None and len(topics) == 1:
                    yield Link(
                        (*path, "RedrivePolicy"), f"SNS event {event}", dlq, topic_fifo(topics[0])
                    )


class DeadLetterQueueMismatch(Rule):
    id = "DL004"
    name = "dead-letter-queue-mismatch"
    family = "dead-letter"
    severity = Severity.ERROR
    resource_types = ("AWS::SQS::Queue",)
    summary = "Dead-letter queue of the wrong kind (FIFO/standard) or with a shorter retention"
    what = """
Reports a dead-letter queue defined in the template that cannot work for its source:

- a FIFO queue with a standard dead-letter queue or the reverse (SQS rejects the redrive
  policy), a subscription of a FIFO topic with a standard dead-letter queue or the
  reverse, or a FIFO queue as the dead-letter queue of a Lambda function, an EventBridge
  rule target or an EventBridge Scheduler target, which accept only standard queues
  (error);
- a dead-letter queue whose `MessageRetentionPeriod` is shorter than its source queue's
  (unset means 4 days) (warning).
"""
    why = """
A dead-letter queue of the wrong kind fails the deployment (`Dead-letter target must be
of same type as the source`, `SQS FIFO is not supported by Dead Letter Queues`). For a
standard queue, a message keeps its original enqueue time when it is moved to the
dead-letter queue: if the dead-letter queue's retention is shorter than the source's, a
message that spent longer than that in the source is deleted the moment it arrives, and
the dead-letter queue silently loses exactly the messages it exists to keep.
"""
    fix_safety = """
Shorter retention: the fix sets the dead-letter queue's `MessageRetentionPeriod` to
1209600 seconds (14 days, the maximum). It is **safe**: SQS updates the queue in place,
and the only change is that messages are kept longer.

Wrong kind: the fix makes the dead-letter queue FIFO (`FifoQueue: true`) or standard
(removes `FifoQueue` and the FIFO-only properties). It is **unsafe**: `FifoQueue` cannot
be updated, so CloudFormation replaces the queue and the messages in it are lost. There is
no fix when the queue has a `QueueName` (a FIFO queue's name must end in `.fifo`) or when
its sources need different kinds.
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad="""
Resources:
  Orders:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 1209600
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt OrdersDlq.Arn
        maxReceiveCount: 5
  OrdersDlq:
    Type: AWS::SQS::Queue
""",
            good="""
Resources:
  Orders:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 1209600
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt OrdersDlq.Arn
        maxReceiveCount: 5
  OrdersDlq:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 1209600
""",
        ),
        Example(
            bad="""
Resources:
  Orders:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt OrdersDlq.Arn
        maxReceiveCount: 5
  OrdersDlq:
    Type: AWS::SQS::Queue
""",
            good="""
Resources:
  Orders:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt OrdersDlq.Arn
        maxReceiveCount: 5
  OrdersDlq:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        all_links = list(links(template))
        for link in all_links:
            dlq = link.dlq
            dlq_fifo = queue_fifo(dlq)
            if (
                link.need_fifo is not None
                and dlq_fifo is not None
                and link.need_fifo != dlq_fifo
                and not (
                    link.source_fifo_value is not None
                    and link.source_fifo_value == dlq.properties.get("FifoQueue")
                )
            ):
                want = "FIFO" if link.need_fifo else "standard"
                have = "FIFO" if dlq_fifo else "standard"
                yield self.finding(
                    link.path,
                    f"dead-letter queue {dlq.logical_id} is a {have} queue but {link.source} "
                    f"needs a {want} one: the deployment fails",
                    fix=self._kind_fix(dlq, link.need_fifo, all_links),
                )
            dlq_retention = queue_retention(dlq)
            if (
                link.retention is not None
                and dlq_retention is not None
                and dlq_retention < link.retention
            ):
                if link.need_fifo:
                    consequence = "failed messages expire sooner than in their source"
                else:
                    consequence = "moved messages keep their age and can expire at once"
                yield self.finding(
                    link.path,
                    f"dead-letter queue {dlq.logical_id} keeps messages {dlq_retention} s, less "
                    f"than {link.source} ({link.retention} s): {consequence}",
                    fix=Fix.safe(
                        f"set MessageRetentionPeriod of {dlq.logical_id} to {SQS_MAX_RETENTION}",
                        set_property(dlq.logical_id, "MessageRetentionPeriod", SQS_MAX_RETENTION),
                    ),
                    severity=Severity.WARNING,
                )

    @staticmethod
    def _kind_fix(dlq: Resource, fifo: bool, all_links: list[Link]) -> Fix | None:
        if "QueueName" in dlq.properties:
            return None
        needs = {link.need_fifo for link in all_links if link.dlq.logical_id == dlq.logical_id}
        if needs != {fifo}:
            return None
        changes: list[Change] = []
        if fifo:
            changes.append(set_property(dlq.logical_id, "FifoQueue", True))
            return Fix.unsafe(f"make {dlq.logical_id} a FIFO queue", *changes)
        for key in ("FifoQueue", *FIFO_ONLY_KEYS):
            if key in dlq.properties:
                changes.append(RemoveKey(dlq.prop_path(), key))
        return Fix.unsafe(f"make {dlq.logical_id} a standard queue", *changes)
