"""DL003: an SQS queue without a redrive policy keeps failing messages until they expire."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cfnfix.changes import set_property
from cfnfix.compliant import logical_name
from cfnfix.intrinsics import GetAtt
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ._build import Plan, dead_letter_queue
from ._refs import (
    QUEUE_TYPE,
    dead_letter_uses,
    get,
    has_value,
    json_value,
    queue_fifo,
    sub_text,
)

# A queue named like this is meant to be a dead-letter queue (for a source outside the
# template, say): it needs no dead-letter queue of its own.
DLQ_NAME = re.compile(r"dlq|dead[-_]?letter|deadletter|redrive|poison|failed|failure", re.I)


def looks_like_dead_letter_queue(queue: Resource) -> bool:
    name: Any = sub_text(queue.properties.get("QueueName"))
    texts = [queue.logical_id, name if isinstance(name, str) else ""]
    return any(DLQ_NAME.search(text) for text in texts)


def allows_redrive_in(queue: Resource) -> bool:
    """A queue with a ``RedriveAllowPolicy`` other than ``denyAll`` is a dead-letter queue."""
    policy = json_value(queue.properties.get("RedriveAllowPolicy"))
    if not has_value(policy):
        return False
    return bool(get(policy, "redrivePermission") != "denyAll")


class QueueWithoutRedrivePolicy(Rule):
    id = "DL003"
    name = "queue-without-redrive-policy"
    family = "dead-letter"
    severity = Severity.WARNING
    resource_types = ("AWS::SQS::Queue",)
    summary = "SQS queue without a RedrivePolicy (no dead-letter queue)"
    what = """
Reports an `AWS::SQS::Queue` without `RedrivePolicy`, unless the queue is itself a
dead-letter queue: the `deadLetterTargetArn` of another queue's redrive policy, a
function's `DeadLetterConfig` / SAM `DeadLetterQueue`, an SNS subscription's
`RedrivePolicy`, an EventBridge or Scheduler target's `DeadLetterConfig`, an
`OnFailure` destination (any reference below such a key counts), a queue with a
`RedriveAllowPolicy` that allows redrive, or a queue whose logical id or `QueueName` says
it is one (`dlq`, `dead-letter`, `redrive`, `poison`, `failed`...).
"""
    why = """
Without a dead-letter queue a message its consumer cannot process is received, fails and
becomes visible again, over and over, until its retention period ends and SQS deletes it:
the consumer burns invocations on it, a FIFO queue's message group is blocked behind it,
and in the end it is gone without a trace. A redrive policy moves it aside after
`maxReceiveCount` receives, where it can be inspected and redriven.
"""
    fix_safety = """
The fix is **unsafe**: it creates a queue. It adds an SQS queue `<Queue>DeadLetterQueue`
(reused if it exists) of the same kind as the source (the source's `FifoQueue` is copied,
so a FIFO queue gets a FIFO dead-letter queue), with SSE-SQS encryption, 14 days retention
(the maximum: never shorter than the source's, see DL004), the required tags and Retain
policies, and sets `RedrivePolicy` with its `deadLetterTargetArn` and `maxReceiveCount`
(option `max-receive-count`). Messages that fail that many times are then moved instead of
being received again: check that the count suits the consumer (Lambda recommends at
least 5 for SQS event sources).
"""
    fix_availability = "always"
    options_schema = {
        "max-receive-count": {
            "type": "integer",
            "minimum": 1,
            "maximum": 1000,
            "default": 5,
            "description": "maxReceiveCount of the RedrivePolicy the fix writes",
        }
    }
    examples = (
        Example(
            bad="""
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 120
""",
            good="""
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 120
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt JobsDeadLetterQueue.Arn
        maxReceiveCount: 5
  JobsDeadLetterQueue:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 1209600
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        uses = dead_letter_uses(template)
        for queue in template.resources_of(QUEUE_TYPE):
            if has_value(queue.properties.get("RedrivePolicy")):
                continue
            if queue.logical_id in uses or allows_redrive_in(queue):
                continue
            if looks_like_dead_letter_queue(queue):
                continue
            plan = Plan()
            dlq = dead_letter_queue(
                template,
                self.settings,
                logical_name(queue.logical_id, "DeadLetterQueue"),
                fifo=queue.properties.get("FifoQueue"),
                condition=queue.condition,
                plan=plan,
            )
            count = self.options["max-receive-count"]
            plan.changes.append(
                set_property(
                    queue.logical_id,
                    "RedrivePolicy",
                    {"deadLetterTargetArn": GetAtt(dlq, "Arn"), "maxReceiveCount": count},
                )
            )
            if queue_fifo(queue):
                consequence = "blocks its message group until it expires, then is deleted"
            else:
                consequence = "is received again and again until it expires, then is deleted"
            yield self.finding(
                queue.path,
                f"queue has no RedrivePolicy: a message its consumer cannot process {consequence}",
                fix=Fix.unsafe(
                    f"move messages received {count} times to dead-letter queue {dlq}",
                    *plan.changes,
                ),
            )
