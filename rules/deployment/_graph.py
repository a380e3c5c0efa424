"""The template's dependency graph as CloudFormation builds it (DependsOn, `Ref`,
`Fn::GetAtt`, `Fn::Sub` references), with the edges SAM adds for S3 events; and the
rewriting of a reference to a bucket into a value built from the bucket's name. Shared
by the deployment rules; no rule lives here.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any, NamedTuple

from cfnfix.changes import ReplaceValue
from cfnfix.intrinsics import PSEUDO_PARAMETERS, function_of, sub_parts, sub_variables
from cfnfix.nodes import Path, to_plain
from cfnfix.template import Template

from ..dead_letter._refs import references
from ..security._loops import s3_triggers

_VAR = re.compile(r"\$\{([^!}][^}]*)\}")


class Edge(NamedTuple):
    """`source` depends on `target` because of what is at `path`."""

    source: str
    target: str
    path: Path
    why: str  # "DependsOn", "!GetAtt F.Arn", "${Bucket.Arn}", "SAM S3 event Upload"

    def describe(self) -> str:
        if self.why == "DependsOn":
            return f"{self.source} -> {self.target} (DependsOn)"
        keys = self.path[3:] if self.path[2:3] == ("Properties",) else self.path[2:3]
        where = ".".join(str(k) for k in keys)
        return f"{self.source} -> {self.target} ({where}: {self.why})"


def dependency_graph(template: Template) -> dict[str, list[Edge]]:
    """Logical id -> the edges to what it depends on (computed once per template)."""
    return template.memoize("deployment.graph", lambda: _graph(template))


def _graph(template: Template) -> dict[str, list[Edge]]:
    graph: dict[str, list[Edge]] = {rid: [] for rid in template.resources}
    resources = template.resources
    for rid, resource in resources.items():
        seen: set[str] = set()
        depends = resource.node.get("DependsOn")
        for index, name in enumerate(depends if isinstance(depends, list) else [depends]):
            if isinstance(name, str) and name in resources and name not in seen:
                seen.add(name)
                path: Path = ("Resources", rid, "DependsOn")
                if isinstance(depends, list):
                    path = (*path, index)
                graph[rid].append(Edge(rid, name, path, "DependsOn"))
        props = resource.properties
        if resource.type == "AWS::Serverless::Function":
            props = {k: v for k, v in props.items() if k != "Events"}
        for ref_path, name, spelling in references(props, resource.prop_path()):
            if name in resources and name not in PSEUDO_PARAMETERS and name not in seen:
                seen.add(name)
                graph[rid].append(Edge(rid, name, ref_path, spelling))
    for trigger in s3_triggers(template):
        if trigger.source != "sam":
            continue
        edges = graph[trigger.bucket]
        if not any(e.target == trigger.function for e in edges):
            event = str(trigger.path[-1])
            why = f"SAM adds {trigger.function}'s S3 event {event} to the bucket's notifications"
            edges.append(Edge(trigger.bucket, trigger.function, trigger.path, why))
    return graph


def depends_on(template: Template, source: str, target: str) -> bool:
    """Whether `source` (transitively) depends on `target`."""
    graph = dependency_graph(template)
    seen = {source}
    queue = deque([source])
    while queue:
        for edge in graph.get(queue.popleft(), []):
            if edge.target == target:
                return True
            if edge.target not in seen:
                seen.add(edge.target)
                queue.append(edge.target)
    return False


def shortest_cycle(template: Template, start: str) -> list[Edge] | None:
    """The shortest chain of edges from `start` back to itself, or `None`."""
    graph = dependency_graph(template)
    parent: dict[str, Edge] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        node = queue.popleft()
        for edge in graph.get(node, []):
            if edge.target == start:
                chain = [edge]
                while chain[0].source != start:
                    chain.insert(0, parent[chain[0].source])
                return chain
            if edge.target not in seen:
                seen.add(edge.target)
                parent[edge.target] = edge
                queue.append(edge.target)
    return None


# -- rewriting references to a bucket ------------------------------------------------------


class BucketName(NamedTuple):
    """A bucket's name as the template knows it: the value of `!Ref Bucket`, and the
    same name as a piece of `Fn::Sub` text."""

    value: Any
    sub_text: str
    names: frozenset[str]  # parameters the Sub text uses (must not be shadowed)

    @property
    def arn(self) -> str:
        """The bucket's ARN as `Fn::Sub` text."""
        return "arn:${AWS::Partition}:s3:::" + self.sub_text


def known_name(template: Template, bucket_id: str) -> BucketName | None:
    """The bucket's name when the template states it without resources: a literal, a
    parameter (`!Ref BucketName`), or a `!Sub` string of parameters and pseudo
    parameters. `None` otherwise (a generated name, a mapping, an import...)."""
    value = template.resources[bucket_id].properties.get("BucketName")
    if isinstance(value, str) and value and "${" not in value:
        return BucketName(value, value, frozenset())
    fn = function_of(value)
    if fn is None:
        return None
    key, arg = fn
    if key == "Ref" and isinstance(arg, str) and arg in template.parameters:
        return BucketName(value, "${" + arg + "}", frozenset({arg}))
    if key == "Fn::Sub" and isinstance(arg, str):
        names = sub_variables(arg)
        if all(n in PSEUDO_PARAMETERS or n in template.parameters for n in names):
            return BucketName(value, arg, frozenset(names))
    return None


def rewrite_references(
    template: Template, source: str, bucket_id: str, name: BucketName
) -> list[ReplaceValue] | None:
    """Changes replacing every reference `source` makes to the bucket with its name
    (`!Ref` -> the name, `Arn` -> `arn:${AWS::Partition}:s3:::<name>`); the value is the
    same, the dependency is gone. `None` if one of them cannot be rewritten (another
    attribute, a DependsOn)."""
    resource = template.resources[source]
    if bucket_id in resource.depends_on:
        return None
    changes: list[ReplaceValue] = []
    for key, value in resource.properties.items():
        if key == "Events" and resource.type == "AWS::Serverless::Function":
            continue  # SAM needs `Bucket: !Ref X` in an S3 event
        if not _rewrite(value, resource.prop_path(key), bucket_id, name, changes):
            return None
    return changes


def _rewrite(
    value: Any, path: Path, bucket: str, name: BucketName, changes: list[ReplaceValue]
) -> bool:
    """Collect one replacement per outermost intrinsic that refers to the bucket (the
    writer edits whole intrinsics, never inside one)."""
    if function_of(value) is not None:
        new, ok = _transform(to_plain(value), bucket, name)
        if not ok:
            return False
        if new != to_plain(value):
            changes.append(ReplaceValue(path, new))
        return True
    if isinstance(value, dict):
        return all(_rewrite(v, (*path, k), bucket, name, changes) for k, v in value.items())
    if isinstance(value, list):
        return all(_rewrite(v, (*path, i), bucket, name, changes) for i, v in enumerate(value))
    return True


def _transform(value: Any, bucket: str, name: BucketName) -> tuple[Any, bool]:
    """``value`` with every reference to the bucket built from its name instead."""
    fn = function_of(value)
    if fn is not None:
        key, arg = fn
        if key == "Ref":
            return (name.value, True) if arg == bucket else (value, True)
        if key == "Fn::GetAtt":
            target = arg.split(".", 1) if isinstance(arg, str) else arg
            if isinstance(target, list) and target and target[0] == bucket:
                if len(target) != 2 or target[1] != "Arn":
                    return value, False
                return {"Fn::Sub": name.arn}, True
            return value, True
        if key == "Fn::Sub":
            parts = sub_parts(value)
            if parts is None:
                return value, False
            text, variables = parts
            if name.names & set(variables) and _mentions(text, bucket):
                return value, False
            new_text, ok = _rewrite_sub_text(text, bucket, name, set(variables))
            new_variables = {}
            for var, item in variables.items():
                new_variables[var], item_ok = _transform(item, bucket, name)
                ok = ok and item_ok
            return {"Fn::Sub": [new_text, new_variables] if isinstance(arg, list) else new_text}, ok
        new_arg, ok = _transform(arg, bucket, name)
        return {key: new_arg}, ok
    if isinstance(value, dict):
        result = {}
        for k, v in value.items():
            result[k], ok = _transform(v, bucket, name)
            if not ok:
                return value, False
        return result, True
    if isinstance(value, list):
        items = []
        for v in value:
            new, ok = _transform(v, bucket, name)
            if not ok:
                return value, False
            items.append(new)
        return items, True
    return value, True


def _mentions(text: str, bucket: str) -> bool:
    return any(n.split(".", 1)[0] == bucket for n in sub_variables(text))


def _rewrite_sub_text(
    text: str, bucket: str, name: BucketName, shadowing: set[str]
) -> tuple[str, bool]:
    ok = True

    def replace(match: re.Match[str]) -> str:
        nonlocal ok
        variable = match.group(1).strip()
        if variable in shadowing:
            return match.group(0)
        if variable == bucket:
            return name.sub_text
        if variable == f"{bucket}.Arn":
            return name.arn
        if variable.split(".", 1)[0] == bucket:
            ok = False
        return match.group(0)

    return _VAR.sub(replace, text), ok
