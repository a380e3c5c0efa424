"""CO003: an event-driven function that may take all of the account's concurrency."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix_rules.dead_letter._refs import FUNCTION_TYPES

from cfnfix.rule import Example, Finding, Rule, Severity, listed
from cfnfix.template import Template

from ._functions import bursty_callers, readable_functions


class AsyncFunctionWithoutReservedConcurrency(Rule):
    id = "CO003"
    name = "async-function-without-reserved-concurrency"
    family = "cost"
    severity = Severity.WARNING
    resource_types = FUNCTION_TYPES
    summary = "Asynchronously triggered function without ReservedConcurrentExecutions"
    what = """
Reports a Lambda function that the template invokes asynchronously from a source that can
send many events at once (S3 notifications, SNS, EventBridge event patterns, IoT rules,
log subscriptions, SES...) and that has no `ReservedConcurrentExecutions` (SAM `Globals`
included; a parameter or condition counts as set). Functions triggered only by schedules
(`ScheduleExpression` rules, EventBridge Scheduler, SAM `Schedule`/`ScheduleV2`) are not
reported: a schedule sends one event at a time.
"""
    why = """
Without reserved concurrency, a burst of events (a bulk upload of 10,000 images, a fan-out
on a topic) scales the function up to the account's whole concurrency quota (1,000 by
default, shared by every function of the account and region): other functions, including
synchronous APIs, are throttled meanwhile, and the bill of the burst has no ceiling.
Reserved concurrency caps the function; asynchronous events above the cap wait in
Lambda's queue and are retried for up to six hours, so nothing is lost.
"""
    fix_safety = """
There is no fix: the cap is a capacity decision (too low and events age out of the
queue; reserving also takes that many executions away from every other function of the
account, and a deployment fails if fewer than 100 would remain unreserved).
"""
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
            Function: !GetAtt Thumbnailer.Arn
  Thumbnailer:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/thumbnailer
      Code: {ZipFile: "def handler(event, context): pass"}
""",
            good="""
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration:
        LambdaConfigurations:
          - Event: s3:ObjectCreated:*
            Function: !GetAtt Thumbnailer.Arn
  Thumbnailer:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/thumbnailer
      Code: {ZipFile: "def handler(event, context): pass"}
      ReservedConcurrentExecutions: 10
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for function, props in readable_functions(template):
            if "ReservedConcurrentExecutions" in props:
                continue
            calls = bursty_callers(template, function)
            if not calls:
                continue
            shown = listed(calls)
            yield self.finding(
                function.path,
                f"function is triggered asynchronously ({shown}) and has no "
                "ReservedConcurrentExecutions: a burst of events can take the account's "
                "whole concurrency and throttle every other function",
            )
