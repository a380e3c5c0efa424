"""DP002: a bucket that notifies a function on a circular dependency."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ..security._loops import s3_triggers
from ._graph import known_name, rewrite_references, shortest_cycle


class BucketNotificationCircularDependency(Rule):
    id = "DP002"
    name = "bucket-notification-circular-dependency"
    family = "deployment"
    severity = Severity.ERROR
    resource_types = ("AWS::S3::Bucket",)
    summary = "Bucket -> function -> permission/role -> bucket circular dependency"
    what = """
Reports an S3 bucket that invokes a function of the template (its
`NotificationConfiguration`, or a SAM `S3` event, which SAM turns into one) and that
sits on a circular dependency: the bucket depends on the function (the notification
names it) or on its permission (`DependsOn`), and a chain of references leads back to
the bucket: a permission's `SourceArn: !GetAtt Bucket.Arn`, a role policy's
`!Sub '${Bucket.Arn}/*'`, a SAM `S3CrudPolicy: {BucketName: !Ref Bucket}`, an
environment variable `!Ref Bucket`. The message spells out each edge and the property
that makes it.
"""
    why = """
CloudFormation cannot order resources that depend on each other, and rejects the
template before creating anything ("Circular dependency between resources"; cfn-lint
E3004). It is the classic trap of S3-triggered functions: the permission and the role
want the bucket's ARN, the bucket wants the function and must wait for the permission.
The standard way out is to build the ARN from the bucket's *name*, which the template
already knows.
"""
    fix_safety = """
The fix rewrites the references that close the cycle (the last edge, into the bucket)
with the bucket's name: `!Ref Bucket` becomes the name, `!GetAtt Bucket.Arn` and
`${Bucket.Arn}` become `arn:${AWS::Partition}:s3:::<name>` (the same value). It applies
only when the name is a literal, a parameter or a `!Sub` of parameters and pseudo
parameters, and every reference on that edge is a `Ref` or the `Arn`; it is **safe**:
every value stays the same, only the order of creation is freed. After it, DP001 can
add the bucket's `DependsOn` on its permission. Without a known name (a generated
bucket name) there is no fix: set a `BucketName`, or move the notification to a custom
resource.
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad="""
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    DependsOn: UploadsPermission
    Properties:
      BucketName: !Sub 'uploads-${AWS::AccountId}'
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
      SourceArn: !GetAtt Uploads.Arn
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
      BucketName: !Sub 'uploads-${AWS::AccountId}'
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
        triggers = s3_triggers(template)
        buckets = dict.fromkeys(t.bucket for t in triggers if t.source != "eventbridge")
        for bucket_id in buckets:
            cycle = shortest_cycle(template, bucket_id)
            if cycle is None:
                continue
            chain = "; ".join(edge.describe() for edge in cycle)
            message = f"circular dependency, CloudFormation cannot create these resources: {chain}"
            last = cycle[-1]
            name = known_name(template, bucket_id)
            changes = None
            if last.why == "DependsOn":
                message += f"; remove {last.source}'s DependsOn on {bucket_id}"
            elif name is None:
                message += (
                    f"; give {bucket_id} a BucketName and build {last.source}'s reference "
                    "from it (arn:${AWS::Partition}:s3:::<name>)"
                )
            else:
                changes = rewrite_references(template, last.source, bucket_id, name)
                if changes is None:
                    message += f"; {last.source} uses an attribute of {bucket_id} other than Arn"
            fix = (
                Fix.safe(
                    f"build {last.source}'s references to {bucket_id} from the bucket name",
                    *changes,
                )
                if changes
                else None
            )
            yield self.finding(("Resources", bucket_id), message, fix=fix)
