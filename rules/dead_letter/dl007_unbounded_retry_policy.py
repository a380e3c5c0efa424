"""DL007: an event invoke configuration or event target that leaves retries unbounded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.changes import SetKey
from cfnfix.nodes import Path
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ._refs import get, sam_events

RETRIES = "MaximumRetryAttempts"
AGE = "MaximumEventAgeInSeconds"
# What the services do when nothing is set (the values the fix writes by default).
LAMBDA_DEFAULTS = (2, 21600)
EVENTBRIDGE_DEFAULTS = (185, 86400)
TARGET_EVENTS = frozenset({"EventBridgeRule", "CloudWatchEvent", "Schedule", "ScheduleV2"})
SAM_EVENT_OWNERS = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")


def _unbounded(config: Any) -> bool:
    """Neither a retry count nor an event age is set (``config`` may be missing)."""
    if config is None:
        return True
    return isinstance(config, dict) and RETRIES not in config and AGE not in config


class UnboundedRetryPolicy(Rule):
    id = "DL007"
    name = "unbounded-retry-policy"
    family = "dead-letter"
    severity = Severity.INFO
    summary = "Event invoke configuration or event target without a retry or event-age bound"
    what = """
Reports, at info level, an `AWS::Lambda::EventInvokeConfig` or SAM `EventInvokeConfig`
with neither `MaximumRetryAttempts` nor `MaximumEventAgeInSeconds`, and an EventBridge
rule target, Scheduler target or SAM `EventBridgeRule` / `CloudWatchEvent` / `Schedule` /
`ScheduleV2` event without a `RetryPolicy` that sets either.
"""
    why = """
Without an explicit bound, how long a failing event is retried is whatever the service
does by default (Lambda: 2 retries and up to 6 hours; EventBridge and Scheduler: 185
attempts over 24 hours), which is rarely what the workload needs: a stale event is
delivered a day late, or an event that could be retried later is given up on. Writing
the bound down makes the choice visible and reviewable, and decides when an event
reaches its dead-letter queue.
"""
    fix_safety = """
The fix writes `MaximumRetryAttempts` and `MaximumEventAgeInSeconds` (in `RetryPolicy`
for targets). With the default options these are the services' own defaults, so a
deploy behaves exactly as before: the fix is **safe**. If you configure other values it
changes retry behaviour and becomes **unsafe**.
"""
    fix_availability = "always"
    default_enabled = False  # restates an explicit choice or a default: opt-in
    options_schema = {
        "invoke-retry-attempts": {
            "type": "integer",
            "minimum": 0,
            "maximum": 2,
            "default": LAMBDA_DEFAULTS[0],
            "description": "MaximumRetryAttempts written into an event invoke configuration",
        },
        "invoke-event-age": {
            "type": "integer",
            "minimum": 60,
            "maximum": 21600,
            "default": LAMBDA_DEFAULTS[1],
            "description": "MaximumEventAgeInSeconds written into an event invoke configuration",
        },
        "target-retry-attempts": {
            "type": "integer",
            "minimum": 0,
            "maximum": 185,
            "default": EVENTBRIDGE_DEFAULTS[0],
            "description": "MaximumRetryAttempts written into a target's RetryPolicy",
        },
        "target-event-age": {
            "type": "integer",
            "minimum": 60,
            "maximum": 86400,
            "default": EVENTBRIDGE_DEFAULTS[1],
            "description": "MaximumEventAgeInSeconds written into a target's RetryPolicy",
        },
    }
    examples = (
        Example(
            bad="""
Resources:
  ProcessorInvokeConfig:
    Type: AWS::Lambda::EventInvokeConfig
    Properties:
      FunctionName: processor
      Qualifier: $LATEST
""",
            good="""
Resources:
  ProcessorInvokeConfig:
    Type: AWS::Lambda::EventInvokeConfig
    Properties:
      FunctionName: processor
      Qualifier: $LATEST
      MaximumRetryAttempts: 1
""",
        ),
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
          RetryPolicy:
            MaximumEventAgeInSeconds: 3600
  ReportTopic:
    Type: AWS::SNS::Topic
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for config in template.resources_of("AWS::Lambda::EventInvokeConfig"):
            if _unbounded(config.properties):
                yield self._invoke(config.path, config.prop_path())
        for function in template.resources_of("AWS::Serverless::Function"):
            own = function.properties.get("EventInvokeConfig")
            if isinstance(own, dict) and _unbounded(own):
                path = function.prop_path("EventInvokeConfig")
                yield self._invoke(path, path)
        global_config = get(template.globals, "Function", "EventInvokeConfig")
        if isinstance(global_config, dict) and _unbounded(global_config):
            path = ("Globals", "Function", "EventInvokeConfig")
            yield self._invoke(path, path)
        for rule in template.resources_of("AWS::Events::Rule"):
            targets = rule.properties.get("Targets")
            for index, target in enumerate(targets if isinstance(targets, list) else []):
                if isinstance(target, dict) and _unbounded(target.get("RetryPolicy")):
                    path = rule.prop_path("Targets", index)
                    yield self._target(path, (*path, "RetryPolicy"), "EventBridge rule target")
        for schedule in template.resources_of("AWS::Scheduler::Schedule"):
            target = schedule.properties.get("Target")
            if isinstance(target, dict) and _unbounded(target.get("RetryPolicy")):
                path = schedule.prop_path("Target")
                yield self._target(path, (*path, "RetryPolicy"), "schedule target")
        for owner in template.resources_of(*SAM_EVENT_OWNERS):
            for event, event_type, props in sam_events(owner):
                if event_type in TARGET_EVENTS and _unbounded(props.get("RetryPolicy")):
                    path = owner.prop_path("Events", event)
                    holder = (*path, "Properties", "RetryPolicy")
                    yield self._target(path, holder, f"{event_type} event")

    def _fix(self, holder: Path, retries: int, age: int, defaults: tuple[int, int]) -> Fix:
        changes = (SetKey(holder, RETRIES, retries), SetKey(holder, AGE, age))
        description = f"set {RETRIES} to {retries} and {AGE} to {age}"
        if (retries, age) == defaults:
            return Fix.safe(description, *changes)
        return Fix.unsafe(description, *changes)

    def _invoke(self, path: Path, holder: Path) -> Finding:
        retries = self.options["invoke-retry-attempts"]
        age = self.options["invoke-event-age"]
        return self.finding(
            path,
            "event invoke configuration sets no MaximumRetryAttempts or "
            "MaximumEventAgeInSeconds: retries follow Lambda's defaults (2 retries, 6 hours)",
            fix=self._fix(holder, retries, age, LAMBDA_DEFAULTS),
        )

    def _target(self, path: Path, holder: Path, what: str) -> Finding:
        retries = self.options["target-retry-attempts"]
        age = self.options["target-event-age"]
        return self.finding(
            path,
            f"{what} has no RetryPolicy bound: a failing event is retried up to 185 times "
            "over 24 hours",
            fix=self._fix(holder, retries, age, EVENTBRIDGE_DEFAULTS),
        )
