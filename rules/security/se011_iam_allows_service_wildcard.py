"""SE011: an IAM policy statement that allows every action of a service (`s3:*`)."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.rule import Example, Finding, Rule, Severity
from cfnfix.template import Template

from ._iam import STATEMENT_TYPES, on_every_resource, service_wildcard, statements


class IamAllowsServiceWildcard(Rule):
    id = "SE011"
    name = "iam-allows-service-wildcard"
    family = "security"
    severity = Severity.WARNING
    resource_types = STATEMENT_TYPES
    summary = "IAM policy statement allows every action of a service (`s3:*`, `dynamodb:*`)"
    what = """
Reports an `Effect: Allow` statement of an identity policy (inline role `Policies`,
`AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy`, SAM `Policies` documents) whose
`Action` includes a whole-service wildcard such as `s3:*` or `dynamodb:*`. Partial
wildcards (`s3:Get*`, `s3:Put*`) are not this rule's concern (SE012 judges writes on
every resource). A statement with a Condition that narrows what it reaches (any key
but the transport, time, MFA and user-agent ones) is not reported.
"""
    why = """
`s3:*` is not "read and write objects": it is also `s3:DeleteBucket`,
`s3:PutBucketPolicy` and `s3:PutBucketPublicAccessBlock`. A function holding it can
make its bucket public or delete it; `dynamodb:*` can drop the table. List the actions
the code calls (SAM's policy templates such as `S3CrudPolicy` are a quick way).
"""
    fix_safety = "This rule has no fix: only the author knows which actions the code needs."
    examples = (
        Example(
            bad="""
Resources:
  Policy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: table
      Roles: [!Ref Role]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Action: dynamodb:*
            Resource: !GetAtt Table.Arn
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
""",
            good="""
Resources:
  Policy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: table
      Roles: [!Ref Role]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem]
            Resource: !GetAtt Table.Arn
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for statement in statements(template):
            if statement.policy_template is not None or statement.not_action:
                continue
            services = [s for a in statement.actions if (s := service_wildcard(a))]
            if not services or statement.scoped_by_condition:
                continue
            everywhere = on_every_resource(template, statement)
            listed = ", ".join(f"{s}:*" for s in dict.fromkeys(services))
            where = "on every resource" if everywhere else "on its resources"
            yield self.finding(
                statement.action_path(),
                f"policy statement allows every action of {listed} {where}: list the "
                "actions the code calls",
                resource=statement.owner,
            )
