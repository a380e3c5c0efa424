"""HC004: `arn:aws:` written literally fails in the AWS China and GovCloud partitions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ._aws import PARTITION_RE
from ._scan import ANY, LITERAL_ONLY, Occurrence, find_literal, grouped, new_value, occurrences


class HardcodedPartition(Rule):
    id = "HC004"
    name = "hardcoded-partition"
    family = "hardcoded"
    severity = Severity.WARNING
    summary = "ARN with a literal partition (arn:aws:) instead of ${AWS::Partition}"
    what = """
Reports ARNs whose partition is written literally (`arn:aws:`, `arn:aws-cn:`,
`arn:aws-us-gov:`, ...) in resource properties, SAM `Globals` and output values, in plain
strings and inside `Fn::Sub` alike, managed-policy ARNs
(`arn:aws:iam::aws:policy/...`) included. Unlike cfn-lint's I3042 it also looks at
plain strings and at SAM templates.
"""
    why = """
An AWS account lives in one partition: the standard regions (`aws`), AWS China
(`aws-cn`) or AWS GovCloud (US) (`aws-us-gov`). An ARN that names the wrong partition
does not exist there: a managed policy cannot be attached (`Policy
arn:aws:iam::aws:policy/... does not exist or is not attachable`), a role's permissions
match nothing, and the stack fails or deploys without the access it needs. The
template cannot be shared with a team or customer in another partition.
"""
    fix_safety = """
**Safe.** The partition becomes `${AWS::Partition}`; a plain string turns into a `!Sub`
(`Fn::Sub` in JSON) with any literal `${` escaped as `${!`. In the partition the ARN was
written for the value is unchanged, so a deploy there does exactly the same.

No fix is offered inside a SAM application's `Location` (`ApplicationId`): the SAM
transform resolves it itself and accepts only `Ref` and `Fn::FindInMap` (HC002 moves
such an ARN into a parameter). SAM artifact URIs (`CodeUri: s3://...`) are left to
HC001.
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad="""
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
""",
            good="""
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - !Sub arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        pending: list[tuple[Occurrence, str, str | None, Any]] = []
        for occurrence in occurrences(template):
            if occurrence.number or occurrence.rewrite == LITERAL_ONLY:
                continue  # SAM artifact URIs are HC001's
            matches = find_literal(PARTITION_RE, occurrence.text, occurrence.in_sub)
            if not matches:
                continue
            partitions = ", ".join(dict.fromkeys(f"arn:{m.group('partition')}:" for m in matches))
            message = (
                f"hardcoded partition {partitions}: the ARN does not exist in other "
                f"partitions (AWS China, AWS GovCloud)"
            )
            if occurrence.rewrite != ANY:
                message += "; SAM resolves this property itself and takes only a parameter here"
                pending.append((occurrence, message, None, None))
                continue
            edits = [
                (m.start("partition"), m.end("partition"), "${AWS::Partition}") for m in matches
            ]
            description = f"replace {partitions} with arn:${{AWS::Partition}}:"
            pending.append((occurrence, message, description, new_value(occurrence, edits)))
        changes = grouped(template, [(o.path, v) for o, _, d, v in pending if d is not None])
        for occurrence, message, fix_description, _ in pending:
            fix = None
            if fix_description is not None:
                fix = Fix.safe(fix_description, changes[occurrence.path])
            yield self.finding(occurrence.path, message, fix=fix)
