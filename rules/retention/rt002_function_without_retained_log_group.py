"""RT002: a Lambda function whose logs go to a log group that keeps them forever."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.changes import AppendItem, Change, SetKey
from cfnfix.compliant import logical_name, new_resource, unique_name
from cfnfix.intrinsics import GetAtt, Ref
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ._logs import (
    FUNCTION_TYPES,
    LAMBDA_PREFIX,
    default_log_group,
    logging_config,
    role_of,
    role_writes_any_log_group,
)
from ._values import free_name, plain_properties, readable, references, symbolic
from .rt001_log_group_retention import RETENTION_DAYS


def _next_resource(template: Template, logical_id: str) -> str | None:
    """The resource after ``logical_id`` in the file, so a new one lands next to it."""

    def following() -> dict[str, str | None]:
        ids = list(template.section("Resources"))
        return dict(zip(ids, [*ids[1:], None], strict=True))

    return template.memoize("retention.next-resource", following).get(logical_id)


_POLICY_NAME = "WriteRetainedLogGroups"


def _write_permission(role: Resource, group: str) -> Change | None:
    """Let ``role`` write to ``group``: one inline policy per role, shared by its functions.

    The first fix adds the policy; later ones (another function of the same role) append
    the group to its ``Resource`` list. ``None`` when the role's policies cannot be edited.
    """
    policies = role.properties.get("Policies", [])
    if not isinstance(policies, list):
        return None
    arn = GetAtt(group, "Arn")
    names: set[Any] = set()
    for index, policy in enumerate(policies):
        if not isinstance(policy, dict):
            continue
        name = policy.get("PolicyName")
        if isinstance(name, str):  # a `!Sub` name cannot clash with a literal one
            names.add(name)
        if policy.get("PolicyName") != _POLICY_NAME:
            continue
        document = policy.get("PolicyDocument")
        statements = document.get("Statement") if isinstance(document, dict) else None
        if (
            isinstance(statements, list)
            and len(statements) == 1
            and isinstance(statements[0], dict)
            and isinstance(statements[0].get("Resource"), list)
        ):
            path = role.prop_path("Policies", index, "PolicyDocument", "Statement", 0, "Resource")
            return AppendItem(path, arn)
    name = free_name(_POLICY_NAME, names)
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [arn],
    }
    return AppendItem(
        role.prop_path("Policies"),
        {
            "PolicyName": name,
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        },
    )


class FunctionWithoutRetainedLogGroup(Rule):
    id = "RT002"
    name = "function-without-retained-log-group"
    family = "retention"
    severity = Severity.WARNING
    resource_types = FUNCTION_TYPES
    summary = "Lambda function whose logs go to a log group the template does not manage"
    what = """
Reports every `AWS::Lambda::Function` and `AWS::Serverless::Function` whose logs go to the
default `/aws/lambda/<function name>` log group while the template declares no
`AWS::Logs::LogGroup` of that name (built with `!Sub`/`!Join` on the function's `Ref`, or
from the same `FunctionName`), and that has no `LoggingConfig.LogGroup`.

A function whose `LoggingConfig.LogGroup` names a log group outside the template is not
judged; a log group in the template without `RetentionInDays` is RT001's finding.
"""
    why = """
Lambda creates the default group on the first invocation, with no retention: every log
line is kept, and billed, forever. The group is also outside the stack, so it survives the
stack's deletion and nobody owns it.
"""
    fix_safety = """
The fix is **unsafe**. It adds a log group with `RetentionInDays` (option `retention-days`),
the required tags and `Retain` policies, and no `LogGroupName`, so CloudFormation
generates its name, and points the function's `LoggingConfig.LogGroup` at it. When the
function's role is in the template and nothing in it allows writing to every log group
(such as `AWSLambdaBasicExecutionRole`), the fix also adds an inline policy allowing
`logs:CreateLogStream` and `logs:PutLogEvents` on the new group.

Why not create `/aws/lambda/<name>` itself: a function that has run already has that group
(Lambda created it), so adding a group of that name to a deployed stack fails the update
with "already exists". A group with a generated name never clashes.

Why unsafe: it creates a resource, and the function's new log lines go to the new group.
Metric filters, subscriptions, alarms, Insights queries and dashboards that read the old
`/aws/lambda/<name>` group stop seeing them. The old group and its history stay as they
are (set its retention by hand or import it). A role outside the template must allow the
function to write to the new group.
"""
    fix_availability = "always"
    options_schema = {
        "retention-days": {
            "type": "integer",
            "enum": list(RETENTION_DAYS),
            "default": 365,
            "description": "the RetentionInDays of the log group the fix creates",
        }
    }
    examples = (
        Example(
            bad="""
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
""",
            good="""
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      LoggingConfig:
        LogGroup: !Ref FnLogGroup
  FnLogGroup:
    Type: AWS::Logs::LogGroup
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      RetentionInDays: 365
""",
        ),
        Example(
            bad="""
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code: {ZipFile: "def handler(event, context): pass"}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
""",
            # In a stack that was never deployed, the conventional name works too.
            good="""
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code: {ZipFile: "def handler(event, context): pass"}
  FnLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub /aws/lambda/${Fn}
      RetentionInDays: 30
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for function in readable(template, *FUNCTION_TYPES):
            config = logging_config(template, function)
            if config is None or "LogGroup" in config:
                continue  # not judged, or logs go where LoggingConfig says
            if default_log_group(template, function) is not None:
                continue  # the template manages /aws/lambda/<name>; RT001 checks it
            name = symbolic(template.effective_properties(function).get("FunctionName"))
            shown = LAMBDA_PREFIX + (name or "<generated function name>")
            yield self.finding(
                function.path,
                f"the function logs to {shown}, a log group the template does not "
                "declare: Lambda creates it without retention, so its logs are kept and "
                "billed forever",
                fix=self._fix(template, function),
            )

    def _fix(self, template: Template, function: Resource) -> Fix:
        days = self.options["retention-days"]
        base = logical_name(function.logical_id, "LogGroup")
        existing = template.resources.get(base)
        changes: list[Change] = []
        if (
            existing is not None
            and existing.type == "AWS::Logs::LogGroup"
            and plain_properties(existing)
            and "LogGroupName" not in existing.properties
            and existing.condition == function.condition
            and not any(references(template, base))
        ):
            group = base  # an unused group made for this function: wire it up
            description = f"send the function's logs to the existing log group {group}"
        else:
            group = unique_name(template, base)
            body = new_resource(
                "AWS::Logs::LogGroup",
                {"RetentionInDays": days},
                self.settings,
                condition=function.condition,
            )
            changes.append(
                SetKey(
                    ("Resources",),
                    group,
                    body,
                    before=_next_resource(template, function.logical_id),
                )
            )
            description = (
                f"send the function's logs to a new log group {group} with RetentionInDays {days}"
            )
        changes.append(SetKey(function.prop_path("LoggingConfig"), "LogGroup", Ref(group)))
        role = role_of(template, function)
        if role is not None and not role_writes_any_log_group(template, role):
            permission = _write_permission(role, group)
            if permission is not None:
                changes.append(permission)
                description += f", and let {role.logical_id} write to it"
        return Fix.unsafe(description, *changes)
