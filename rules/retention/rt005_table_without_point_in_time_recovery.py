"""RT005: a DynamoDB table without point-in-time recovery cannot be restored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.changes import ReplaceValue, SetKey
from cfnfix.intrinsics import is_intrinsic
from cfnfix.nodes import Path
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ._databases import global_table_replicas, owner_path
from ._values import literal_bool, readable

_SPEC = "PointInTimeRecoverySpecification"
_ENABLED = "PointInTimeRecoveryEnabled"


class TableWithoutPointInTimeRecovery(Rule):
    id = "RT005"
    name = "table-without-point-in-time-recovery"
    family = "retention"
    severity = Severity.WARNING
    resource_types = (
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::Serverless::SimpleTable",
    )
    summary = "DynamoDB table or global table replica without point-in-time recovery"
    what = """
Reports every `AWS::DynamoDB::Table`, and every replica of an `AWS::DynamoDB::GlobalTable`,
whose `PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled` is missing or false.
An `AWS::Serverless::SimpleTable` is reported at info level: it cannot turn recovery on.
"""
    why = """
Without point-in-time recovery, a bad deploy, a buggy batch job or a mistaken delete
overwrites items for good: DynamoDB keeps no history unless you ask for it. With it, the
table can be restored to any second of the last 35 days.
"""
    fix_safety = """
Missing setting: the fix sets `PointInTimeRecoveryEnabled: true` and is **safe** (an
in-place update with no interruption; continuous backups are billed per GB-month).

`PointInTimeRecoveryEnabled: false` written out is a stated choice: the fix turning it on
is **unsafe**. A `SimpleTable` has no such property and no fix: declare an
`AWS::DynamoDB::Table` instead.
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad="""
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
""",
            good="""
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
      PointInTimeRecoverySpecification:
        PointInTimeRecoveryEnabled: true
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for resource in readable(template, "AWS::DynamoDB::Table"):
            yield from self._check(resource.prop_path(), resource.properties, "table")
        for resource in readable(template, "AWS::DynamoDB::GlobalTable"):
            for path, replica in global_table_replicas(resource):
                yield from self._check(path, replica, "global table replica")
        for resource in readable(template, "AWS::Serverless::SimpleTable"):
            yield self.finding(
                resource.path,
                "a SimpleTable cannot turn on point-in-time recovery: declare an "
                "AWS::DynamoDB::Table with PointInTimeRecoverySpecification instead",
                severity=Severity.INFO,
            )

    def _check(self, path: Path, owner: dict[str, Any], what: str) -> Iterator[Finding]:
        spec = owner.get(_SPEC)
        if spec is None:
            yield self.finding(
                owner_path(path),
                f"{what} without point-in-time recovery: overwritten or deleted items "
                "cannot be restored",
                fix=Fix.safe(
                    "turn on point-in-time recovery",
                    SetKey(path, _SPEC, {_ENABLED: True}),
                ),
            )
            return
        if not isinstance(spec, dict) or is_intrinsic(spec):
            return
        if _ENABLED not in spec:
            yield self.finding(
                (*path, _SPEC),
                f"{what} without point-in-time recovery: {_ENABLED} is not set",
                fix=Fix.safe(
                    "turn on point-in-time recovery", SetKey((*path, _SPEC), _ENABLED, True)
                ),
            )
        elif literal_bool(spec[_ENABLED]) is False:
            yield self.finding(
                (*path, _SPEC, _ENABLED),
                f"{what} has point-in-time recovery turned off: overwritten or deleted items "
                "cannot be restored",
                fix=Fix.unsafe(
                    "turn on point-in-time recovery",
                    ReplaceValue((*path, _SPEC, _ENABLED), True),
                ),
            )
