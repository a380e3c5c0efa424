"""DL006: an EventBridge rule or Scheduler target without a dead-letter queue."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.changes import SetKey
from cfnfix.compliant import logical_name
from cfnfix.intrinsics import GetAtt
from cfnfix.nodes import Path
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ._build import Plan, dead_letter_queue, grant_role_send, grant_service_send
from ._refs import get, has_value, sam_events

RULE_EVENTS = frozenset({"EventBridgeRule", "CloudWatchEvent", "Schedule"})
SAM_EVENT_OWNERS = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")


class EventTargetWithoutDeadLetter(Rule):
    id = "DL006"
    name = "event-target-without-dead-letter"
    family = "dead-letter"
    severity = Severity.WARNING
    resource_types = (
        "AWS::Events::Rule",
        "AWS::Scheduler::Schedule",
        "AWS::Serverless::Function",
        "AWS::Serverless::StateMachine",
    )
    summary = "EventBridge rule or Scheduler target without a DeadLetterConfig"
    what = """
Reports each target of an `AWS::Events::Rule`, the target of an
`AWS::Scheduler::Schedule`, and each SAM `EventBridgeRule`, `CloudWatchEvent`, `Schedule`
and `ScheduleV2` event (of functions and state machines) without
`DeadLetterConfig.Arn`.
"""
    why = """
When EventBridge cannot deliver an event to a target (the target was deleted, its
permission is missing, it throttles), it retries for up to 24 hours and 185 attempts and
then **drops the event**; only a `FailedInvocations` metric records that it happened.
A dead-letter queue keeps the event and the error, so it can be inspected and replayed.
"""
    fix_safety = """
The fix is **unsafe**: it creates resources. It adds a standard SQS queue (EventBridge
and Scheduler accept no FIFO dead-letter queue) `<Rule>DeadLetterQueue` shared by the
rule's targets (SAM: `<Function><Event>DeadLetterQueue`; SSE-SQS, 14 days retention,
required tags, Retain policies; reused if it exists) and sets the target's
`DeadLetterConfig.Arn`. For a rule it adds an `AWS::SQS::QueuePolicy` that lets
`events.amazonaws.com` send to the queue for that rule only (`aws:SourceArn`); for a
schedule, Scheduler sends with the schedule's role, so that role gets `sqs:SendMessage`
on the queue when it is defined in the template (SAM adds it to roles it generates;
otherwise the finding says the permission is needed).
"""
    fix_availability = "always"
    examples = (
        Example(
            bad="""
Resources:
  Nightly:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(1 day)
      Targets:
        - Id: report
          Arn: !Ref ReportTopic
  ReportTopic:
    Type: AWS::SNS::Topic
""",
            good="""
Resources:
  Nightly:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(1 day)
      Targets:
        - Id: report
          Arn: !Ref ReportTopic
          DeadLetterConfig:
            Arn: !GetAtt NightlyDeadLetterQueue.Arn
  ReportTopic:
    Type: AWS::SNS::Topic
  NightlyDeadLetterQueue:
    Type: AWS::SQS::Queue
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for rule in template.resources_of("AWS::Events::Rule"):
            targets = rule.properties.get("Targets")
            for index, target in enumerate(targets if isinstance(targets, list) else []):
                if not isinstance(target, dict):
                    continue
                if has_value(get(target, "DeadLetterConfig", "Arn")):
                    continue
                plan = Plan()
                queue = self._queue(template, rule, logical_name(rule.logical_id), plan)
                grant_service_send(
                    template,
                    self.settings,
                    queue,
                    "events.amazonaws.com",
                    GetAtt(rule.logical_id, "Arn"),
                    rule.condition,
                    plan,
                )
                path = rule.prop_path("Targets", index)
                yield self._finding(path, path, "EventBridge rule target", queue, plan)
        for schedule in template.resources_of("AWS::Scheduler::Schedule"):
            target = schedule.properties.get("Target")
            if not isinstance(target, dict) or has_value(get(target, "DeadLetterConfig", "Arn")):
                continue
            plan = Plan()
            queue = self._queue(template, schedule, logical_name(schedule.logical_id), plan)
            grant_role_send(
                template,
                target.get("RoleArn"),
                queue,
                schedule.condition,
                plan,
                who="the schedule's role",
            )
            path = schedule.prop_path("Target")
            yield self._finding(path, path, "schedule target", queue, plan)
        for owner in template.resources_of(*SAM_EVENT_OWNERS):
            for event, event_type, props in sam_events(owner):
                if event_type not in RULE_EVENTS and event_type != "ScheduleV2":
                    continue
                if has_value(get(props, "DeadLetterConfig")):
                    continue
                plan = Plan()
                queue = self._queue(template, owner, logical_name(owner.logical_id, event), plan)
                if event_type == "ScheduleV2":
                    if props.get("RoleArn") is not None:
                        grant_role_send(
                            template,
                            props.get("RoleArn"),
                            queue,
                            owner.condition,
                            plan,
                            who="the schedule's role",
                        )
                else:
                    grant_service_send(
                        template,
                        self.settings,
                        queue,
                        "events.amazonaws.com",
                        GetAtt(f"{owner.logical_id}{event}", "Arn"),  # the rule SAM generates
                        owner.condition,
                        plan,
                    )
                path = owner.prop_path("Events", event)
                holder = (*path, "Properties")
                yield self._finding(path, holder, f"{event_type} event", queue, plan)

    def _queue(self, template: Template, owner: Resource, base: str, plan: Plan) -> str:
        return dead_letter_queue(
            template,
            self.settings,
            logical_name(base, "DeadLetterQueue"),
            condition=owner.condition,
            plan=plan,
        )

    def _finding(self, path: Path, holder: Path, what: str, queue: str, plan: Plan) -> Finding:
        plan.changes.append(SetKey(holder, "DeadLetterConfig", {"Arn": GetAtt(queue, "Arn")}))
        message = (
            f"{what} has no DeadLetterConfig: an event EventBridge cannot deliver is "
            "dropped after its retries"
        )
        if plan.notes:
            message += f"; {'; '.join(plan.notes)}"
        return self.finding(
            path,
            message,
            fix=Fix.unsafe(
                f"send undeliverable events to dead-letter queue {queue}", *plan.changes
            ),
        )
