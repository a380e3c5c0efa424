"""Buckets, their policies and the topics alarms publish to, as the storage rules read them.

Everything here reads plain template values; nothing here is a rule.
"""

from __future__ import annotations

from typing import Any

from cfnfix.intrinsics import is_intrinsic
from cfnfix.nodes import walk
from cfnfix.template import Resource, Template

from ..dead_letter._refs import as_bool, get, json_value, referenced_ids
from ..retention._values import symbolic

BUCKET_TYPE = "AWS::S3::Bucket"
BUCKET_POLICY_TYPE = "AWS::S3::BucketPolicy"
TOPIC_TYPE = "AWS::SNS::Topic"
ALARM_TYPES = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
ALARM_ACTIONS = ("AlarmActions", "OKActions", "InsufficientDataActions")
PUBLIC_ACLS = ("PublicRead", "PublicReadWrite", "AuthenticatedRead")
LOG_DELIVERY_ACL = "LogDeliveryWrite"


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(document: Any) -> list[dict[str, Any]] | None:
    """A policy document's statements; ``None`` when the document cannot be read (an
    intrinsic function, a ``Fn::If`` statement list)."""
    document = json_value(document)
    if not isinstance(document, dict) or is_intrinsic(document):
        return None
    value = document.get("Statement")
    if is_intrinsic(value):
        return None
    items = as_list(value)
    if any(not isinstance(s, dict) or is_intrinsic(s) for s in items):
        return None
    return items


def bucket_policies(template: Template) -> dict[str, list[Resource]]:
    """Bucket logical id -> the ``AWS::S3::BucketPolicy`` resources that apply to it: by
    ``Ref``, or by a ``Bucket`` spelled exactly as the bucket's ``BucketName``."""

    def compute() -> dict[str, list[Resource]]:
        names: dict[str, str] = {}
        for bucket in template.resources_of(BUCKET_TYPE):
            spelled = symbolic(bucket.properties.get("BucketName"))
            if spelled:
                names[spelled] = bucket.logical_id
        index: dict[str, list[Resource]] = {}
        for policy in template.resources_of(BUCKET_POLICY_TYPE):
            value = policy.properties.get("Bucket")
            targets = [
                n
                for n in referenced_ids(value)
                if template.resources.get(n) is not None
                and template.resources[n].type == BUCKET_TYPE
            ]
            spelled = symbolic(value)
            if not targets and spelled in names:
                targets = [names[spelled]]
            for target in targets[:1]:
                index.setdefault(target, []).append(policy)
        return index

    return template.memoize("security.bucket-policies", compute)


def grants_public_access(statement: dict[str, Any]) -> bool:
    """Whether a statement allows anyone (``Principal: "*"`` or ``AWS: "*"``)."""
    if statement.get("Effect") != "Allow":
        return False
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))


def public_intent(template: Template, bucket: Resource) -> str | None:
    """Why the bucket may be meant to be public (then blocking public access breaks it),
    or ``None``."""
    props = bucket.properties
    if "WebsiteConfiguration" in props:
        return "it hosts a website (WebsiteConfiguration)"
    acl = props.get("AccessControl")
    if acl in PUBLIC_ACLS:
        return f"its AccessControl is {acl}"
    if is_intrinsic(acl):
        return "its AccessControl is chosen at deploy time"
    for policy in bucket_policies(template).get(bucket.logical_id, []):
        found = statements(policy.properties.get("PolicyDocument"))
        if found is None:
            return f"its bucket policy {policy.logical_id} cannot be read"
        if any(grants_public_access(s) for s in found):
            return f"its bucket policy {policy.logical_id} grants access to Principal '*'"
    return None


def cloudfront_origins(template: Template) -> dict[str, bool]:
    """Bucket -> whether a CloudFront distribution of the template that serves it lets
    viewers use plain HTTP (a ``ViewerProtocolPolicy`` of ``allow-all`` or not a literal):
    CloudFront then fetches from the bucket over HTTP too."""

    def compute() -> dict[str, bool]:
        origins: dict[str, bool] = {}
        for distribution in template.resources_of("AWS::CloudFront::Distribution"):
            allows_http = False
            buckets: set[str] = set()
            for path, value in walk(distribution.properties):
                if path and path[-1] == "ViewerProtocolPolicy":
                    allows_http |= value not in ("https-only", "redirect-to-https")
                elif isinstance(value, dict) and is_intrinsic(value):
                    buckets.update(
                        n
                        for n in referenced_ids(value)
                        if n in template.resources and template.resources[n].type == BUCKET_TYPE
                    )
            for bucket in buckets:
                origins[bucket] = origins.get(bucket, False) or allows_http
        return origins

    return template.memoize("security.cloudfront-origins", compute)


def sse_s3_only(template: Template) -> frozenset[str]:
    """Buckets that must stay on SSE-S3: those that receive logs from AWS services (S3
    server access logs, CloudFront, load balancers deliver only to SSE-S3 buckets) and
    CloudFront origins (an origin access identity cannot decrypt SSE-KMS objects)."""

    def compute() -> frozenset[str]:
        found: set[str] = set(cloudfront_origins(template))
        for bucket in template.resources_of(BUCKET_TYPE):
            if bucket.properties.get("AccessControl") == LOG_DELIVERY_ACL:
                found.add(bucket.logical_id)
        for resource in template.resources.values():
            for path, value in walk(resource.properties):
                if not isinstance(value, dict) or not is_intrinsic(value):
                    continue
                if "log" not in " ".join(str(k) for k in path).lower():
                    continue
                for name in referenced_ids(value):
                    target = template.resources.get(name)
                    if target is not None and target.type == BUCKET_TYPE and target is not resource:
                        found.add(name)
            attributes = resource.properties.get("LoadBalancerAttributes")
            for item in attributes if isinstance(attributes, list) else []:
                if isinstance(get(item, "Key"), str) and "log" in item["Key"]:
                    found.update(referenced_ids(get(item, "Value")))
        return frozenset(found)

    return template.memoize("security.sse-s3-only", compute)


def denies_insecure_transport(statement: dict[str, Any]) -> bool:
    """A ``Deny`` under ``aws:SecureTransport`` false (any spelling of the key and value)."""
    if statement.get("Effect") != "Deny":
        return False
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return False
    for operator, tests in condition.items():
        if not isinstance(tests, dict) or not operator.lower().startswith("bool"):
            continue
        for key, value in tests.items():
            if key.lower() == "aws:securetransport" and any(
                as_bool(v) is False for v in as_list(value)
            ):
                return True
    return False


# -- topics and the alarms that publish to them --------------------------------------------


def topic_publishers(template: Template) -> dict[str, dict[str, list[str]]]:
    """Topic logical id -> AWS service principal -> the template resources through which
    that service publishes to it (alarms, bucket notifications, EventBridge rules, and
    services a topic policy allows)."""

    def compute() -> dict[str, dict[str, list[str]]]:
        topics = {t.logical_id for t in template.resources_of(TOPIC_TYPE)}
        index: dict[str, dict[str, list[str]]] = {}

        def add(value: Any, service: str, source: str) -> None:
            for name in referenced_ids(value):
                if name in topics:
                    sources = index.setdefault(name, {}).setdefault(service, [])
                    if source not in sources:
                        sources.append(source)

        for alarm in template.resources_of(*ALARM_TYPES):
            for key in ALARM_ACTIONS:
                add(alarm.properties.get(key), "cloudwatch.amazonaws.com", alarm.logical_id)
        for bucket in template.resources_of(BUCKET_TYPE):
            configs = get(bucket.properties, "NotificationConfiguration", "TopicConfigurations")
            for config in configs if isinstance(configs, list) else []:
                add(get(config, "Topic"), "s3.amazonaws.com", bucket.logical_id)
        for rule in template.resources_of("AWS::Events::Rule"):
            targets = rule.properties.get("Targets")
            for target in targets if isinstance(targets, list) else []:
                add(get(target, "Arn"), "events.amazonaws.com", rule.logical_id)
        for policy in template.resources_of("AWS::SNS::TopicPolicy"):
            for statement in statements(policy.properties.get("PolicyDocument")) or []:
                if statement.get("Effect") != "Allow":
                    continue
                for service in as_list(get(statement, "Principal", "Service")):
                    if isinstance(service, str) and service.endswith(".amazonaws.com"):
                        add(policy.properties.get("Topics"), service, policy.logical_id)
        return index

    return template.memoize("security.topic-publishers", compute)


def statement_ids(listed: list[Any]) -> set[str]:
    """The literal ``Sid`` values of a statement list (a ``Sid: !Sub ...`` is skipped)."""
    return {s["Sid"] for s in listed if isinstance(s, dict) and isinstance(s.get("Sid"), str)}
