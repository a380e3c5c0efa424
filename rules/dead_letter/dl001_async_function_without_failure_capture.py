"""DL001: an asynchronously invoked Lambda function that drops events it cannot process."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.changes import SetKey, add_resource, set_property
from cfnfix.compliant import logical_name, new_resource
from cfnfix.intrinsics import GetAtt, Ref
from cfnfix.rule import Example, Finding, Fix, Rule, Severity, listed
from cfnfix.template import Resource, Template

from ._build import Plan, dead_letter_queue, free_name, grant_function_send
from ._invocation import failure_capture, invoke_configs, invokers
from ._refs import FUNCTION_TYPES


class AsyncFunctionWithoutFailureCapture(Rule):
    id = "DL001"
    name = "async-function-without-failure-capture"
    family = "dead-letter"
    severity = Severity.WARNING
    resource_types = FUNCTION_TYPES
    summary = "Asynchronously invoked Lambda function without a dead-letter queue or OnFailure"
    what = """
Reports a Lambda function (`AWS::Lambda::Function` or `AWS::Serverless::Function`) that
something in the template invokes **asynchronously** and that has neither a dead-letter
queue (`DeadLetterConfig`, SAM `DeadLetterQueue`, also from SAM `Globals`) nor an
`AWS::Lambda::EventInvokeConfig` (SAM `EventInvokeConfig`) with a
`DestinationConfig.OnFailure`.

Asynchronous callers: an S3 bucket's `NotificationConfiguration.LambdaConfigurations`,
an SNS subscription or topic subscription with protocol `lambda`, an EventBridge /
CloudWatch Events rule target, an EventBridge Scheduler target, an IoT rule action, a
CloudWatch Logs subscription filter, an SES receipt rule `LambdaAction` of invocation type
`Event`, an EventBridge pipe with `FIRE_AND_FORGET`, an `AWS::Lambda::Permission` for
`s3`, `sns`, `events`, `iot` or `logs.amazonaws.com`, and the SAM events `S3`, `SNS`
(without `SqsSubscription`), `EventBridgeRule`, `Schedule`, `ScheduleV2`,
`CloudWatchEvent`, `CloudWatchLogs` and `IoTRule`. Aliases and versions count as their
function. An `iot.amazonaws.com` permission for an IoT custom authorizer (its
`SourceArn` is an `AWS::IoT::Authorizer`, or it has none and the function is only an
authorizer's) is a synchronous call: IoT waits for the allow/deny answer.

Functions invoked only synchronously (API Gateway, ALB, function URLs, Cognito, IoT
custom authorizers) or only
through event source mappings (SQS, Kinesis, DynamoDB, Kafka...) are **not** reported:
their caller sees the error, or the mapping's own failure handling applies (DL002, DL003).
"""
    why = """
Lambda queues an asynchronous event, retries it twice when the function fails (and keeps
retrying throttled events for up to six hours) and then **discards it**. Without a
dead-letter queue or an OnFailure destination nothing records that the event existed:
in the seed stack an image upload whose processing failed was simply lost, with no way
to find or replay it.
"""
    fix_safety = """
The fix is **unsafe**: it creates resources. It adds an SQS queue
`<Function>DeadLetterQueue` (SSE-SQS encryption, 14 days retention, the required tags,
`DeletionPolicy`/`UpdateReplacePolicy: Retain`; reused if it already exists), points the
function at it (`DeadLetterConfig.TargetArn`, or SAM `DeadLetterQueue` with `Type: SQS`),
and appends an inline policy allowing `sqs:SendMessage` on that queue to the execution
role when the role is defined in the template (SAM adds the permission to the roles it
generates). A role from outside the template must be given the permission by hand: the
finding says so, and Lambda rejects the update until it has it. Where the function has no
event invoke configuration, the fix also adds one that bounds retries and event age
(`maximum-retry-attempts`, `maximum-event-age`; the defaults are Lambda's own limits made
explicit): an `AWS::Lambda::EventInvokeConfig` for `$LATEST`, or SAM `EventInvokeConfig`.

**Why a dead-letter queue rather than an OnFailure destination.** `DeadLetterConfig` is
part of the function's configuration, so it covers every version and alias that triggers
may point at, needs one property and no extra resource, and SAM wires its permission
itself. An OnFailure destination is set per qualifier (`$LATEST` or an alias) and
delivers an invocation record (request, response, error) instead of the bare event, and
can also go to SNS, EventBridge, another function or S3. If you want the record or
another kind of target, add an `EventInvokeConfig` with
`DestinationConfig: {OnFailure: {Destination: ...}}` instead: this rule accepts either.
"""
    fix_availability = "always"
    options_schema = {
        "maximum-retry-attempts": {
            "type": "integer",
            "minimum": 0,
            "maximum": 2,
            "default": 2,
            "description": "MaximumRetryAttempts of the event invoke config the fix adds",
        },
        "maximum-event-age": {
            "type": "integer",
            "minimum": 60,
            "maximum": 21600,
            "default": 21600,
            "description": "MaximumEventAgeInSeconds of the event invoke config the fix adds",
        },
    }
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
  Processor:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt ProcessorRole.Arn
      Code: {ZipFile: "def handler(event, context): pass"}
  ProcessorRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
""",
            good="""
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration:
        LambdaConfigurations:
          - Event: s3:ObjectCreated:*
            Function: !GetAtt Processor.Arn
  Processor:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt ProcessorRole.Arn
      Code: {ZipFile: "def handler(event, context): pass"}
      DeadLetterConfig:
        TargetArn: !GetAtt ProcessorDeadLetterQueue.Arn
  ProcessorDeadLetterQueue:
    Type: AWS::SQS::Queue
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      MessageRetentionPeriod: 1209600
      SqsManagedSseEnabled: true
  ProcessorRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: ProcessorDeadLetterQueueSend
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: sqs:SendMessage
                Resource: !GetAtt ProcessorDeadLetterQueue.Arn
""",
        ),
        Example(
            bad="""
Transform: AWS::Serverless-2016-10-31
Resources:
  Nightly:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Events:
        Cron:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
""",
            good="""
Transform: AWS::Serverless-2016-10-31
Resources:
  Nightly:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      EventInvokeConfig:
        MaximumRetryAttempts: 1
        DestinationConfig:
          OnFailure:
            Type: SQS
      Events:
        Cron:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        table = invokers(template)
        for function in template.resources_of(*FUNCTION_TYPES):
            calls = [i.description for i in table.get(function.logical_id, []) if i.mode == "async"]
            if not calls or failure_capture(template, function.logical_id):
                continue
            plan, queue, bounded = self._plan(template, function)
            shown = listed(calls)
            message = (
                f"function is invoked asynchronously ({shown}) but has no dead-letter queue "
                "or OnFailure destination: an event that still fails after Lambda's retries "
                "is dropped"
            )
            if plan.notes:
                message += f"; with a dead-letter queue, {'; '.join(plan.notes)}"
            description = f"send failed events to dead-letter queue {queue}"
            if bounded:
                description += " and bound retries with an event invoke configuration"
            yield self.finding(function.path, message, fix=Fix.unsafe(description, *plan.changes))

    def _plan(self, template: Template, function: Resource) -> tuple[Plan, str, bool]:
        fid = function.logical_id
        plan = Plan()
        queue = dead_letter_queue(
            template,
            self.settings,
            logical_name(fid, "DeadLetterQueue"),
            condition=function.condition,
            plan=plan,
        )
        arn = GetAtt(queue, "Arn")
        if function.is_sam:
            plan.changes.append(
                set_property(fid, "DeadLetterQueue", {"Type": "SQS", "TargetArn": arn})
            )
        else:
            plan.changes.append(SetKey(function.prop_path("DeadLetterConfig"), "TargetArn", arn))
        grant_function_send(template, fid, queue, function.condition, plan)
        bounds = {
            "MaximumRetryAttempts": self.options["maximum-retry-attempts"],
            "MaximumEventAgeInSeconds": self.options["maximum-event-age"],
        }
        if invoke_configs(template, fid) or (
            function.is_sam and "EventInvokeConfig" in template.effective_properties(function)
        ):
            return plan, queue, False
        if function.is_sam:
            plan.changes.append(set_property(fid, "EventInvokeConfig", bounds))
        else:
            name = free_name(template, logical_name(fid, "EventInvokeConfig"), plan)
            body = new_resource(
                "AWS::Lambda::EventInvokeConfig",
                {"FunctionName": Ref(fid), "Qualifier": "$LATEST", **bounds},
                self.settings,
                condition=function.condition,
            )
            plan.changes.append(add_resource(name, body))
        return plan, queue, True
