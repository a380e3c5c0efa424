"""DP001: a bucket that notifies a function but is not ordered after its permission."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.changes import Change
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ..security._loops import s3_triggers
from ._graph import dependency_graph, depends_on, known_name, rewrite_references
from ._notifications import add_depends_on, conditions_allow, s3_permissions


class BucketNotificationWithoutPermissionDependency(Rule):
    id = "DP001"
    name = "bucket-notification-without-permission-dependency"
    family = "deployment"
    severity = Severity.ERROR
    resource_types = ("AWS::S3::Bucket",)
    summary = "S3 bucket notifies a function without DependsOn on the matching Lambda permission"
    what = """
Reports an `AWS::S3::Bucket` whose `NotificationConfiguration.LambdaConfigurations`
targets a function of the template while the bucket does not depend (by `DependsOn`, or
through references, directly or not) on the `AWS::Lambda::Permission` that lets
`s3.amazonaws.com` invoke that function (its `SourceArn` absent or naming this
bucket). A bucket with no such permission at all is DP003's. SAM `S3` events are not
reported: SAM writes the permission and the `DependsOn` itself.
"""
    why = """
When CloudFormation saves a bucket's notification configuration, S3 checks at once that
it may invoke each function. Nothing orders the permission before the bucket, so
CloudFormation creates both in parallel, and when the bucket wins the race the stack
fails with "Unable to validate the following destination configurations" and rolls
back: the seed's "resource creation race conditions".
"""
    fix_safety = """
The fix adds the permission to the bucket's `DependsOn` (in the shape it has: a
string, a list, or a new key). It is **safe**: it changes creation order only. If the
permission itself refers to the bucket (a `SourceArn: !GetAtt Bucket.Arn`), the
`DependsOn` alone would make a circular dependency; the fix then also builds that
reference from the bucket's name (`!Sub 'arn:${AWS::Partition}:s3:::<name>'`), the
same value, when the name is a literal, a parameter or a `!Sub` of parameters. Without
a known name, or when the permission has a condition the bucket does not share, there is
no fix.
"""
    fix_availability = "sometimes"
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
            Function: !GetAtt Processor.Arn
  UploadsPermission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Processor
      Action: lambda:InvokeFunction
      Principal: s3.amazonaws.com
      SourceAccount: !Ref AWS::AccountId
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
    DependsOn: UploadsPermission
    Properties:
      NotificationConfiguration:
        LambdaConfigurations:
          - Event: s3:ObjectCreated:*
            Function: !GetAtt Processor.Arn
  UploadsPermission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Processor
      Action: lambda:InvokeFunction
      Principal: s3.amazonaws.com
      SourceAccount: !Ref AWS::AccountId
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
        missing: dict[str, list[Resource]] = {}
        for trigger in s3_triggers(template):
            if trigger.source != "notification":
                continue
            permissions = s3_permissions(template, trigger)
            if not permissions:
                continue
            if any(depends_on(template, trigger.bucket, p.logical_id) for p in permissions):
                continue
            chosen = missing.setdefault(trigger.bucket, [])
            if permissions[0] not in chosen:
                chosen.append(permissions[0])
        for bucket_id, permissions in missing.items():
            bucket = template.resources[bucket_id]
            names = ", ".join(p.logical_id for p in permissions)
            message = (
                f"bucket notifies a function but does not depend on its permission ({names}): "
                "CloudFormation may create the bucket first, and S3 then fails with "
                '"Unable to validate the following destination configurations"'
            )
            rewrites, problem = self._rewrites(template, bucket, permissions)
            if rewrites is None:
                yield self.finding(bucket.path, f"{message}; {problem}")
                continue
            description = f"add DependsOn {names}"
            if rewrites:
                description += " and build the permission's bucket ARN from the bucket name"
            changes = rewrites + add_depends_on(bucket, [p.logical_id for p in permissions])
            yield self.finding(bucket.path, message, fix=Fix.safe(description, *changes))

    def _rewrites(
        self, template: Template, bucket: Resource, permissions: list[Resource]
    ) -> tuple[list[Change] | None, str]:
        """The changes that free the permissions from the bucket before the DependsOn is
        added (none when they do not refer to it), or `None` and why there is no fix."""
        changes: list[Change] = []
        graph = dependency_graph(template)
        for permission in permissions:
            if not conditions_allow(bucket, permission):
                return None, (
                    f"{permission.logical_id} has a condition the bucket does not share, so "
                    "a DependsOn would fail when it is false"
                )
            if not depends_on(template, permission.logical_id, bucket.logical_id):
                continue
            if any(
                depends_on(template, e.target, bucket.logical_id)
                for e in graph[permission.logical_id]
                if e.target != bucket.logical_id
            ):
                return None, (
                    f"{permission.logical_id} depends on the bucket through other resources"
                )
            name = known_name(template, bucket.logical_id)
            rewritten = (
                rewrite_references(template, permission.logical_id, bucket.logical_id, name)
                if name is not None
                else None
            )
            if rewritten is None:
                return None, (
                    f"{permission.logical_id} refers to the bucket, so a DependsOn would be "
                    "circular: give the bucket a BucketName and build the SourceArn from it"
                )
            changes += rewritten
        return changes, ""
