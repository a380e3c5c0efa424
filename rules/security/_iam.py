"""IAM helpers of the security family: the Allow statements a template grants, to whom,
and what their actions and resources cover. No rule lives here.

Statements are read from inline `Policies` of `AWS::IAM::Role`, from `AWS::IAM::Policy`
and `AWS::IAM::ManagedPolicy` (with the roles they attach to), and from the `Policies` of
SAM functions and state machines (inline documents, and the S3 policy templates that
grant writes). Everything is computed once per template (`Template.memoize`).

Action classes (the only table the rules use; documented in the rules):

- **read**: the action's name starts with a verb that only reads (`Get`, `List`,
  `Describe`, `Head`, `Query`, `Scan`, `BatchGet`, `BatchCheck`, `Search`, `Lookup`,
  `Select`, `Detect`, `Analyze`, `Filter`, `Receive`, `Retrieve`, `Verify`, `Validate`,
  `Test`, `Simulate`, `Estimate`, `Check`, `Preview`), plus `bedrock:InvokeModel*` (read
  access level) and `bedrock:Converse*`. A wildcard counts as read when its literal
  start already names a read verb (`s3:Get*`); `s3:*Object` may be `s3:PutObject`, so
  it is not read.
- **global**: actions that accept no resource but `*` (X-Ray segment and telemetry
  writes, `cloudwatch:PutMetricData`, the EC2 network-interface calls a function in a
  VPC makes, `kms:CreateKey`, `kms:GenerateRandom`, `translate:TranslateText`,
  Textract's `Start*`/`Analyze*`/`Detect*`), and the three logging calls every function
  needs (`logs:CreateLogGroup`, `logs:CreateLogStream`, `logs:PutLogEvents`; AWS's own
  `AWSLambdaBasicExecutionRole` grants them on every log group of the account). `*` is
  the only resource they can be given, or a harmless one.
- **write**: everything else (it changes, deletes, invokes, sends, passes or uses a
  resource: `s3:PutObject`, `sqs:SendMessage`, `iam:PassRole`, `kms:Decrypt`...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, NamedTuple

from cfnfix.intrinsics import function_of, sub_parts
from cfnfix.nodes import Path
from cfnfix.template import Resource, Template

from ..dead_letter._refs import get, json_value, referenced_ids

ROLE_TYPE = "AWS::IAM::Role"
POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
SAM_POLICY_OWNERS = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")
# Every type whose policy documents statements() reads: the rules about statements
# start from these.
STATEMENT_TYPES = (ROLE_TYPE, *POLICY_TYPES, *SAM_POLICY_OWNERS)

READ_VERBS = (
    "get",
    "list",
    "describe",
    "head",
    "query",
    "scan",
    "batchget",
    "batchcheck",
    "search",
    "lookup",
    "select",
    "detect",
    "analyze",
    "filter",
    "receive",
    "retrieve",
    "verify",
    "validate",
    "test",
    "simulate",
    "estimate",
    "check",
    "preview",
)
READ_ACTIONS = ("bedrock:invokemodel*", "bedrock:converse*", "bedrock-runtime:*")
GLOBAL_ACTIONS = (
    "xray:puttracesegments",
    "xray:puttelemetryrecords",
    "cloudwatch:putmetricdata",
    "ec2:createnetworkinterface",
    "ec2:deletenetworkinterface",
    "ec2:assignprivateipaddresses",
    "ec2:unassignprivateipaddresses",
    "kms:createkey",
    "kms:generaterandom",
    "translate:translatetext",
    "textract:start*",
    "textract:analyze*",
    "textract:detect*",
    "logs:createlogdelivery",
    "logs:updatelogdelivery",
    "logs:deletelogdelivery",
    "logs:putresourcepolicy",
    "states:sendtask*",
    "transcribe:start*",
    "s3-object-lambda:writegetobjectresponse",
    "aoss:*accesspolicy",
    "aoss:*securitypolicy",
    "aoss:*securityconfig",
    "aoss:*lifecyclepolicy",
    "logs:createloggroup",
    "logs:createlogstream",
    "logs:putlogevents",
)
# Condition keys that do not narrow which resources a statement reaches.
NON_SCOPING_CONDITION_KEYS = frozenset(
    {
        "aws:securetransport",
        "aws:currenttime",
        "aws:epochtime",
        "aws:multifactorauthpresent",
        "aws:multifactorauthage",
        "aws:useragent",
        "aws:tokenissuetime",
        "aws:viaawsservice",
    }
)
# SAM policy templates that let the function write objects into `BucketName`.
S3_WRITE_TEMPLATES = {
    "S3CrudPolicy": ("s3:PutObject", "s3:PutObjectAcl", "s3:DeleteObject"),
    "S3WritePolicy": ("s3:PutObject", "s3:PutObjectAcl"),
    "S3FullAccessPolicy": ("s3:PutObject", "s3:PutObjectAcl", "s3:DeleteObject"),
}
# AWS managed policies that make a role an administrator (or able to become one).
ADMIN_POLICIES = frozenset({"AdministratorAccess", "PowerUserAccess", "IAMFullAccess"})
_WILDCARD = re.compile(r"[*?]")


class Statement(NamedTuple):
    """One `Effect: Allow` statement, and the principals (roles) it applies to."""

    owner: str  # logical id of the resource that holds the policy
    path: Path  # the statement's path (for a SAM policy template: the template's item)
    actions: tuple[str, ...]  # literal action patterns (intrinsic items left out)
    not_action: bool
    resources: tuple[Any, ...]  # raw values of Resource (or NotResource)
    not_resource: bool
    condition: Any
    roles: tuple[str, ...]  # IAM roles in the template (or SAM functions) it applies to
    policy_template: str | None = None  # the SAM policy template it expands from

    @property
    def scoped_by_condition(self) -> bool:
        """Whether a Condition narrows what the statement reaches (judgement: any key
        but the transport, time, MFA and user-agent ones)."""
        if not isinstance(self.condition, dict) or not self.condition:
            return False
        for operator, tests in self.condition.items():
            if not isinstance(tests, dict):
                return True  # an intrinsic: assume it narrows
            del operator
            for key in tests:
                if not isinstance(key, str) or key.lower() not in NON_SCOPING_CONDITION_KEYS:
                    return True
        return False

    def action_path(self) -> Path:
        if self.policy_template is not None:
            return self.path
        return (*self.path, "NotAction" if self.not_action else "Action")

    def resource_path(self) -> Path:
        if self.policy_template is not None:
            return self.path
        return (*self.path, "NotResource" if self.not_resource else "Resource")


# -- actions -------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
        re.IGNORECASE | re.DOTALL,
    )


@lru_cache(maxsize=4096)
def action_matches(pattern: str, action: str) -> bool:
    """Whether the action pattern (`s3:Put*`, `*`) covers the action `s3:PutObject`."""
    return _glob(pattern).fullmatch(action) is not None


def allows_action(statement: Statement, action: str) -> bool:
    hit = any(action_matches(p, action) for p in statement.actions)
    return not hit if statement.not_action else hit


def is_full_wildcard(action: str) -> bool:
    return action.strip() in ("*", "*:*")


def service_wildcard(action: str) -> str | None:
    """`s3` for `s3:*`: every action of one service."""
    service, _, name = action.strip().partition(":")
    if name == "*" and service and not _WILDCARD.search(service):
        return service.lower()
    return None


@lru_cache(maxsize=4096)
def action_class(action: str) -> str:
    """`read`, `global` or `write` (see the module documentation)."""
    lowered = action.strip().lower()
    service, _, name = lowered.partition(":")
    if not name:
        return "write"
    if any(action_matches(p, lowered) for p in GLOBAL_ACTIONS):
        return "global"
    if any(action_matches(p, lowered) for p in READ_ACTIONS):
        return "read"
    literal = _WILDCARD.split(name, 1)[0]
    if any(literal.startswith(verb) for verb in READ_VERBS):
        # a literal that only starts a verb (`s3:G*`) could still be anything
        return "read" if _WILDCARD.search(name) is None or len(literal) >= 3 else "write"
    del service
    return "write"


# -- values as symbolic text -----------------------------------------------------------


def render(template: Template, value: Any, depth: int = 0) -> str | None:
    """A value as text in which references stay symbolic: `${Bucket}` for `!Ref Bucket`,
    `arn:aws:s3:::${Bucket}` for a bucket's `Arn`, `${Param}` for a parameter; the
    partition is always `aws`. `None` when the value cannot be read (`!If`, imports...).
    """
    if depth > 8:
        return None
    if isinstance(value, str):
        return _normalise_partition(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    fn = function_of(value)
    if fn is None:
        return None
    key, arg = fn
    if key == "Ref" and isinstance(arg, str):
        return _symbol(template, arg)
    if key == "Fn::GetAtt":
        target = template.resolve_getatt(value)
        if target is None:
            return None
        return _attribute(target[0], target[1])
    if key == "Fn::Sub":
        parts = sub_parts(value)
        if parts is None:
            return None
        text, variables = parts
        rendered_vars: dict[str, str | None] = {
            name: render(template, item, depth + 1) for name, item in variables.items()
        }

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in rendered_vars:
                found = rendered_vars[name]
                return found if found is not None else "${?" + name + "}"
            if "." in name:
                resource, attribute = name.split(".", 1)
                if resource in template.resources:
                    return _attribute(template.resources[resource], attribute)
            return _symbol(template, name)

        return _normalise_partition(re.sub(r"\$\{([^}]*)\}", replace, text))
    if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
        separator, items = arg
        if not isinstance(separator, str) or not isinstance(items, list):
            return None
        pieces = [render(template, item, depth + 1) for item in items]
        if any(p is None for p in pieces):
            return None
        return _normalise_partition(separator.join(p for p in pieces if p is not None))
    return None


def _normalise_partition(text: str) -> str:
    return re.sub(r"^arn:aws(-[a-z-]+)?:", "arn:aws:", text)


def _symbol(template: Template, name: str) -> str:
    if name == "AWS::Partition":
        return "aws"
    if name == "AWS::URLSuffix":
        return "amazonaws.com"
    return "${" + name + "}"


def _attribute(resource: Resource, attribute: str) -> str:
    if resource.type == "AWS::S3::Bucket" and attribute == "Arn":
        return "arn:aws:s3:::${" + resource.logical_id + "}"
    return "${" + resource.logical_id + "." + attribute + "}"


def globs_intersect(a: str, b: str) -> bool:
    """Whether two patterns (`*` any text, `?` treated as `*`) match a common string."""
    a, b = a.replace("?", "*"), b.replace("?", "*")
    a, b = re.sub(r"\*+", "*", a), re.sub(r"\*+", "*", b)
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == "*":
            stack.append((i + 1, j))
            if j < len(b):
                stack.append((i, j + 1))
        elif j < len(b) and b[j] == "*":
            stack.append((i, j + 1))
            if i < len(a):
                stack.append((i + 1, j))
        elif i < len(a) and j < len(b) and a[i] == b[j]:
            stack.append((i + 1, j + 1))
    return False


# -- statements ------------------------------------------------------------------------


def _items(value: Any) -> list[tuple[int | None, Any]]:
    if isinstance(value, list):
        return list(enumerate(value))
    return [(None, value)]


def _with(path: Path, index: int | None) -> Path:
    return path if index is None else (*path, index)


def _document_statements(
    owner: str, document: Any, path: Path, roles: tuple[str, ...]
) -> Iterator[Statement]:
    document = json_value(document)
    if not isinstance(document, dict):
        return
    base = (*path, "Statement")
    for index, item in _items(document.get("Statement")):
        if not isinstance(item, dict) or item.get("Effect") != "Allow":
            continue
        not_action = "NotAction" in item and "Action" not in item
        actions = item.get("NotAction" if not_action else "Action")
        not_resource = "NotResource" in item and "Resource" not in item
        resources = item.get("NotResource" if not_resource else "Resource")
        yield Statement(
            owner=owner,
            path=_with(base, index),
            actions=tuple(a for _, a in _items(actions) if isinstance(a, str) and a.strip()),
            not_action=not_action,
            resources=tuple(r for _, r in _items(resources) if r is not None),
            not_resource=not_resource,
            condition=item.get("Condition"),
            roles=roles,
        )


def role_ids(template: Template, value: Any) -> tuple[str, ...]:
    """The IAM roles of the template that a value names (`!Ref R`, `!GetAtt R.Arn`...)."""
    return tuple(
        name
        for name in referenced_ids(value)
        if name in template.resources and template.resources[name].type == ROLE_TYPE
    )


def statements(template: Template) -> list[Statement]:
    """Every Allow statement of the template's identity policies (computed once)."""
    return template.memoize("security.iam.statements", lambda: list(_statements(template)))


def _statements(template: Template) -> Iterator[Statement]:
    managed_users: dict[str, list[str]] = {}
    for role in template.resources_of(ROLE_TYPE):
        arns = role.properties.get("ManagedPolicyArns")
        for name in referenced_ids(arns if isinstance(arns, list) else []):
            managed_users.setdefault(name, []).append(role.logical_id)
    for resource in template.resources.values():
        props = resource.properties
        rid = resource.logical_id
        if resource.type == ROLE_TYPE:
            policies = props.get("Policies")
            for index, policy in enumerate(policies if isinstance(policies, list) else []):
                yield from _document_statements(
                    rid,
                    get(policy, "PolicyDocument"),
                    resource.prop_path("Policies", index, "PolicyDocument"),
                    (rid,),
                )
        elif resource.type in POLICY_TYPES:
            roles = role_ids(template, props.get("Roles"))
            roles += tuple(managed_users.get(rid, []))
            yield from _document_statements(
                rid, props.get("PolicyDocument"), resource.prop_path("PolicyDocument"), roles
            )
        elif resource.type in SAM_POLICY_OWNERS:
            yield from _sam_statements(template, resource)


def _sam_statements(template: Template, resource: Resource) -> Iterator[Statement]:
    rid = resource.logical_id
    policies = resource.properties.get("Policies")
    # An explicit Role replaces the role SAM would generate (and its Policies).
    roles = (rid,) if resource.properties.get("Role") is None else ()
    if isinstance(policies, dict) and "Statement" in policies:
        yield from _document_statements(rid, policies, resource.prop_path("Policies"), roles)
        return
    for index, item in _items(policies):
        path = _with(resource.prop_path("Policies"), index)
        if not isinstance(item, dict) or function_of(item) is not None:
            continue
        if "Statement" in item:
            yield from _document_statements(rid, item, path, roles)
        elif len(item) == 1:
            ((name, parameters),) = item.items()
            if name in S3_WRITE_TEMPLATES:
                bucket = get(parameters, "BucketName")
                arn = {
                    "Fn::Sub": [
                        "arn:${AWS::Partition}:s3:::${bucketName}/*",
                        {"bucketName": bucket},
                    ]
                }
                yield Statement(
                    owner=rid,
                    path=(*path, name),
                    actions=S3_WRITE_TEMPLATES[name],
                    not_action=False,
                    resources=(arn,),
                    not_resource=False,
                    condition=None,
                    roles=roles,
                    policy_template=name,
                )


def managed_policy_names(template: Template, resource: Resource) -> Iterator[tuple[Path, str]]:
    """`(path, name)` of each AWS managed policy a role or SAM function attaches."""
    if resource.type == ROLE_TYPE:
        arns = resource.properties.get("ManagedPolicyArns")
        for index, item in _items(arns):
            name = _aws_policy_name(render(template, item), arn_only=True)
            if name and index is not None:
                yield resource.prop_path("ManagedPolicyArns", index), name
    elif resource.type in SAM_POLICY_OWNERS and resource.properties.get("Role") is None:
        policies = resource.properties.get("Policies")
        if isinstance(policies, dict):
            return
        for index, item in _items(policies):
            if isinstance(item, dict) and function_of(item) is None:
                continue
            name = _aws_policy_name(render(template, item), arn_only=False)
            if name:
                yield _with(resource.prop_path("Policies"), index), name


def _aws_policy_name(text: str | None, arn_only: bool) -> str | None:
    if not text:
        return None
    match = re.fullmatch(r"arn:aws:iam::aws:policy/(?:.*/)?([\w+=,.@-]+)", text)
    if match:
        return match.group(1)
    if not arn_only and re.fullmatch(r"[\w+=,.@-]+", text):
        return text
    return None


def trusted_services(role: Resource) -> list[str]:
    """The service principals a role's trust policy lets assume it (`lambda`...)."""
    found: list[str] = []
    document = json_value(role.properties.get("AssumeRolePolicyDocument"))
    if not isinstance(document, dict):
        return found
    for _, item in _items(document.get("Statement")):
        if not isinstance(item, dict) or item.get("Effect") != "Allow":
            continue
        for _, service in _items(get(item, "Principal", "Service")):
            text = service if isinstance(service, str) else None
            if text is None:
                parts = sub_parts(service)
                text = parts[0] if parts else None
            if text:
                found.append(text.split(".", 1)[0].lower())
    return found


def function_roles(template: Template, function: Resource) -> tuple[str, ...]:
    """Who holds a function's permissions: its roles in the template, or the SAM function
    itself when SAM generates the role. Empty when the role is defined elsewhere."""
    props = template.effective_properties(function)
    role = props.get("Role")
    if role is None:
        return (function.logical_id,) if function.is_sam else ()
    return role_ids(template, role)


def role_statements(template: Template) -> dict[str, list[Statement]]:
    """Role (or SAM function) logical id -> the Allow statements that apply to it."""

    def compute() -> dict[str, list[Statement]]:
        table: dict[str, list[Statement]] = {}
        for statement in statements(template):
            for role in statement.roles:
                table.setdefault(role, []).append(statement)
        return table

    return template.memoize("security.iam.role_statements", compute)


def all_resources(template: Template, value: Any) -> bool:
    """Whether a Resource value means every resource: `*`, or an ARN whose every part
    after the service is a wildcard (`arn:aws:s3:::*`, `arn:aws:sqs:*:*:*`)."""
    text = render(template, value)
    if text is None:
        return False
    text = text.strip()
    if text == "*":
        return True
    parts = text.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return False
    region, account, rest = parts[3], parts[4], parts[5]
    if region not in ("", "*", "${AWS::Region}") or account not in ("", "*", "${AWS::AccountId}"):
        return False
    return re.fullmatch(r"([A-Za-z-]+[:/])?[*/:]*\*", rest) is not None


def on_every_resource(template: Template, statement: Statement) -> bool:
    """Whether a statement's Resource includes every resource (see `all_resources`)."""
    return not statement.not_resource and any(
        all_resources(template, r) for r in statement.resources
    )
