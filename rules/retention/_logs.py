"""Where a Lambda function's logs go, and whether its role may write them elsewhere."""

from __future__ import annotations

from typing import Any

from cfnfix.intrinsics import ref_target
from cfnfix.template import Resource, Template

from ._values import plain_properties, referenced_resource, symbolic

FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")
LAMBDA_PREFIX = "/aws/lambda/"

# AWS managed policies that let a function write to any log group.
_BROAD_MANAGED_POLICIES = (
    "AWSLambdaBasicExecutionRole",
    "AWSLambdaVPCAccessExecutionRole",
    "AWSLambdaExecute",
    "AWSLambdaKinesisExecutionRole",
    "AWSLambdaDynamoDBExecutionRole",
    "AWSLambdaSQSQueueExecutionRole",
    "AWSLambdaMSKExecutionRole",
    "AWSLambdaBasicDurableExecutionRolePolicy",
    "CloudWatchLogsFullAccess",
    "AdministratorAccess",
    "PowerUserAccess",
)
_WRITE_ACTIONS = {"*", "logs:*", "logs:putlogevents", "logs:put*"}


def name_spellings(template: Template, function: Resource) -> set[str]:
    """The ways a template spells the function's name: ``${Fn}`` and its FunctionName."""
    spellings = {"${" + function.logical_id + "}"}
    name = symbolic(template.effective_properties(function).get("FunctionName"))
    if name is not None:
        spellings.add(name)
    return spellings


def log_group_named(template: Template, spelled: str) -> Resource | None:
    """The template's log group whose LogGroupName is spelled ``spelled``."""
    return template.memoize("retention.log-groups-by-name", lambda: _groups_by_name(template)).get(
        spelled
    )


def _groups_by_name(template: Template) -> dict[str, Resource]:
    index: dict[str, Resource] = {}
    for group in template.resources_of("AWS::Logs::LogGroup"):
        name = symbolic(group.properties.get("LogGroupName"))
        if name is not None:
            index.setdefault(name, group)
    return index


def logging_config(template: Template, function: Resource) -> dict[str, Any] | None:
    """The function's effective ``LoggingConfig`` ({} when absent, None when not a map)."""
    config = template.effective_properties(function).get("LoggingConfig", {})
    if not isinstance(config, dict) or set(config) & {"Fn::If", "Ref"}:
        return None
    return config


def default_log_group(template: Template, function: Resource) -> Resource | None:
    """The template's ``/aws/lambda/<function name>`` log group, if it has one."""
    for spelling in sorted(name_spellings(template, function)):
        group = log_group_named(template, LAMBDA_PREFIX + spelling)
        if group is not None:
            return group
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statement_allows_all_log_groups(statement: Any) -> bool:
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
        return False
    actions = {a.lower() for a in _as_list(statement.get("Action")) if isinstance(a, str)}
    if not actions & _WRITE_ACTIONS:
        return False
    for resource in _as_list(statement.get("Resource")):
        spelled = symbolic(resource)
        if spelled is not None and (spelled == "*" or spelled.endswith(":log-group:*")):
            return True
        if spelled is not None and spelled.endswith(":*") and ":log-group:" not in spelled:
            return True  # arn:...:logs:region:account:* and the like
    return False


def _document_allows_all_log_groups(document: Any) -> bool:
    if not isinstance(document, dict):
        return False
    return any(_statement_allows_all_log_groups(s) for s in _as_list(document.get("Statement")))


def role_of(template: Template, function: Resource) -> Resource | None:
    """The template's IAM role the function runs as, if it is in the template."""
    role = referenced_resource(template, function.properties.get("Role"))
    if role is None or role.type != "AWS::IAM::Role" or not plain_properties(role):
        return None
    return role


def role_writes_any_log_group(template: Template, role: Resource) -> bool:
    """Whether ``role`` may write to a log group with a generated name."""
    props = role.properties
    for arn in _as_list(props.get("ManagedPolicyArns", [])):
        spelled = symbolic(arn) or ""
        if any(spelled.endswith("/" + name) for name in _BROAD_MANAGED_POLICIES):
            return True
        managed = referenced_resource(template, arn)
        if managed is not None and _document_allows_all_log_groups(
            managed.properties.get("PolicyDocument")
        ):
            return True
    for policy in _as_list(props.get("Policies", [])):
        if isinstance(policy, dict) and _document_allows_all_log_groups(
            policy.get("PolicyDocument")
        ):
            return True
    for policy in template.resources_of("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        roles = _as_list(policy.properties.get("Roles", []))
        attached = any(ref_target(r) == role.logical_id for r in roles)
        if attached and _document_allows_all_log_groups(policy.properties.get("PolicyDocument")):
            return True
    return False
