"""DL002: a Kinesis / DynamoDB Streams event source mapping without an OnFailure destination."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.changes import SetKey
from cfnfix.compliant import logical_name
from cfnfix.intrinsics import GetAtt
from cfnfix.nodes import Path
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ._build import Plan, dead_letter_queue, function_of_mapping, grant_function_send
from ._refs import as_int, get, has_value, resources_referenced, sam_events, sub_text

STREAM_SOURCES = {
    "AWS::Kinesis::Stream": "Kinesis",
    "AWS::Kinesis::StreamConsumer": "Kinesis",
    "AWS::DynamoDB::Table": "DynamoDB",
    "AWS::DynamoDB::GlobalTable": "DynamoDB",
}
# Properties that only mappings of other sources have.
OTHER_SOURCE_KEYS = (
    "Topics",
    "Queues",
    "SelfManagedEventSource",
    "AmazonManagedKafkaEventSourceConfig",
    "SelfManagedKafkaEventSourceConfig",
    "DocumentDBEventSourceConfig",
    "SourceAccessConfigurations",
)


def stream_source(template: Template, properties: dict[str, Any]) -> str | None:
    """``Kinesis`` or ``DynamoDB`` when a mapping reads a stream, else ``None``."""
    source = properties.get("EventSourceArn")
    for resource in resources_referenced(template, source):
        if resource.type in STREAM_SOURCES:
            return STREAM_SOURCES[resource.type]
        if resource.type.startswith("AWS::"):
            return None  # an SQS queue, an MQ broker, an MSK cluster...
    text = sub_text(source)
    if isinstance(text, str):
        if ":kinesis:" in text:
            return "Kinesis"
        if ":dynamodb:" in text and "/stream/" in text:
            return "DynamoDB"
        if text.startswith("arn:") or ":" in text:
            return None
    # A parameter or an import: only stream (and Kafka) mappings have StartingPosition.
    if "StartingPosition" in properties and not any(k in properties for k in OTHER_SOURCE_KEYS):
        return "Kinesis or DynamoDB"
    return None


def _retry_state(properties: dict[str, Any]) -> str:
    retries = as_int(properties.get("MaximumRetryAttempts"))
    age = as_int(properties.get("MaximumRecordAgeInSeconds"))
    if "MaximumRetryAttempts" in properties and retries is None:
        return "bounded"  # an expression: assume it bounds
    if (retries is None or retries < 0) and (age is None or age < 0):
        return "unbounded"
    return "bounded"


class StreamMappingWithoutOnFailure(Rule):
    id = "DL002"
    name = "stream-mapping-without-on-failure"
    family = "dead-letter"
    severity = Severity.WARNING
    resource_types = ("AWS::Lambda::EventSourceMapping", "AWS::Serverless::Function")
    summary = "Kinesis / DynamoDB Streams event source mapping without an OnFailure destination"
    what = """
Reports an `AWS::Lambda::EventSourceMapping` that reads a Kinesis stream or a DynamoDB
stream, and a SAM `Kinesis` / `DynamoDB` event, without
`DestinationConfig.OnFailure`. The source is recognised from the resource
`EventSourceArn` refers to, from a literal ARN, or (for a parameter or an import) from
`StartingPosition`, which only stream and Kafka mappings take.
"""
    why = """
A stream mapping retries a failing batch until it succeeds or the record expires. With
the defaults (`MaximumRetryAttempts` and `MaximumRecordAgeInSeconds` of -1) one poison
record **blocks its shard** for up to 24 hours (DynamoDB) or the stream's retention
(Kinesis), and every record behind it waits; when it expires it is lost. With bounded
retries but no OnFailure destination, Lambda skips the failing batch and **discards it
silently**. An OnFailure destination receives a description of every discarded batch
(shard, sequence numbers) so the records can be found and replayed.
"""
    fix_safety = """
The fix is **unsafe**: it creates resources and changes how failures are handled. It adds
an SQS queue `<Mapping>DeadLetterQueue` (SAM: `<Function><Event>DeadLetterQueue`;
SSE-SQS, 14 days retention, required tags, Retain policies; reused if it exists), sets
`DestinationConfig.OnFailure.Destination` to it (SAM: with `Type: SQS`, so SAM adds the
permission to the role it generates), gives an execution role defined in the template
`sqs:SendMessage` on the queue, and where they are missing sets `MaximumRetryAttempts`
(option `maximum-retry-attempts`) and `BisectBatchOnFunctionError: true` so that a
poison record is isolated and skipped instead of blocking the shard.
"""
    fix_availability = "always"
    options_schema = {
        "maximum-retry-attempts": {
            "type": "integer",
            "minimum": 0,
            "maximum": 10000,
            "default": 3,
            "description": "MaximumRetryAttempts the fix sets where retries are unbounded",
        }
    }
    examples = (
        Example(
            bad="""
Resources:
  Orders:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
  OrdersMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Consumer
      EventSourceArn: !GetAtt Orders.Arn
      StartingPosition: LATEST
  Consumer:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !Ref ConsumerRoleArn
      Code: {ZipFile: "def handler(event, context): pass"}
Parameters:
  ConsumerRoleArn: {Type: String}
""",
            good="""
Resources:
  Orders:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
  OrdersMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Consumer
      EventSourceArn: !GetAtt Orders.Arn
      StartingPosition: LATEST
      MaximumRetryAttempts: 3
      BisectBatchOnFunctionError: true
      DestinationConfig:
        OnFailure:
          Destination: !Ref FailedOrdersQueueArn
  Consumer:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !Ref ConsumerRoleArn
      Code: {ZipFile: "def handler(event, context): pass"}
Parameters:
  ConsumerRoleArn: {Type: String}
  FailedOrdersQueueArn: {Type: String}
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for mapping in template.resources_of("AWS::Lambda::EventSourceMapping"):
            props = mapping.properties
            kind = stream_source(template, props)
            if kind is None or has_value(get(props, "DestinationConfig", "OnFailure")):
                continue
            plan = Plan()
            queue = dead_letter_queue(
                template,
                self.settings,
                logical_name(mapping.logical_id, "DeadLetterQueue"),
                condition=mapping.condition,
                plan=plan,
            )
            plan.changes.append(
                SetKey(
                    mapping.prop_path("DestinationConfig", "OnFailure"),
                    "Destination",
                    GetAtt(queue, "Arn"),
                )
            )
            self._bound(mapping.prop_path(), props, plan)
            target = function_of_mapping(template, mapping)
            if target is not None:
                grant_function_send(template, target, queue, mapping.condition, plan)
            else:
                plan.notes.append(f"the function's execution role needs sqs:SendMessage on {queue}")
            yield self._finding(mapping.path, kind, props, queue, plan)
        for function in template.resources_of("AWS::Serverless::Function"):
            for event, event_type, props in sam_events(function):
                if event_type not in ("Kinesis", "DynamoDB"):
                    continue
                if has_value(get(props, "DestinationConfig", "OnFailure")):
                    continue
                plan = Plan()
                path = function.prop_path("Events", event, "Properties")
                queue = dead_letter_queue(
                    template,
                    self.settings,
                    logical_name(function.logical_id, event, "DeadLetterQueue"),
                    condition=function.condition,
                    plan=plan,
                )
                plan.changes.append(
                    SetKey(
                        (*path, "DestinationConfig"),
                        "OnFailure",
                        {"Type": "SQS", "Destination": GetAtt(queue, "Arn")},
                    )
                )
                self._bound(path, props, plan)
                grant_function_send(template, function.logical_id, queue, function.condition, plan)
                yield self._finding(
                    function.prop_path("Events", event), event_type, props, queue, plan
                )

    def _bound(self, path: Path, properties: dict[str, Any], plan: Plan) -> None:
        retries = as_int(properties.get("MaximumRetryAttempts"))
        if "MaximumRetryAttempts" not in properties or (retries is not None and retries < 0):
            plan.changes.append(
                SetKey(path, "MaximumRetryAttempts", self.options["maximum-retry-attempts"])
            )
        if "BisectBatchOnFunctionError" not in properties:
            plan.changes.append(SetKey(path, "BisectBatchOnFunctionError", True))

    def _finding(
        self, path: Path, kind: str, properties: dict[str, Any], queue: str, plan: Plan
    ) -> Finding:
        if _retry_state(properties) == "unbounded":
            consequence = (
                "with unbounded retries a record that keeps failing blocks its shard "
                "until it expires, and is then lost"
            )
        else:
            consequence = "batches that still fail after the retries are discarded silently"
        message = f"{kind} stream mapping has no OnFailure destination: {consequence}"
        if plan.notes:
            message += f"; {'; '.join(plan.notes)}"
        return self.finding(
            path,
            message,
            fix=Fix.unsafe(f"send failed batches to dead-letter queue {queue}", *plan.changes),
        )
