"""DP003: a bucket that notifies a function no permission lets S3 invoke."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.changes import add_resource
from cfnfix.compliant import logical_name, new_resource, unique_name
from cfnfix.intrinsics import Ref, Sub
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ..security._loops import s3_triggers
from ._graph import known_name
from ._notifications import PERMISSION_TYPE, add_depends_on, s3_permissions


class BucketNotificationWithoutPermission(Rule):
    id = "DP003"
    name = "bucket-notification-without-permission"
    family = "deployment"
    severity = Severity.ERROR
    resource_types = ("AWS::S3::Bucket",)
    summary = "S3 bucket notifies a function of the template that no permission lets S3 invoke"
    what = """
Reports an `AWS::S3::Bucket` whose `NotificationConfiguration.LambdaConfigurations`
targets a function of the template for which no `AWS::Lambda::Permission` lets
`s3.amazonaws.com` invoke it (with no `SourceArn`, or one that may name this bucket).
SAM `S3` events are not reported: SAM creates the permission.
"""
    why = """
S3 checks, when the notification is saved, that it may invoke the function; without a
permission the bucket's creation fails with "Unable to validate the following
destination configurations" and the stack rolls back.
"""
    fix_safety = """
The fix is **unsafe**: it creates an `AWS::Lambda::Permission` (`Principal:
s3.amazonaws.com`, `SourceAccount: !Ref AWS::AccountId`, and a `SourceArn` built from the
bucket's name when the template knows it, so that no circular dependency appears) for
the value the notification names, and adds it to the bucket's `DependsOn`.
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad="""
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub 'uploads-${AWS::AccountId}'
      NotificationConfiguration:
        LambdaConfigurations:
          - Event: s3:ObjectCreated:*
            Function: !GetAtt Processor.Arn
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
  Uploads:
    Type: AWS::S3::Bucket
    DependsOn: ProcessorUploadsPermission
    Properties:
      BucketName: !Sub 'uploads-${AWS::AccountId}'
      NotificationConfiguration:
        LambdaConfigurations:
          - Event: s3:ObjectCreated:*
            Function: !GetAtt Processor.Arn
  ProcessorUploadsPermission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !GetAtt Processor.Arn
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
        seen: set[tuple[str, str]] = set()
        for trigger in s3_triggers(template):
            key = (trigger.bucket, trigger.function)
            if trigger.source != "notification" or key in seen:
                continue
            seen.add(key)
            if s3_permissions(template, trigger):
                continue
            bucket = template.resources[trigger.bucket]
            function = template.resources[trigger.function]
            message = (
                f"bucket notifies {trigger.function} but no AWS::Lambda::Permission lets "
                's3.amazonaws.com invoke it: creating the bucket fails with "Unable to '
                'validate the following destination configurations"'
            )
            condition = bucket.condition or function.condition
            if bucket.condition and function.condition and bucket.condition != function.condition:
                yield self.finding(bucket.path, message)
                continue
            name = unique_name(
                template, logical_name(trigger.function, trigger.bucket, "Permission")
            )
            props = {
                "FunctionName": trigger.value,
                "Action": "lambda:InvokeFunction",
                "Principal": "s3.amazonaws.com",
                "SourceAccount": Ref("AWS::AccountId"),
            }
            bucket_name = known_name(template, trigger.bucket)
            if bucket_name is not None:
                props["SourceArn"] = Sub(bucket_name.arn)
            body = new_resource(PERMISSION_TYPE, props, self.settings, condition=condition)
            fix = Fix.unsafe(
                f"add permission {name} for S3 and make the bucket depend on it",
                add_resource(name, body),
                *add_depends_on(bucket, [name]),
            )
            yield self.finding(bucket.path, message, fix=fix)
