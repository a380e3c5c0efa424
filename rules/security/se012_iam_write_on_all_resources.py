"""SE012: an IAM policy statement that allows write actions on every resource."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.rule import Example, Finding, Rule, Severity, listed
from cfnfix.template import Template

from ._iam import (
    STATEMENT_TYPES,
    action_class,
    all_resources,
    is_full_wildcard,
    service_wildcard,
    statements,
)


class IamWriteOnAllResources(Rule):
    id = "SE012"
    name = "iam-write-on-all-resources"
    family = "security"
    severity = Severity.WARNING
    resource_types = STATEMENT_TYPES
    summary = "IAM policy statement allows write actions on `Resource: '*'`"
    what = """
Reports an `Effect: Allow` statement of an identity policy (inline role `Policies`,
`AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy`, SAM `Policies` documents) that grants a
**write** action on every resource: `Resource: '*'`, or an ARN that is all wildcards
after the service (`arn:${AWS::Partition}:s3:::*`, `arn:aws:sqs:*:*:*`,
`arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*`).

Actions are classed by one small table (documented in `rules/security/_iam.py`):
read actions (`Get*`, `List*`, `Describe*`, `Query`, `Scan`... and `bedrock:InvokeModel`)
are not writes; actions that accept no resource but `*` (X-Ray `PutTraceSegments`,
`cloudwatch:PutMetricData`, the EC2 network-interface calls of a VPC function,
`kms:CreateKey`, `translate:TranslateText`, Textract) and the three logging calls every
function makes (`logs:CreateLogGroup`, `logs:CreateLogStream`, `logs:PutLogEvents`)
are not reported either. Everything else counts as a write (`s3:PutObject`,
`sqs:SendMessage`, `sns:Publish`, `iam:PassRole`, `kms:Decrypt`, `s3:Put*`...).
`sns:Publish` on `*` is not reported in a template that defines no SNS topic: sending
SMS to a phone number can only be granted that way. Full wildcards (`*`, `s3:*`) are
SE010's and SE011's. A statement with a Condition that
narrows what it reaches (any key but the transport, time, MFA and user-agent ones) is
not reported.
"""
    why = """
A write on `*` reaches every bucket, queue, topic or table of the account, not only
the ones the stack created: a bug or injected input can overwrite another
application's data, and `iam:PassRole` on `*` lets the holder hand any role to a
service it creates (privilege escalation). Name the resources: `!GetAtt Queue.Arn`,
`!Sub '${Bucket.Arn}/*'`.
"""
    fix_safety = "This rule has no fix: only the author knows which resources the code writes."
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
        - PolicyName: send
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [sqs:SendMessage, xray:PutTraceSegments]
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
        - PolicyName: send
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: sqs:SendMessage
                Resource: !GetAtt Queue.Arn
              - Effect: Allow
                Action: xray:PutTraceSegments
                Resource: '*'
  Queue:
    Type: AWS::SQS::Queue
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for statement in statements(template):
            if (
                statement.policy_template is not None
                or statement.not_action
                or statement.not_resource
                or statement.scoped_by_condition
            ):
                continue
            writes = [
                a
                for a in statement.actions
                if not is_full_wildcard(a)
                and service_wildcard(a) is None
                and action_class(a) == "write"
            ]
            if not template.memoize("security.has_topic", lambda: _has_topic(template)):
                # SMS: publishing to a phone number takes `Resource: '*'`
                writes = [a for a in writes if a.strip().lower() != "sns:publish"]
            if not writes or not any(all_resources(template, r) for r in statement.resources):
                continue
            shown = listed(writes, 4)
            yield self.finding(
                statement.resource_path(),
                f"policy statement allows {shown} on every resource: name the resources "
                "the code writes",
                resource=statement.owner,
            )


def _has_topic(template: Template) -> bool:
    return any(True for _ in template.resources_of("AWS::SNS::Topic", "AWS::SNS::TopicPolicy"))
