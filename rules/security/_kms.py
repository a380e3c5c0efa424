"""KMS keys as the storage and encryption rules see them: which key of the template a fix
may use, whether a key's policy lets an AWS service use it, the AWS-managed aliases, and
keys born compliant for topics that AWS services publish to.

Everything here reads plain template values; nothing here is a rule.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from typing import Any

from cfnfix.changes import Change, SetKey, add_resource
from cfnfix.compliant import logical_name, new_resource, unique_name
from cfnfix.intrinsics import Ref, Sub, function_of
from cfnfix.nodes import walk
from cfnfix.rule import Fix
from cfnfix.settings import Settings
from cfnfix.template import Resource, Template

from ..dead_letter._refs import as_bool, json_value, referenced_ids
from ..retention._values import plain_properties, symbolic
from ._storage import as_list

KEY_TYPE = "AWS::KMS::Key"
ALIAS_TYPE = "AWS::KMS::Alias"
POLICY_VERSION = "2012-10-17"

# AWS services that publish to SNS topics, with whether their KMS requests carry
# aws:SourceAccount (EventBridge's do not: a condition on it would drop every event).
PUBLISHER_SERVICES = {
    "cloudwatch.amazonaws.com": ("CloudWatch", True),
    "s3.amazonaws.com": ("S3", True),
    "events.amazonaws.com": ("EventBridge", False),
}
# What a service needs on the key of an encrypted topic or queue it sends to.
PUBLISH_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


def symmetric_keys(template: Template) -> list[Resource]:
    """The template's customer-managed keys that can encrypt data at rest: symmetric,
    ``ENCRYPT_DECRYPT``, not disabled, with readable properties."""

    def compute() -> list[Resource]:
        keys = []
        for key in template.resources_of(KEY_TYPE):
            if not plain_properties(key):
                continue
            props = key.properties
            if props.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
                continue
            if props.get("KeyUsage", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
                continue
            if as_bool(props.get("Enabled", True)) is False:
                continue
            keys.append(key)
        return keys

    return template.memoize("security.symmetric-keys", compute)


def key_id_of(template: Template, value: Any) -> str | None:
    """The template key a value names (``!Ref Key``, ``!GetAtt Key.Arn``, an alias of it)."""
    for name in referenced_ids(value):
        resource = template.resources.get(name)
        if resource is None:
            continue
        if resource.type == KEY_TYPE:
            return name
        if resource.type == ALIAS_TYPE:
            for target in referenced_ids(resource.properties.get("TargetKeyId")):
                if target in template.resources and template.resources[target].type == KEY_TYPE:
                    return target
    return None


# Types that are the same kind of consumer of a key.
_SAME_KIND = {
    "AWS::Serverless::Function": "AWS::Lambda::Function",
    "AWS::Serverless::SimpleTable": "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable": "AWS::DynamoDB::Table",
}


def _kind(type_name: str) -> str:
    return _SAME_KIND.get(type_name, type_name)


def keys_in_use(template: Template) -> dict[str, frozenset[str]]:
    """Key logical id -> the kinds of resource (types) that already encrypt with it (a
    property whose name says KMS points at it)."""

    def compute() -> dict[str, frozenset[str]]:
        used: dict[str, set[str]] = {}
        for resource in template.resources.values():
            if resource.type in (KEY_TYPE, ALIAS_TYPE):
                continue
            for path, value in walk(resource.properties):
                if path and isinstance(path[-1], str) and "kms" in path[-1].lower():
                    key = key_id_of(template, value)
                    if key is not None:
                        used.setdefault(key, set()).add(_kind(resource.type))
        return {key: frozenset(kinds) for key, kinds in used.items()}

    return template.memoize("security.keys-in-use", compute)


def pick_key(
    template: Template, resource: Resource, fits: Callable[[Resource], bool] | None = None
) -> Resource | None:
    """The one key of the template a fix may encrypt ``resource`` with, or ``None``.

    Sound only when there is no choice to make: the one symmetric key that resources of
    the same kind (buckets for a bucket, tables for a table...) already use, else the
    template's only symmetric key when nothing uses it yet (a key used only for something
    else, an alarm topic say, was chosen for that). A key under another condition than
    ``resource``, or one that ``fits`` rejects, is no candidate.
    """
    candidates = [
        k
        for k in symmetric_keys(template)
        if k.condition in (None, resource.condition) and (fits is None or fits(k))
    ]
    if not candidates:
        return None
    uses = keys_in_use(template)
    same = [k for k in candidates if _kind(resource.type) in uses.get(k.logical_id, ())]
    if len(same) == 1:
        return same[0]
    if not same and len(candidates) == 1 and not uses.get(candidates[0].logical_id):
        return candidates[0]
    return None


def possible_spellings(template: Template, value: Any) -> set[str]:
    """The strings a key value can be: ``Fn::If`` branches, a parameter's default, and
    ``Fn::Sub``/``Fn::Join`` spelled with their references (see ``symbolic``)."""
    fn = function_of(value)
    if fn is not None and fn[0] == "Fn::If" and isinstance(fn[1], list) and len(fn[1]) == 3:
        return possible_spellings(template, fn[1][1]) | possible_spellings(template, fn[1][2])
    if fn is not None and fn[0] == "Ref" and isinstance(fn[1], str):
        parameter = template.parameters.get(fn[1])
        if isinstance(parameter, dict) and isinstance(parameter.get("Default"), str):
            return {parameter["Default"]}
        return set()
    spelled = symbolic(value)
    return {spelled} if spelled is not None else set()


def aws_managed(template: Template, value: Any, service: str) -> bool:
    """Whether ``value`` may be the AWS-managed key of ``service`` (``alias/aws/sns``),
    spelled as an alias name, an alias ARN or a ``Fn::Sub``/``Fn::Join`` of one."""
    alias = f"alias/aws/{service}"
    return any(s == alias or s.endswith(f":{alias}") for s in possible_spellings(template, value))


# -- key policies -------------------------------------------------------------------------


def _statements(document: Any) -> list[dict[str, Any]]:
    document = json_value(document)
    statements = document.get("Statement") if isinstance(document, dict) else None
    return [s for s in as_list(statements) if isinstance(s, dict)]


def _service_matches(value: Any, service: str) -> bool:
    spelled = symbolic(value)
    if spelled is None:
        return False
    prefix = service.split(".", 1)[0]
    # logs.${AWS::Region}.amazonaws.com and the like name the same service.
    return spelled == service or (
        spelled.startswith(f"{prefix}.") and spelled.endswith(".amazonaws.com")
    )


def key_allows_service(key: Resource, service: str, actions: Iterable[str]) -> bool:
    """Whether ``key``'s policy lets ``service`` perform every one of ``actions``."""
    wanted = [a.lower() for a in actions]
    granted: list[str] = []
    for statement in _statements(key.properties.get("KeyPolicy")):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        services = principal.get("Service") if isinstance(principal, dict) else None
        everyone = principal == "*" or (
            isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))
        )
        if not everyone and not any(_service_matches(s, service) for s in as_list(services)):
            continue
        granted += [a.lower() for a in as_list(statement.get("Action")) if isinstance(a, str)]
    return all(
        any(fnmatch.fnmatchcase(w, g) or fnmatch.fnmatchcase(g, w) for g in granted) for w in wanted
    )


def service_statement(service: str) -> dict[str, Any]:
    """A key policy statement letting ``service`` use the key for what it publishes."""
    default = (logical_name(service.split(".", 1)[0]), False)
    label, source_account = PUBLISHER_SERVICES.get(service, default)
    statement: dict[str, Any] = {
        "Sid": f"{label}Publish",
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": list(PUBLISH_ACTIONS),
        "Resource": "*",
    }
    if source_account:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": Ref("AWS::AccountId")}}
    return statement


def key_for_services(
    template: Template,
    settings: Settings,
    resource: Resource,
    services: list[str],
    changes: list[Change],
) -> tuple[str, bool]:
    """A customer-managed key that ``services`` may use, for ``resource``'s encryption:
    the template's sound key when its policy already lets them, else a new key
    ``<Resource>Key`` born compliant (rotation on, the required tags, Retain policies, a
    policy for the account and for each service). Returns its id and whether it is new.
    """
    existing = pick_key(
        template,
        resource,
        lambda key: all(key_allows_service(key, s, PUBLISH_ACTIONS) for s in services),
    )
    if existing is not None:
        return existing.logical_id, False
    name = unique_name(template, logical_name(resource.logical_id, "Key"))
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    statements += [service_statement(s) for s in services]
    body = new_resource(
        KEY_TYPE,
        {
            "Description": f"Encrypts {resource.logical_id}",
            "EnableKeyRotation": True,
            "KeyPolicy": {"Version": POLICY_VERSION, "Statement": statements},
        },
        settings,
        condition=resource.condition,
    )
    changes.append(add_resource(name, body))
    return name, True


def encrypt_topic(
    template: Template,
    settings: Settings,
    topic: Resource,
    services: list[str],
    value: Callable[[str], Any],
) -> Fix:
    """Set the topic's ``KmsMasterKeyId`` to ``value(key)``, where ``key`` is a
    customer-managed key that ``services`` may use (see ``key_for_services``)."""
    changes: list[Change] = []
    key, created = key_for_services(template, settings, topic, services, changes)
    changes.append(SetKey(topic.prop_path(), "KmsMasterKeyId", value(key)))
    verb = "a new" if created else "the template's"
    return Fix.unsafe(
        f"encrypt with {verb} customer-managed key {key} that {', '.join(services)} may use",
        *changes,
    )


# Documentation examples: a key whose policy lets the account and one service use it.
def example_key(name: str, service: Any, actions: list[str]) -> str:
    lines = "\n".join(f"              - {a}" for a in actions)
    return f"""  {name}:
    Type: AWS::KMS::Key
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      EnableKeyRotation: true
      KeyPolicy:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal:
              AWS: !Sub 'arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:root'
            Action: kms:*
            Resource: '*'
          - Effect: Allow
            Principal:
              Service: {service}
            Action:
{lines}
            Resource: '*'
"""


EXAMPLE_ALARM = """  QueueDepth:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/SQS
      MetricName: ApproximateNumberOfMessagesVisible
      Statistic: Maximum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions:
        - !Ref AlarmTopic
"""
