"""Bucket notifications and the Lambda permissions S3 checks when it saves them.
Shared by the deployment rules; no rule lives here."""

from __future__ import annotations

from typing import Any

from cfnfix.changes import AppendItem, Change, ReplaceValue, set_attribute
from cfnfix.template import Resource, Template

from ..dead_letter._invocation import principal_service
from ..dead_letter._refs import function_ids
from ..security._iam import render
from ..security._loops import BUCKET_TYPE, S3Trigger, bucket_arn_matches

PERMISSION_TYPE = "AWS::Lambda::Permission"


def s3_permissions(template: Template, trigger: S3Trigger) -> list[Resource]:
    """The `AWS::Lambda::Permission` resources that let this trigger's bucket invoke its
    function: principal `s3.amazonaws.com`, and no SourceArn or one that may name it."""
    bucket = template.resources[trigger.bucket]
    found = []
    for permission in template.resources_of(PERMISSION_TYPE):
        props = permission.properties
        if principal_service(props.get("Principal")) != "s3":
            continue
        if trigger.function not in function_ids(template, props.get("FunctionName")):
            continue
        source = props.get("SourceArn")
        if source is not None and not _may_name(template, bucket, source):
            continue
        found.append(permission)
    return found


def _may_name(template: Template, bucket: Resource, source: Any) -> bool:
    """Whether a SourceArn may name the bucket: it does, or it cannot be read, or it
    uses values the template cannot resolve and names no other bucket of the template."""
    if bucket_arn_matches(template, bucket, source) is not False:
        return True
    text = render(template, source)
    if text is None or "${" not in text:
        return False
    return not any(
        bucket_arn_matches(template, other, source)
        for other in template.resources_of(BUCKET_TYPE)
        if other.logical_id != bucket.logical_id
    )


def add_depends_on(resource: Resource, names: list[str]) -> list[Change]:
    """Changes that add `names` to a resource's DependsOn, in the shape it has."""
    current: Any = resource.node.get("DependsOn")
    if current is None:
        value = names[0] if len(names) == 1 else names
        return [set_attribute(resource.logical_id, "DependsOn", value)]
    if isinstance(current, str):
        return [ReplaceValue((*resource.path, "DependsOn"), [current, *names])]
    return [AppendItem((*resource.path, "DependsOn"), name) for name in names]


def conditions_allow(bucket: Resource, other: Resource) -> bool:
    """Whether the bucket may depend on `other`: a DependsOn on a resource whose
    condition is false fails, so `other` must exist whenever the bucket does."""
    return other.condition is None or other.condition == bucket.condition
