"""CloudFormation intrinsic functions: names, short-form tags and constructors."""

from __future__ import annotations

import re
from typing import Any

# Short-form tag -> long-form key. Condition functions used in `Rules` are included.
SHORT_TAGS: dict[str, str] = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    **{
        f"!{name}": f"Fn::{name}"
        for name in [
            "Base64",
            "Cidr",
            "FindInMap",
            "GetAtt",
            "GetAZs",
            "ImportValue",
            "Join",
            "Select",
            "Split",
            "Sub",
            "Transform",
            "If",
            "Equals",
            "And",
            "Or",
            "Not",
            "Length",
            "ToJsonString",
            "ForEach",
            "Contains",
            "EachMemberEquals",
            "EachMemberIn",
            "RefAll",
            "ValueOf",
            "ValueOfAll",
            "GetStackOutput",
        ]
    },
}
LONG_TO_SHORT: dict[str, str] = {v: k for k, v in SHORT_TAGS.items()}
FUNCTION_KEYS = frozenset(SHORT_TAGS.values())

PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)

_SUB_VAR = re.compile(r"\$\{([^!}][^}]*)\}")


def function_of(value: Any) -> tuple[str, Any] | None:
    """``("Fn::Sub", arg)`` when ``value`` is a single-key intrinsic mapping."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key in FUNCTION_KEYS:
            return key, arg
    return None


def is_intrinsic(value: Any) -> bool:
    return function_of(value) is not None


def ref_target(value: Any) -> str | None:
    """The name a ``Ref`` points at, or ``None``."""
    fn = function_of(value)
    if fn and fn[0] == "Ref" and isinstance(fn[1], str):
        return fn[1]
    return None


def getatt_target(value: Any) -> tuple[str, str] | None:
    """``(logical_id, attribute)`` of a ``Fn::GetAtt``, in either form."""
    fn = function_of(value)
    if not fn or fn[0] != "Fn::GetAtt":
        return None
    arg = fn[1]
    if isinstance(arg, str) and "." in arg:
        resource, attribute = arg.split(".", 1)
        return resource, attribute
    if isinstance(arg, list) and len(arg) == 2 and all(isinstance(a, str) for a in arg):
        return arg[0], arg[1]
    return None


def sub_parts(value: Any) -> tuple[str, dict[str, Any]] | None:
    """The template string and variable map of a ``Fn::Sub``."""
    fn = function_of(value)
    if not fn or fn[0] != "Fn::Sub":
        return None
    arg = fn[1]
    if isinstance(arg, str):
        return arg, {}
    if isinstance(arg, list) and arg and isinstance(arg[0], str):
        variables = arg[1] if len(arg) > 1 and isinstance(arg[1], dict) else {}
        return arg[0], dict(variables)
    return None


def sub_variables(template: str) -> list[str]:
    """Names referenced by ``${...}`` in a ``Fn::Sub`` string (``${!Literal}`` excluded)."""
    return [m.group(1).strip() for m in _SUB_VAR.finditer(template)]


def escape_sub(text: str) -> str:
    """Escape a literal so ``Fn::Sub`` reproduces it unchanged."""
    return text.replace("${", "${!")


# Constructors used by rules to describe new values.


def Ref(name: str) -> dict[str, Any]:
    return {"Ref": name}


def Sub(template: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"Fn::Sub": [template, variables] if variables else template}


def GetAtt(resource: str, attribute: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [resource, attribute]}


def If(condition: str, then: Any, otherwise: Any) -> dict[str, Any]:
    return {"Fn::If": [condition, then, otherwise]}


def Equals(a: Any, b: Any) -> dict[str, Any]:
    return {"Fn::Equals": [a, b]}


def Not(condition: Any) -> dict[str, Any]:
    return {"Fn::Not": [condition]}


NO_VALUE: dict[str, Any] = {"Ref": "AWS::NoValue"}
