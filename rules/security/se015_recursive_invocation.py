"""SE015: a function that may write into the bucket whose object-created events invoke it."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.rule import Example, Finding, Rule, Severity
from cfnfix.template import Template

from ..dead_letter._refs import FUNCTION_TYPES
from ._loops import Loop, recursive_loops


class RecursiveInvocation(Rule):
    id = "SE015"
    name = "recursive-invocation"
    family = "security"
    severity = Severity.ERROR
    resource_types = FUNCTION_TYPES
    summary = "Function triggered by a bucket's object-created events may write back into it"
    what = """
Reports a Lambda function that a bucket invokes on `s3:ObjectCreated:*` events and whose
permissions allow `s3:PutObject` on keys of **that bucket that the trigger's filter lets
through**: a recursive loop. The message walks through it step by step.

Triggers: the bucket's `NotificationConfiguration.LambdaConfigurations` (with its
`Filter.S3Key.Rules` prefix and suffix), a SAM `S3` event, and EventBridge rules (or
SAM `EventBridgeRule` events) on `aws.s3` "Object Created" events of a bucket with
EventBridge notifications enabled. Permissions: the function's role (`Role: !GetAtt
R.Arn`) with its inline `Policies`, the `AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy`
resources attached to it (`Roles: [!Ref R]`, `ManagedPolicyArns`), or a SAM function's
`Policies` (statements and the `S3CrudPolicy`, `S3WritePolicy` and `S3FullAccessPolicy`
templates). `s3:PutObject`, `s3:Put*`, `s3:*` and `*` count; the bucket may be named
by `!GetAtt X.Arn`, `!Sub '${X.Arn}/*'`, `!Sub 'arn:${AWS::Partition}:s3:::${X}/*'`, a
`!Join`, its literal or parameter `BucketName`, or `*`.

A function that writes to another bucket, or only under a prefix the trigger's filter
excludes (trigger prefix `uploads/`, writes allowed on `X/thumbnails/*`), is not
reported. A role defined outside the template cannot be read, and is not reported.
"""
    why = """
Each object the function writes is a new `ObjectCreated` event that invokes it again,
which writes another object: the function runs, and bills, without end, and can take
the account's whole Lambda concurrency. Lambda's recursive loop detection
(`RecursiveLoop: Terminate`) stops such a chain only after about 16 rounds and only for
supported SDKs; with `RecursiveLoop: Allow` nothing stops it. Write the output to a
separate bucket, or under a prefix the notification's filter excludes, and give the role
`s3:PutObject` only there.
"""
    fix_safety = "This rule has no fix: where the output belongs is a design decision."
    examples = (
        Example(
            bad="""
Transform: AWS::Serverless-2016-10-31
Resources:
  Images:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub 'images-${AWS::AccountId}'
  Thumbnailer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Policies:
        - S3CrudPolicy:
            BucketName: !Sub 'images-${AWS::AccountId}'
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Images
            Events: s3:ObjectCreated:*
""",
            good="""
Transform: AWS::Serverless-2016-10-31
Resources:
  Images:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub 'images-${AWS::AccountId}'
  Thumbnails:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub 'thumbnails-${AWS::AccountId}'
  Thumbnailer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Policies:
        - S3ReadPolicy:
            BucketName: !Sub 'images-${AWS::AccountId}'
        - S3CrudPolicy:
            BucketName: !Sub 'thumbnails-${AWS::AccountId}'
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Images
            Events: s3:ObjectCreated:*
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        seen: set[tuple[str, str]] = set()
        for loop in recursive_loops(template):
            key = (loop.trigger.function, loop.trigger.bucket)
            if key in seen:
                continue
            seen.add(key)
            yield self.finding(
                ("Resources", loop.trigger.function),
                self._message(template, loop),
                resource=loop.trigger.function,
            )

    def _message(self, template: Template, loop: Loop) -> str:
        trigger, statement = loop.trigger, loop.statement
        function, bucket = trigger.function, trigger.bucket
        if loop.holder == function:
            grant = (
                f"the SAM policy template {statement.policy_template}"
                if statement.policy_template
                else "its SAM Policies"
            )
            who = f"{grant} {'allows' if statement.policy_template else 'allow'}"
        elif statement.owner == loop.holder:
            who = f"its role {loop.holder} allows"
        else:
            who = f"its role {loop.holder} (policy {statement.owner}) allows"
        resource = loop.resource.replace("arn:aws:s3:::", "").replace("${" + bucket + "}", bucket)
        props = template.effective_properties(template.resources[function])
        guard = (
            "; RecursiveLoop: Allow turns off Lambda's loop detection"
            if props.get("RecursiveLoop") == "Allow"
            else ""
        )
        return (
            f"recursive loop: (1) {trigger.describe()}; (2) {who} s3:PutObject on "
            f"{resource}, which includes those keys of {bucket}; (3) an object {function} "
            f"writes there is created in {bucket} and invokes {function} again{guard}. "
            "Write the output to another bucket or under a prefix the trigger excludes"
        )
