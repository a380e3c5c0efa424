"""CO005: logs kept (and billed) longer than the project allows. Opt-in."""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from cfnfix_rules.retention._values import literal_int, readable
from cfnfix_rules.retention.rt001_log_group_retention import RETENTION_DAYS

from cfnfix.changes import ReplaceValue
from cfnfix.intrinsics import ref_target
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template


class LogRetentionAboveMaximum(Rule):
    id = "CO005"
    name = "log-retention-above-maximum"
    family = "cost"
    severity = Severity.WARNING
    resource_types = ("AWS::Logs::LogGroup",)
    summary = "Log group retention longer than the configured maximum (opt-in)"
    default_enabled = False
    what = """
Opt-in (select `CO005`): reports an `AWS::Logs::LogGroup` whose `RetentionInDays` is
longer than the `maximum-days` option (365 unless configured), either as a literal or as
the `Default` of the parameter it refers to. A log group without retention is RT001's
finding, not this one's.
"""
    why = """
CloudWatch Logs bills stored data every month for as long as it is kept. A team that
decided how long logs are useful (and how long they may be kept, for privacy rules)
wants each log group to follow it; ten years of debug logs cost ten times one year.
There is no default on by default because legal retention (audit, finance) legitimately
exceeds any single number.
"""
    fix_safety = """
A literal value: the fix lowers it to the longest accepted retention not above
`maximum-days`. It is **unsafe**: after the update, CloudWatch Logs deletes the events
older than the new period. A value from a parameter has no fix (the parameter may be set
per deployment; change its default by hand).
"""
    fix_availability = "sometimes"
    options_schema = {
        "maximum-days": {
            "type": "integer",
            "minimum": 1,
            "default": 365,
            "description": "the longest RetentionInDays allowed",
        }
    }
    examples = (
        Example(
            bad="""
Resources:
  AppLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 3653
""",
            good="""
Resources:
  AppLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 365
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        maximum = self.options["maximum-days"]
        allowed = RETENTION_DAYS[max(bisect.bisect_right(RETENTION_DAYS, maximum) - 1, 0)]
        for group in readable(template, "AWS::Logs::LogGroup"):
            value = group.properties.get("RetentionInDays")
            days = literal_int(value)
            parameter = ref_target(value)
            if days is None and parameter is not None:
                declared = template.parameters.get(parameter)
                default = declared.get("Default") if isinstance(declared, dict) else None
                days = literal_int(default)
            if days is None or days <= maximum:
                continue
            path = group.prop_path("RetentionInDays")
            if parameter is not None:
                yield self.finding(
                    path,
                    f"RetentionInDays defaults to {days} days (parameter {parameter}), more "
                    f"than the maximum of {maximum}",
                )
                continue
            fix = None
            if allowed <= maximum and allowed < days:
                fix = Fix.unsafe(f"lower RetentionInDays to {allowed}", ReplaceValue(path, allowed))
            yield self.finding(
                path,
                f"RetentionInDays {days} keeps logs longer than the maximum of {maximum} days",
                fix=fix,
            )
