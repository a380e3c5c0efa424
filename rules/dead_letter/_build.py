"""Fix building blocks of the dead-letter family: dead-letter queues born compliant,
the permissions to send to them, and reuse of what an earlier fix already created.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cfnfix.changes import AppendItem, Change, SetKey, add_resource
from cfnfix.compliant import new_resource, taken_names, unique_name
from cfnfix.intrinsics import NO_VALUE, GetAtt, If, Ref
from cfnfix.records import Record
from cfnfix.settings import Settings
from cfnfix.template import Resource, Template

from ._refs import (
    QUEUE_TYPE,
    SQS_MAX_RETENTION,
    as_bool,
    function_ids,
    get,
    queue_fifo,
    referenced_ids,
    resources_referenced,
)

SEND = "sqs:SendMessage"
POLICY_VERSION = "2012-10-17"


class Plan(Record):
    """The changes of one fix, and what the finding should add to its message."""

    __match_args__ = ("changes", "notes")
    __slots__ = __match_args__

    def __init__(self, changes: list[Change] | None = None, notes: list[str] | None = None) -> None:
        self.changes = [] if changes is None else changes
        self.notes = [] if notes is None else notes


def _candidates(base: str) -> Iterable[str]:
    yield base
    n = 2
    while True:
        yield f"{base}{n}"
        n += 1


def dead_letter_queue(
    template: Template,
    settings: Settings,
    base: str,
    *,
    fifo: Any = None,
    condition: str | None = None,
    plan: Plan,
) -> str:
    """The logical id of the dead-letter queue named after ``base``, created if needed.

    An existing ``AWS::SQS::Queue`` called ``base`` (or ``base2``...) of the right kind is
    reused, so a second fix that wants the same queue does not create another one. A
    new queue is born compliant: SSE-SQS encryption, 14 days retention (the maximum, so
    it is never shorter than its source's), the required tags and Retain policies.
    """
    taken = taken_names(template)
    want_fifo = as_bool(fifo) if fifo is not None else False
    for name in _candidates(base):
        existing = template.resources.get(name)
        if existing is not None:
            if existing.type == QUEUE_TYPE and (
                existing.properties.get("FifoQueue") == fifo or queue_fifo(existing) == want_fifo
            ):
                return name
            continue
        if name in taken:
            continue
        properties: dict[str, Any] = {}
        if fifo is not None:
            properties["FifoQueue"] = fifo
        properties["MessageRetentionPeriod"] = SQS_MAX_RETENTION
        properties["SqsManagedSseEnabled"] = True
        body = new_resource(QUEUE_TYPE, properties, settings, condition=condition)
        plan.changes.append(add_resource(name, body))
        return name
    raise AssertionError("unreachable")  # pragma: no cover


def free_name(template: Template, base: str, plan: Plan) -> str:
    """``base`` or ``base2``... not used by the template, SAM or ``plan``'s new resources."""
    planned = {c.key for c in plan.changes if isinstance(c, SetKey) and c.path == ("Resources",)}
    return unique_name(template, base, planned)


# -- statements ---------------------------------------------------------------------------


def _statements(document: Any) -> list[dict[str, Any]]:
    statements = get(document, "Statement")
    if isinstance(statements, dict):
        return [statements]
    if isinstance(statements, list):
        return [s for s in statements if isinstance(s, dict)]
    return []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allows_send(statement: dict[str, Any], queue: str) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    actions = [a.lower() for a in _as_list(statement.get("Action")) if isinstance(a, str)]
    if not any(a in ("*", "sqs:*", "sqs:sendmessage", "sqs:send*") for a in actions):
        return False
    resources = _as_list(statement.get("Resource"))
    return "*" in resources or queue in referenced_ids(resources)


def role_grants_send(template: Template, role: Resource, queue: str) -> bool:
    """Whether the template already lets ``role`` send to ``queue``."""
    documents = []
    policies = role.properties.get("Policies")
    for item in policies if isinstance(policies, list) else []:
        documents.append(get(item, "PolicyDocument"))
    for other in template.resources_of("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        if role.logical_id in referenced_ids(other.properties.get("Roles")):
            documents.append(other.properties.get("PolicyDocument"))
    for managed in resources_referenced(
        template, role.properties.get("ManagedPolicyArns"), "AWS::IAM::ManagedPolicy"
    ):
        documents.append(managed.properties.get("PolicyDocument"))
    return any(_allows_send(s, queue) for d in documents for s in _statements(d))


# -- permissions ----------------------------------------------------------------------------


def grant_role_send(
    template: Template,
    role_value: Any,
    queue: str,
    condition: str | None,
    plan: Plan,
    who: str = "the execution role",
) -> None:
    """Let the IAM role(s) ``role_value`` names send to ``queue`` (an inline policy).

    A role defined outside the template cannot be changed: a note says it needs the
    permission. ``condition``: the condition the queue exists under.
    """
    roles = resources_referenced(template, role_value, "AWS::IAM::Role")
    if not roles:
        plan.notes.append(f"{who} is defined outside the template and needs {SEND} on {queue}")
        return
    for role in roles:
        if role_grants_send(template, role, queue):
            continue
        policies = role.properties.get("Policies")
        if policies is not None and not isinstance(policies, list):
            plan.notes.append(f"{who} {role.logical_id} needs {SEND} on {queue}")
            continue
        names = {n for p in policies or [] if isinstance(n := get(p, "PolicyName"), str)}
        policy_name = next(n for n in _candidates(f"{queue}Send") if n not in names)
        item: Any = {
            "PolicyName": policy_name,
            "PolicyDocument": {
                "Version": POLICY_VERSION,
                "Statement": [
                    {"Effect": "Allow", "Action": SEND, "Resource": GetAtt(queue, "Arn")}
                ],
            },
        }
        if condition and role.condition != condition:
            item = If(condition, item, NO_VALUE)
        plan.changes.append(AppendItem(role.prop_path("Policies"), item))


def grant_function_send(
    template: Template, function_id: str, queue: str, condition: str | None, plan: Plan
) -> None:
    """Let a function's execution role send to ``queue``.

    A SAM function without ``Role`` gets a role generated by SAM, which adds the
    permission itself for ``DeadLetterQueue`` and ``Type: SQS`` destinations.
    """
    function = template.resources[function_id]
    role_value = template.effective_properties(function).get("Role")
    if role_value is None:
        return  # SAM generates the role (and the permission); a bare function is invalid
    grant_role_send(template, role_value, queue, condition, plan)


def grant_service_send(
    template: Template,
    settings: Settings,
    queue: str,
    service: str,
    source_arn: Any,
    condition: str | None,
    plan: Plan,
) -> None:
    """Let an AWS service (``events.amazonaws.com``) send to ``queue`` from ``source_arn``.

    Reuses a queue policy of the template that already covers ``queue`` (adding a
    statement to it: a queue has one policy) or creates ``<queue>Policy``.
    """
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": SEND,
        "Resource": GetAtt(queue, "Arn"),
        "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
    }
    for policy in template.resources_of("AWS::SQS::QueuePolicy"):
        if queue not in referenced_ids(policy.properties.get("Queues")):
            continue
        document = policy.properties.get("PolicyDocument")
        for existing in _statements(document):
            if get(existing, "Principal", "Service") == service and source_arn == get(
                existing, "Condition", "ArnEquals", "aws:SourceArn"
            ):
                return
        if isinstance(get(document, "Statement"), list):
            plan.changes.append(
                AppendItem(policy.prop_path("PolicyDocument", "Statement"), statement)
            )
            return
    name = free_name(template, f"{queue}Policy", plan)
    body = new_resource(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [Ref(queue)],
            "PolicyDocument": {"Version": POLICY_VERSION, "Statement": [statement]},
        },
        settings,
        condition=condition,
    )
    plan.changes.append(add_resource(name, body))


def function_of_mapping(template: Template, mapping: Resource) -> str | None:
    ids = function_ids(template, mapping.properties.get("FunctionName"))
    return ids[0] if len(ids) == 1 else None
