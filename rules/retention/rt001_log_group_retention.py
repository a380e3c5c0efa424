"""RT001: a log group without ``RetentionInDays`` keeps (and bills) logs forever."""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from cfnfix.changes import ReplaceValue, set_property
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ._values import literal_int, readable

# The values CloudWatch Logs accepts for RetentionInDays.
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


class LogGroupWithoutRetention(Rule):
    id = "RT001"
    name = "log-group-without-retention"
    family = "retention"
    severity = Severity.WARNING
    resource_types = ("AWS::Logs::LogGroup",)
    summary = "Log group without RetentionInDays, or with a value CloudWatch Logs rejects"
    what = """
Reports every `AWS::Logs::LogGroup` that has no `RetentionInDays`, and every literal
`RetentionInDays` that is not one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14,
30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653).
"""
    why = """
Without a retention period, CloudWatch Logs keeps every event forever and bills its
storage every month, long after anyone reads it. A value outside the accepted list fails
the deployment (`Invalid value for RetentionInDays`).
"""
    fix_safety = """
Missing retention: the fix sets `RetentionInDays` to the `default-days` option (365 unless
configured). It is **safe**: CloudWatch Logs updates the group in place and nothing is
replaced. On a group that already holds logs, events older than the period are deleted
after the update, so choose `default-days` for what you must keep.

Invalid value: the fix rounds it up to the next accepted value and is **unsafe** (it
changes how long logs are kept); a value above the maximum has no fix.
"""
    fix_availability = "always"
    options_schema = {
        "default-days": {
            "type": "integer",
            "enum": list(RETENTION_DAYS),
            "default": 365,
            "description": "the RetentionInDays the fix writes",
        }
    }
    examples = (
        Example(
            bad="""
Resources:
  AppLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: app
""",
            good="""
Resources:
  AppLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: app
      RetentionInDays: 365
""",
        ),
        Example(
            bad="""
Resources:
  AppLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 100
""",
            good="""
Resources:
  AppLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 120
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for resource in readable(template, "AWS::Logs::LogGroup"):
            if "RetentionInDays" not in resource.properties:
                days = self.options["default-days"]
                yield self.finding(
                    resource.path,
                    "log group has no RetentionInDays: its logs are kept and billed forever",
                    fix=Fix.safe(
                        f"set RetentionInDays to {days}",
                        set_property(resource.logical_id, "RetentionInDays", days),
                    ),
                )
                continue
            value = resource.properties["RetentionInDays"]
            days = literal_int(value)
            if days is None or days in RETENTION_DAYS:
                continue  # a reference, or a valid literal
            path = resource.prop_path("RetentionInDays")
            index = bisect.bisect_left(RETENTION_DAYS, days)
            fix = None
            if index < len(RETENTION_DAYS):
                allowed = RETENTION_DAYS[index]
                fix = Fix.unsafe(
                    f"round RetentionInDays up to {allowed}", ReplaceValue(path, allowed)
                )
            yield self.finding(
                path,
                f"RetentionInDays {value!r} is not a value CloudWatch Logs accepts",
                fix=fix,
                severity=Severity.ERROR,
            )
