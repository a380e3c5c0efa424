"""Reading literal values and names the way the retention rules need them.

CloudFormation accepts ``"true"`` for ``true`` and ``"7"`` for ``7``; a value that is an
intrinsic function is not judged (``None``) because its value is known only at deploy
time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.intrinsics import function_of, getatt_target, ref_target, sub_parts
from cfnfix.nodes import Path, walk
from cfnfix.template import Resource, Template


def plain_properties(resource: Resource) -> bool:
    """Whether the resource's ``Properties`` is a plain mapping that rules can read and extend.

    ``Properties: !If [Cond, {...}, !Ref AWS::NoValue]`` is not: its keys are only known per
    branch, and a key added next to ``Fn::If`` would break the template.
    """
    return not any(key == "Ref" or key.startswith("Fn::") for key in resource.properties)


def readable(template: Template, *types: str) -> Iterator[Resource]:
    """The resources of ``types`` whose properties are a plain mapping."""
    for resource in template.resources_of(*types):
        if plain_properties(resource):
            yield resource


def possible_strings(value: Any) -> set[str]:
    """The literal strings a value can be, through ``Fn::If`` branches (others ignored)."""
    if isinstance(value, str):
        return {value}
    fn = function_of(value)
    if fn is not None and fn[0] == "Fn::If" and isinstance(fn[1], list) and len(fn[1]) == 3:
        return possible_strings(fn[1][1]) | possible_strings(fn[1][2])
    return set()


def literal_bool(value: Any) -> bool | None:
    """``True``/``False`` for a boolean or its string spelling, else ``None``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def literal_int(value: Any) -> int | None:
    """The integer a literal means (``"7"`` counts), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def literal_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def free_name(base: str, taken: set[Any]) -> str:
    """``base``, or ``base2``, ``base3``... whichever is not in ``taken``."""
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    return name


def set_description(values: dict[str, Any]) -> str:
    """``set A and B to 7``, or ``set A to 1 and B to 2`` when the values differ."""
    distinct = set(values.values())
    if len(distinct) == 1:
        return f"set {' and '.join(values)} to {distinct.pop()}"
    return "set " + " and ".join(f"{k} to {v}" for k, v in values.items())


def symbolic(value: Any) -> str | None:
    """A string value with its references spelled as ``${Name}`` / ``${Res.Attr}``.

    Two values that build the same string from the same references get the same
    spelling: ``!Sub '/aws/lambda/${Fn}'``, ``!Join ['', ['/aws/lambda/', !Ref Fn]]`` and
    ``!Sub ['/aws/lambda/${N}', {N: !Ref Fn}]`` all read ``/aws/lambda/${Fn}``. ``None``
    when the value uses anything else (``Fn::If``, ``Fn::ImportValue``...).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    name = ref_target(value)
    if name is not None:
        return "${" + name + "}"
    target = getatt_target(value)
    if target is not None:
        return "${" + ".".join(target) + "}"
    parts = sub_parts(value)
    if parts is not None:
        text, variables = parts
        out = []
        pos = 0
        while True:
            start = text.find("${", pos)
            end = text.find("}", start + 2) if start != -1 else -1
            if start == -1 or end == -1:
                out.append(text[pos:])
                break
            out.append(text[pos:start])
            inner = text[start + 2 : end].strip()
            if inner.startswith("!"):
                out.append("${" + inner + "}")  # an escaped literal: ${!Name}
            elif inner in variables:
                spelled = symbolic(variables[inner])
                if spelled is None:
                    return None
                out.append(spelled)
            else:
                out.append("${" + inner + "}")
            pos = end + 1
        return "".join(out)
    fn = function_of(value)
    if fn is not None and fn[0] == "Fn::Join":
        arg = fn[1]
        if (
            isinstance(arg, list)
            and len(arg) == 2
            and isinstance(arg[0], str)
            and isinstance(arg[1], list)
        ):
            pieces = [symbolic(item) for item in arg[1]]
            if any(piece is None for piece in pieces):
                return None
            return arg[0].join(piece for piece in pieces if piece is not None)
    return None


def references(template: Template, logical_id: str) -> Iterator[Path]:
    """Paths of every ``Ref``, ``Fn::GetAtt`` or ``${...}`` naming ``logical_id``."""
    for path, value in walk(template.root):
        if not isinstance(value, dict):
            continue
        if ref_target(value) == logical_id:
            yield path
            continue
        target = getatt_target(value)
        if target is not None and target[0] == logical_id:
            yield path
            continue
        if any(t.name == logical_id for t in template.sub_targets(value)):
            yield path


def referenced_resource(template: Template, value: Any) -> Resource | None:
    """The template resource a ``Ref`` or ``Fn::GetAtt`` value points at."""
    name = ref_target(value)
    if name is None:
        target = getatt_target(value)
        name = target[0] if target else None
    return template.resources.get(name) if name is not None else None
