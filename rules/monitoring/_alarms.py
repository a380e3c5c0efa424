"""Reading CloudWatch alarms: which metrics they watch (metric math included), which
template resource a dimension names, and who consumes an alarm. Indexed once per
template; no rule lives here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any, NamedTuple

from cfnfix_rules.dead_letter._invocation import invokers
from cfnfix_rules.dead_letter._refs import FUNCTION_TYPES, get, has_value, referenced_ids
from cfnfix_rules.retention._values import symbolic

from cfnfix.intrinsics import function_of
from cfnfix.nodes import Path
from cfnfix.template import Resource, Template

ALARM_TYPE = "AWS::CloudWatch::Alarm"
COMPOSITE_TYPE = "AWS::CloudWatch::CompositeAlarm"
ALARM_TYPES = (ALARM_TYPE, COMPOSITE_TYPE)
DASHBOARD_TYPE = "AWS::CloudWatch::Dashboard"
QUEUE_TYPE = "AWS::SQS::Queue"
TOPIC_TYPE = "AWS::SNS::Topic"
# A metric key whose namespace or name is an expression: it may be any metric.
ANY = "*"


class Metric(NamedTuple):
    """One metric an alarm watches (its own, or one ``MetricStat`` of its ``Metrics``)."""

    alarm: Resource
    namespace: str  # ANY when not a literal
    name: str  # ANY when not a literal
    dimensions: tuple[tuple[str, Any, Path], ...]  # (Name, Value, path of the Value)
    readable: bool  # False when Dimensions is an expression (any dimension may be there)

    def values(self, dimension: str) -> list[Any]:
        return [value for name, value, _ in self.dimensions if name == dimension]


def _literal(value: Any) -> str:
    return value if isinstance(value, str) else ANY


def _metric(alarm: Resource, spec: Any, base: Path) -> Metric | None:
    if not isinstance(spec, dict) or function_of(spec) is not None:
        return None
    if "MetricName" not in spec and "Namespace" not in spec:
        return None
    dimensions = spec.get("Dimensions")
    found: list[tuple[str, Any, Path]] = []
    readable = dimensions is None or isinstance(dimensions, list)
    for index, item in enumerate(dimensions if isinstance(dimensions, list) else []):
        if not isinstance(item, dict) or function_of(item) is not None:
            readable = False
            continue
        name = item.get("Name")
        if isinstance(name, str):
            found.append((name, item.get("Value"), (*base, "Dimensions", index, "Value")))
        else:
            readable = False
    return Metric(
        alarm,
        _literal(spec.get("Namespace")),
        _literal(spec.get("MetricName")),
        tuple(found),
        readable,
    )


def alarm_metrics(alarm: Resource) -> list[Metric]:
    """The metrics an ``AWS::CloudWatch::Alarm`` watches: its own, or its metric math's."""
    result = []
    own = _metric(alarm, alarm.properties, alarm.prop_path())
    if own is not None:
        result.append(own)
    queries = alarm.properties.get("Metrics")
    for index, query in enumerate(queries if isinstance(queries, list) else []):
        spec = get(query, "MetricStat", "Metric")
        metric = _metric(alarm, spec, alarm.prop_path("Metrics", index, "MetricStat", "Metric"))
        if metric is not None:
            result.append(metric)
    if isinstance(queries, dict) and function_of(queries) is not None:
        result.append(Metric(alarm, ANY, ANY, (), False))  # metric math behind an expression
    return result


def metrics_by_key(template: Template) -> dict[tuple[str, str], list[Metric]]:
    """(namespace, metric name) -> every alarm metric of the template (computed once)."""

    def compute() -> dict[tuple[str, str], list[Metric]]:
        index: dict[tuple[str, str], list[Metric]] = defaultdict(list)
        for alarm in template.resources_of(ALARM_TYPE):
            for metric in alarm_metrics(alarm):
                index[(metric.namespace, metric.name)].append(metric)
        return dict(index)

    return template.memoize("monitoring.metrics-by-key", compute)


def metrics_named(template: Template, namespace: str, name: str) -> Iterator[Metric]:
    """The alarm metrics that may be ``namespace``/``name`` (expressions included)."""
    index = metrics_by_key(template)
    for key in ((namespace, name), (namespace, ANY), (ANY, name), (ANY, ANY)):
        yield from index.get(key, ())


def names_resource(template: Template, value: Any, resource: Resource, name_key: str) -> bool:
    """Whether a dimension value names ``resource``: it refers to it (``!Ref``,
    ``!GetAtt``, ``${Res}``), or it spells the resource's name property the same way."""
    if resource.logical_id in referenced_ids(value):
        return True
    spelled = symbolic(value)
    name = symbolic(template.effective_properties(resource).get(name_key))
    return spelled is not None and spelled == name


def watched(
    template: Template,
    resource: Resource,
    namespace: str,
    metrics: tuple[str, ...],
    dimension: str,
    name_key: str,
) -> bool:
    """Whether some alarm watches one of ``metrics`` of ``resource``.

    A metric without the dimension (an account-wide alarm) covers every resource, and one
    whose dimensions are an expression may be the resource's: both count.
    """
    for metric_name in metrics:
        for metric in metrics_named(template, namespace, metric_name):
            values = metric.values(dimension)
            if not values:
                if not metric.dimensions or not metric.readable:
                    return True  # account-wide, or dimensions we cannot read
                continue  # the dimensions of something else
            if any(names_resource(template, v, resource, name_key) for v in values):
                return True
            if any(function_of(v) is not None and not referenced_ids(v) for v in values):
                return True  # an expression we cannot follow (Fn::ImportValue...)
    return False


def async_callers(template: Template, function: Resource) -> list[str]:
    return [
        i.description for i in invokers(template).get(function.logical_id, []) if i.mode == "async"
    ]


def functions(template: Template) -> list[Resource]:
    return list(template.resources_of(*FUNCTION_TYPES))


def consumers(template: Template) -> dict[str, set[str]]:
    """Alarm logical id -> the resources (dashboards excluded) and outputs that refer to
    it: composite alarms, deployment groups, SAM deployment preferences, health checks..."""

    def compute() -> dict[str, set[str]]:
        alarms = {a.logical_id for a in template.resources_of(*ALARM_TYPES)}
        names: dict[str, str] = {}
        for alarm in template.resources_of(*ALARM_TYPES):
            spelled = symbolic(alarm.properties.get("AlarmName"))
            if spelled:
                names[alarm.logical_id] = spelled
        found: dict[str, set[str]] = defaultdict(set)
        owners: list[tuple[str, Any]] = [
            (r.logical_id, r.properties)
            for r in template.resources.values()
            if r.type != DASHBOARD_TYPE
        ]
        owners += [(f"Outputs.{k}", v) for k, v in template.outputs.items()]
        for owner, value in owners:
            for name in referenced_ids(value):
                if name in alarms and name != owner:
                    found[name].add(owner)
        for composite in template.resources_of(COMPOSITE_TYPE):
            rule = symbolic(composite.properties.get("AlarmRule")) or ""
            for alarm, spelled in names.items():
                if alarm != composite.logical_id and spelled in rule:
                    found[alarm].add(composite.logical_id)
        return dict(found)

    return template.memoize("monitoring.alarm-consumers", compute)


def has_actions(alarm: Resource) -> bool:
    return has_value(alarm.properties.get("AlarmActions"))
