"""SE014: a Lambda permission for a service principal that any account's resource can use."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.changes import set_property
from cfnfix.intrinsics import Ref
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ..dead_letter._invocation import principal_service
from ..dead_letter._refs import has_value

# Services documented to send the source account, so a SourceAccount condition works.
SOURCE_ACCOUNT_SERVICES = frozenset({"s3", "sns", "events", "logs", "ses", "iot", "scheduler"})


class LambdaPermissionWithoutSource(Rule):
    id = "SE014"
    name = "lambda-permission-without-source"
    family = "security"
    severity = Severity.WARNING
    resource_types = ("AWS::Lambda::Permission",)
    summary = "Lambda permission for a service principal without SourceArn or SourceAccount"
    what = """
Reports an `AWS::Lambda::Permission` whose `Principal` is an AWS service
(`s3.amazonaws.com`, `sns.amazonaws.com`, `events.amazonaws.com`,
`apigateway.amazonaws.com`, also `!Sub 's3.${AWS::URLSuffix}'`) and that has neither
`SourceArn` nor `SourceAccount` (nor `EventSourceToken` or `PrincipalOrgID`).

For the `s3` principal, `SourceAccount` is required even with a `SourceArn`: a bucket
ARN holds no account id.
"""
    why = """
Such a permission lets the service invoke the function on behalf of **any** account:
anyone who learns the function's ARN can point their own bucket, topic or rule at it
(the confused-deputy problem) and run the code with your role. Bucket names are global,
so a bucket the stack deleted can be re-created by someone else under the same name and
ARN; only `SourceAccount` ties an S3 permission to your account. This is the seed
analysis's "missing resource-based policies".
"""
    fix_safety = """
The fix adds `SourceAccount: !Ref AWS::AccountId` for principals that send the source
account (S3, SNS, EventBridge, CloudWatch Logs, SES, IoT, EventBridge Scheduler). It is
**unsafe**: every property of `AWS::Lambda::Permission` is create-only, so the
permission is replaced, and a trigger from another account (a cross-account bucket or
topic) stops working, which may be what the permission was for. For other principals
(API Gateway, load balancers...) add a `SourceArn` by hand.
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad="""
Resources:
  UploadPermission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Processor
      Action: lambda:InvokeFunction
      Principal: s3.amazonaws.com
  Processor:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/processor'
      Code: {ZipFile: "def handler(event, context): pass"}
""",
            good="""
Resources:
  UploadPermission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Processor
      Action: lambda:InvokeFunction
      Principal: s3.amazonaws.com
      SourceAccount: !Ref AWS::AccountId
      SourceArn: !Sub 'arn:${AWS::Partition}:s3:::uploads-${AWS::AccountId}'
  Processor:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/processor'
      Code: {ZipFile: "def handler(event, context): pass"}
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for permission in template.resources_of("AWS::Lambda::Permission"):
            props = permission.properties
            service = principal_service(props.get("Principal"))
            if service is None:
                continue
            if any(has_value(props.get(k)) for k in ("EventSourceToken", "PrincipalOrgID")):
                continue
            has_arn = has_value(props.get("SourceArn"))
            if has_value(props.get("SourceAccount")) or (has_arn and service != "s3"):
                continue
            if has_arn:
                message = (
                    "permission lets s3.amazonaws.com invoke the function with a SourceArn "
                    "but no SourceAccount: bucket names are global, so another account can "
                    "own a bucket of that name"
                )
            else:
                message = (
                    f"permission lets {service}.amazonaws.com invoke the function for any "
                    "account's resource (no SourceArn or SourceAccount): a confused deputy"
                )
            fix = None
            if service in SOURCE_ACCOUNT_SERVICES:
                fix = Fix.unsafe(
                    "set SourceAccount to the stack's account (replaces the permission)",
                    set_property(permission.logical_id, "SourceAccount", Ref("AWS::AccountId")),
                )
            else:
                message += "; add a SourceArn naming the resource that calls it"
            yield self.finding(permission.path, message, fix=fix)
