"""Fix building blocks of the monitoring family: the template's alarm topic, and alarms
born compliant (required tags, an action, missing data not breaching)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, NamedTuple

from cfnfix_rules.dead_letter._refs import get
from cfnfix_rules.security._kms import aws_managed

from cfnfix.changes import SetKey, add_resource
from cfnfix.compliant import new_resource, unique_name
from cfnfix.intrinsics import function_of, ref_target, sub_parts, sub_variables
from cfnfix.settings import Settings
from cfnfix.template import Resource, Template

from ._alarms import ALARM_TYPE, ALARM_TYPES, TOPIC_TYPE

PERIOD = 300


class Action(NamedTuple):
    """An alarm action the template's alarms already use: the value and its condition."""

    value: Any
    condition: str | None
    label: str  # "topic AlarmTopic", "parameter AlarmTopicArn"


def _topic_usable(template: Template, topic: Resource) -> bool:
    """CloudWatch cannot publish to a topic encrypted with the AWS managed key."""
    return not aws_managed(template, topic.properties.get("KmsMasterKeyId"), "sns")


def _as_action(template: Template, value: Any) -> Action | None:
    name = ref_target(value)
    if name is not None:
        target = template.resolve(name)
        if target.kind == "resource":
            resource = template.resources[name]
            if resource.type == TOPIC_TYPE and _topic_usable(template, resource):
                return Action(value, resource.condition, f"topic {name}")
            return None
        if target.kind == "parameter":
            kind = get(target.node, "Type")
            if kind == "String" or (isinstance(kind, str) and "SNS" in kind.upper()):
                return Action(value, None, f"parameter {name}")
        return None
    fn = function_of(value)
    text = value if isinstance(value, str) else None
    if fn is not None and fn[0] == "Fn::Sub":
        parts = sub_parts(value)
        text = parts[0] if parts and not parts[1] else None
        if text is not None and any(
            v.split(".")[0] in template.resources for v in sub_variables(text)
        ):
            return None  # built from a resource: only plain references are reused
    elif fn is not None and fn[0] == "Fn::ImportValue":
        return Action(value, None, "an imported topic")
    if text is not None and ":sns:" in text:
        return Action(value, None, f"topic {text.rsplit(':', 1)[-1]}")
    return None


def alarm_action(template: Template) -> Action | None:
    """The SNS topic the template's alarms notify most (first seen wins a tie).

    Only a topic already in some alarm's ``AlarmActions`` is an alarm topic: a topic of the
    template that no alarm uses may be for anything. Topics CloudWatch cannot publish to
    (AWS managed key) are skipped.
    """

    def compute() -> Action | None:
        counts: Counter[str] = Counter()
        first: dict[str, Action] = {}
        for alarm in template.resources_of(*ALARM_TYPES):
            actions = alarm.properties.get("AlarmActions")
            for item in actions if isinstance(actions, list) else []:
                action = _as_action(template, item)
                if action is None:
                    continue
                key = json.dumps(item, sort_keys=True, default=str)
                counts[key] += 1
                first.setdefault(key, action)
        if not counts:
            return None
        best = max(counts.values())
        return next(first[k] for k in first if counts[k] == best)

    return template.memoize("monitoring.alarm-action", compute)


def action_for(template: Template, condition: str | None) -> Action | None:
    """The alarm action usable by a resource that exists under ``condition``."""
    action = alarm_action(template)
    if action is None or action.condition not in (None, condition):
        return None
    return action


def new_alarm(
    template: Template,
    settings: Settings,
    base: str,
    properties: dict[str, Any],
    action: Action,
    condition: str | None,
) -> tuple[str, SetKey]:
    """A born-compliant ``AWS::CloudWatch::Alarm`` named ``base`` (or ``base2``...).

    One datapoint of five minutes at or above the threshold alarms; missing data (no
    traffic) is not breaching; the alarm notifies ``action``; the required tags are set.
    """
    name = unique_name(template, base)
    body = new_resource(
        ALARM_TYPE,
        {
            **properties,
            "Period": PERIOD,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [action.value],
        },
        settings,
        condition=condition,
    )
    return name, add_resource(name, body)
