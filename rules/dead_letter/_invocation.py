"""How each Lambda function of a template is invoked: asynchronously, synchronously or
by an event source mapping (poll). Shared by the dead-letter rules; no rule lives here.

Lambda retries an asynchronous invocation twice and then discards the event unless a
dead-letter queue or an OnFailure destination catches it. Synchronous callers (API
Gateway, ALB, function URLs, Cognito) see the error themselves; event source mappings
have their own failure handling (the queue's redrive policy, the mapping's OnFailure).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, NamedTuple

from cfnfix.intrinsics import function_of
from cfnfix.template import Resource, Template

from ._refs import (
    FUNCTION_TYPES,
    function_ids,
    get,
    has_value,
    referenced_ids,
    resources_referenced,
    sam_events,
    sub_text,
)

URL_SUFFIX = {"Ref": "AWS::URLSuffix"}
# Service principals whose invocations are asynchronous (`Event` invocation type).
ASYNC_PRINCIPALS = frozenset({"s3", "sns", "events", "iot", "logs", "scheduler"})
SYNC_PRINCIPALS = frozenset(
    {"apigateway", "elasticloadbalancing", "cognito-idp", "lex", "alexa-appkit", "cloudfront"}
)
# SAM event types that make Lambda invoke the function asynchronously.
SAM_ASYNC_EVENTS = frozenset(
    {
        "S3",
        "SNS",
        "EventBridgeRule",
        "Schedule",
        "ScheduleV2",
        "CloudWatchEvent",
        "CloudWatchLogs",
        "IoTRule",
    }
)
SAM_SYNC_EVENTS = frozenset({"Api", "HttpApi", "Cognito", "AlexaSkill"})
SAM_POLL_EVENTS = frozenset(
    {"SQS", "Kinesis", "DynamoDB", "MQ", "MSK", "SelfManagedKafka", "DocumentDB"}
)
SYNC_REFERRERS = (
    "AWS::ApiGateway::Method",
    "AWS::ApiGateway::Authorizer",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGateway::RestApi",
    "AWS::Serverless::Api",
    "AWS::Serverless::HttpApi",
    "AWS::AppSync::DataSource",
    "AWS::Cognito::UserPool",
    "AWS::CloudFront::Distribution",
    "AWS::Lex::Bot",
    "AWS::StepFunctions::StateMachine",
    "AWS::Serverless::StateMachine",
    "AWS::S3ObjectLambda::AccessPoint",
    "AWS::KinesisFirehose::DeliveryStream",
    "AWS::CloudFormation::CustomResource",
    "AWS::IoT::Authorizer",  # a custom authorizer: IoT waits for the allow/deny answer
)


class Invoker(NamedTuple):
    """Something that invokes a function: what it is, and how."""

    mode: str  # "async" | "sync" | "poll"
    description: str  # "S3 bucket UploadBucket"


def principal_service(value: Any) -> str | None:
    """``s3`` for ``s3.amazonaws.com`` (also ``!Sub s3.${AWS::URLSuffix}`` and ``!Join``)."""
    text: Any = sub_text(value)
    fn = function_of(value)
    if fn is not None and fn[0] == "Fn::Join" and isinstance(fn[1], list) and len(fn[1]) == 2:
        separator, items = fn[1]
        if isinstance(separator, str) and isinstance(items, list):
            pieces = [
                i if isinstance(i, str) else "amazonaws.com" if i == URL_SUFFIX else "x"
                for i in items
            ]
            text = separator.join(pieces)
    if not isinstance(text, str):
        return None
    text = text.replace("${AWS::URLSuffix}", "amazonaws.com").lower()
    if ".amazonaws.com" not in text:
        return None
    service: str = text.split(".", 1)[0]
    return service


def _iot_authorizer_call(template: Template, permission: Resource) -> bool:
    """An `iot.amazonaws.com` permission that lets IoT call a custom authorizer (a
    synchronous call), not a topic rule action."""
    source = permission.properties.get("SourceArn")
    if resources_referenced(template, source, "AWS::IoT::Authorizer"):
        return True
    text = sub_text(source)
    if isinstance(text, str) and ":authorizer/" in text:
        return True
    if source is not None:
        return False  # a topic rule's ARN, or one the rule cannot read
    authorizers = set()
    for authorizer in template.resources_of("AWS::IoT::Authorizer"):
        authorizers.update(
            function_ids(template, authorizer.properties.get("AuthorizerFunctionArn"))
        )
    functions = function_ids(template, permission.properties.get("FunctionName"))
    return bool(functions) and set(functions) <= authorizers


def invokers(template: Template) -> dict[str, list[Invoker]]:
    """Function logical id -> everything in the template that invokes it.

    Computed once per template (the dead-letter, monitoring and cost rules all ask);
    callers must not modify it.
    """
    return template.memoize("dead-letter.invokers", lambda: _invokers(template))


def _invokers(template: Template) -> dict[str, list[Invoker]]:
    found: dict[str, list[Invoker]] = defaultdict(list)

    def add(value: Any, mode: str, description: str) -> None:
        for function in function_ids(template, value):
            invoker = Invoker(mode, description)
            if invoker not in found[function]:
                found[function].append(invoker)

    for resource in template.resources.values():
        props = resource.properties
        rid = resource.logical_id
        kind = resource.type
        if kind == "AWS::S3::Bucket":
            configs = get(props, "NotificationConfiguration", "LambdaConfigurations")
            for config in configs if isinstance(configs, list) else []:
                add(get(config, "Function"), "async", f"S3 bucket {rid}")
        elif kind == "AWS::SNS::Subscription":
            protocol = props.get("Protocol")
            if isinstance(protocol, str) and protocol.lower() == "lambda":
                add(props.get("Endpoint"), "async", f"SNS subscription {rid}")
        elif kind == "AWS::SNS::Topic":
            subscriptions = props.get("Subscription")
            for item in subscriptions if isinstance(subscriptions, list) else []:
                protocol = get(item, "Protocol")
                if isinstance(protocol, str) and protocol.lower() == "lambda":
                    add(get(item, "Endpoint"), "async", f"SNS topic {rid}")
        elif kind == "AWS::Events::Rule":
            targets = props.get("Targets")
            for target in targets if isinstance(targets, list) else []:
                add(get(target, "Arn"), "async", f"EventBridge rule {rid}")
        elif kind == "AWS::Scheduler::Schedule":
            add(get(props, "Target", "Arn"), "async", f"EventBridge Scheduler schedule {rid}")
        elif kind == "AWS::IoT::TopicRule":
            payload = props.get("TopicRulePayload")
            actions = get(payload, "Actions")
            for action in [*(actions if isinstance(actions, list) else [])]:
                add(get(action, "Lambda", "FunctionArn"), "async", f"IoT rule {rid}")
            add(get(payload, "ErrorAction", "Lambda", "FunctionArn"), "async", f"IoT rule {rid}")
        elif kind == "AWS::Logs::SubscriptionFilter":
            add(props.get("DestinationArn"), "async", f"log subscription filter {rid}")
        elif kind == "AWS::SES::ReceiptRule":
            actions = get(props, "Rule", "Actions")
            for action in actions if isinstance(actions, list) else []:
                lambda_action = get(action, "LambdaAction")
                mode = get(lambda_action, "InvocationType")
                if mode is None or mode == "Event":
                    add(get(lambda_action, "FunctionArn"), "async", f"SES receipt rule {rid}")
        elif kind == "AWS::Pipes::Pipe":
            parameters = get(props, "TargetParameters", "LambdaFunctionParameters")
            mode = "async" if get(parameters, "InvocationType") == "FIRE_AND_FORGET" else "sync"
            add(props.get("Target"), mode, f"EventBridge pipe {rid}")
            add(props.get("Enrichment"), "sync", f"EventBridge pipe {rid}")
        elif kind == "AWS::Lambda::Permission":
            service = principal_service(props.get("Principal"))
            if service == "iot" and _iot_authorizer_call(template, resource):
                add(props.get("FunctionName"), "sync", f"permission {rid} (iot authorizer)")
            elif service in ASYNC_PRINCIPALS:
                add(props.get("FunctionName"), "async", f"permission {rid} ({service})")
            elif service in SYNC_PRINCIPALS:
                add(props.get("FunctionName"), "sync", f"permission {rid} ({service})")
        elif kind == "AWS::Lambda::EventSourceMapping":
            add(props.get("FunctionName"), "poll", f"event source mapping {rid}")
        elif kind == "AWS::Lambda::Url":
            add(props.get("TargetFunctionArn"), "sync", f"function URL {rid}")
        elif kind == "AWS::ElasticLoadBalancingV2::TargetGroup":
            targets = props.get("Targets")
            for target in targets if isinstance(targets, list) else []:
                add(get(target, "Id"), "sync", f"load balancer target group {rid}")
        elif kind in SYNC_REFERRERS or kind.startswith("Custom::"):
            for name in referenced_ids(props):
                add({"Ref": name}, "sync", f"{kind} {rid}")
        if kind == "AWS::Serverless::Function":
            for event, event_type, event_props in sam_events(resource):
                if event_type == "SNS" and event_props.get("SqsSubscription"):
                    mode = "poll"
                elif event_type in SAM_ASYNC_EVENTS:
                    mode = "async"
                elif event_type in SAM_POLL_EVENTS:
                    mode = "poll"
                elif event_type in SAM_SYNC_EVENTS:
                    mode = "sync"
                else:
                    continue
                found[rid].append(Invoker(mode, f"{event_type} event {event}"))
            if resource.properties.get("FunctionUrlConfig") is not None:
                found[rid].append(Invoker("sync", "function URL"))
    return dict(found)


def classify(template: Template) -> dict[str, str]:
    """Function logical id -> ``async`` | ``sync`` | ``poll`` | ``none`` (no visible caller).

    A function with any asynchronous caller is ``async``; else ``sync`` if something calls
    it and sees the result (API Gateway, ALB, function URLs, Cognito, Step Functions, custom
    resources...); else ``poll`` if only event source mappings invoke it.
    """
    table = invokers(template)
    result: dict[str, str] = {}
    for function in template.resources_of(*FUNCTION_TYPES):
        modes = {i.mode for i in table.get(function.logical_id, [])}
        for mode in ("async", "sync", "poll"):
            if mode in modes:
                result[function.logical_id] = mode
                break
        else:
            result[function.logical_id] = "none"
    return result


def invoke_configs(template: Template, function: str) -> list[Resource]:
    """The ``AWS::Lambda::EventInvokeConfig`` resources of ``function``."""
    return [
        config
        for config in template.resources_of("AWS::Lambda::EventInvokeConfig")
        if function in function_ids(template, config.properties.get("FunctionName"))
    ]


def failure_capture(template: Template, function: str) -> str | None:
    """How failed asynchronous events of ``function`` are kept, or ``None``.

    A dead-letter queue (``DeadLetterConfig`` / SAM ``DeadLetterQueue``, Globals
    included) or an OnFailure destination (an ``AWS::Lambda::EventInvokeConfig`` of the
    function, or SAM ``EventInvokeConfig``). Values behind ``Fn::If`` count as present.
    """
    resource = template.resources[function]
    props = template.effective_properties(resource)
    dead_letter = props.get("DeadLetterConfig")
    if has_value(get(dead_letter, "TargetArn")):
        return "DeadLetterConfig"
    if has_value(dead_letter) and function_of(dead_letter) is not None:
        return "DeadLetterConfig"  # an intrinsic (Fn::If): cannot tell, so trust it
    if resource.is_sam and has_value(props.get("DeadLetterQueue")):
        return "DeadLetterQueue"
    if resource.is_sam and has_value(
        get(props, "EventInvokeConfig", "DestinationConfig", "OnFailure")
    ):
        return "EventInvokeConfig OnFailure destination"
    for config in invoke_configs(template, function):
        if has_value(get(config.properties, "DestinationConfig", "OnFailure")):
            return f"EventInvokeConfig {config.logical_id}"
    return None
