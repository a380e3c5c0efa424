"""SE010: an IAM policy statement that allows every action."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.rule import Example, Finding, Rule, Severity
from cfnfix.template import Template

from ._iam import STATEMENT_TYPES, is_full_wildcard, on_every_resource, statements


class IamAllowsAllActions(Rule):
    id = "SE010"
    name = "iam-allows-all-actions"
    family = "security"
    severity = Severity.ERROR
    resource_types = STATEMENT_TYPES
    summary = "IAM policy statement allows every action (`Action: '*'` or `NotAction`)"
    what = """
Reports an `Effect: Allow` statement whose `Action` is `*` (or `*:*`), or that uses
`NotAction` (it allows everything but the listed actions), in an identity policy: the
inline `Policies` of an `AWS::IAM::Role`, an `AWS::IAM::Policy`, an
`AWS::IAM::ManagedPolicy`, or the `Policies` of a SAM function or state machine.

On `Resource: '*'` the finding is an error (the principal is an administrator);
on a narrower resource it is a warning (every action on that resource, including
deleting it and changing its policy). A Condition does not lift the finding: it rarely
makes "every action" least privilege. Resource policies (bucket, key, queue policies)
are not identity policies and are not read.
"""
    why = """
A function or service that can do anything can be turned into anything: a bug or a
compromised dependency in the seed's image processor could delete the buckets, read
every table or create users. Grant the actions the code calls, on the resources it
touches.
"""
    fix_safety = "This rule has no fix: only the author knows which actions the code needs."
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
      Policies:
        - PolicyName: everything
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: '*'
                Resource: '*'
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
      Policies:
        - PolicyName: read-uploads
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: s3:GetObject
                Resource: !Sub 'arn:${AWS::Partition}:s3:::uploads-${AWS::AccountId}/*'
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for statement in statements(template):
            if statement.policy_template is not None:
                continue
            if statement.not_action:
                what = "allows every action except those in NotAction"
            elif any(is_full_wildcard(a) for a in statement.actions):
                what = "allows every action (Action: '*')"
            else:
                continue
            everywhere = on_every_resource(template, statement)
            where = "on every resource" if everywhere else "on its resources"
            message = f"policy statement {what} {where}: grant only the actions the code needs"
            if statement.scoped_by_condition:
                message += " (its Condition does not make that least privilege)"
            yield self.finding(
                statement.action_path(),
                message,
                resource=statement.owner,
                severity=None if everywhere else Severity.WARNING,
            )
