"""Finding literal text in a template and describing its replacement.

The `hardcoded` rules look at every string a deployment sees: resource properties, SAM
`Globals` and output values. Parameters, mappings and conditions are where
account- or region-specific values belong, so they are never judged.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from cfnfix.changes import ReplaceValue
from cfnfix.intrinsics import escape_sub, function_of
from cfnfix.nodes import Path, to_plain
from cfnfix.template import Resource, Template

# Keys whose values are programs or prose, not CloudFormation data: text there is
# code a runtime reads (`${` means something else) or a description nobody deploys.
SKIP_KEYS = frozenset(
    {
        "ZipFile",
        "InlineCode",
        "FunctionCode",
        "Script",
        "UserData",
        "Description",
        "AlarmDescription",
    }
)
# `${...}` in a plain string is literal text to CloudFormation. IAM policy variables
# (`arn:aws:s3:::home/${aws:username}/*`, `${redshift:DbUser}`, `${transfer:UserName}`)
# are the legitimate use; anything else is a preprocessor's variable (Serverless
# Framework `${self:custom.stage}`, `${opt:stage}`, `${env:X}`, ...) or a forgotten
# `!Sub` (`TestRole-${Stage}`): text cfnfix must not rewrite or move into a parameter.
_POLICY_VARIABLE = re.compile(
    r"\$\{(?:[*?$]|(?!(?:self|opt|env|sls|cf|ssm|param|s3|file|git)\b)[A-Za-z][\w.-]*:[^}]*)\}"
)


def foreign_placeholders(text: str) -> bool:
    """Whether a plain string holds `${...}` that is not an IAM policy variable."""
    return "${" in text and "${" in _POLICY_VARIABLE.sub("", text)


# Intrinsics whose arguments are names (of resources, conditions, mapping keys, macros)
# or whose arguments take only a narrow set of functions: not values to rewrite.
_NAME_FUNCTIONS = frozenset(
    {"Ref", "Fn::GetAtt", "Condition", "Fn::Transform", "Fn::FindInMap", "Fn::GetStackOutput"}
)

# Types CloudFormation itself deploys; under a macro other types are the macro's input.
DEPLOYED_PREFIXES = ("AWS::", "Custom::", "Alexa::")

_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")

# What every literal the rules find contains: a digit (account ids, regions, availability
# zones: `\d` as their patterns spell it) or `arn:` (partitions and ARNs). Two strings in
# three of a template have neither and are never looked at again.
_MAY_HOLD_LITERAL = re.compile(r"\d|arn:")

# SAM properties that the SAM transform reads itself, before CloudFormation resolves
# anything: a string there must stay a literal string (SAM parses `s3://bucket/key` or
# fetches the template), and inside an application's `Location` mapping SAM resolves only
# `Ref` and `Fn::FindInMap`. (Bucket, Key and Version of a mapping pass through.)
SAM_URI_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::Api": "DefinitionUri",
    "AWS::Serverless::HttpApi": "DefinitionUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
    "AWS::Serverless::Application": "Location",
    "Globals::Function": "CodeUri",
    "Globals::Api": "DefinitionUri",
    "Globals::HttpApi": "DefinitionUri",
}
ANY = "any"  # any value may replace it (a Fn::Sub, a Ref, ...)
REF_ONLY = "ref"  # only a whole-value Ref (or Fn::FindInMap) may replace it
LITERAL_ONLY = "none"  # it must stay a literal: no rewrite at all


def rewrite_kind(owner: str, keys: tuple[str, ...]) -> str:
    """How a literal under ``keys`` of a resource type (or `Globals::<section>`) may change."""
    prop = SAM_URI_PROPERTIES.get(owner)
    if prop is None or not keys or keys[0] != prop:
        return ANY
    if len(keys) == 1:
        return LITERAL_ONLY
    return REF_ONLY if owner == "AWS::Serverless::Application" else ANY


class Occurrence(NamedTuple):
    """A literal a deployment sees: a plain string, a `Fn::Sub` template or a number.

    (A named tuple: immutable like a frozen dataclass, and several times cheaper to
    create; a large template has tens of thousands.)"""

    path: Path
    value: str
    in_sub: bool  # the string is the template of a Fn::Sub
    resource: Resource | None
    keys: tuple[str, ...]  # the mapping keys from the property root down to the value
    number: bool = False  # a number in the data; ``value`` holds its source text
    rewrite: str = ANY  # ANY, REF_ONLY or LITERAL_ONLY (see rewrite_kind)

    @property
    def text(self) -> str:
        return self.value

    @property
    def key(self) -> str:
        """The nearest mapping key above the value."""
        return self.keys[-1] if self.keys else ""

    @property
    def resource_type(self) -> str:
        return self.resource.type if self.resource else ""


def _roots(template: Template) -> Iterator[tuple[Path, Any, Resource | None, str]]:
    """(path, value, resource, owner) of every tree the rules judge."""
    for resource in template.resources.values():
        if template.has_foreign_macros and not resource.type.startswith(DEPLOYED_PREFIXES):
            continue  # a type only a macro knows: its properties are the macro's input
        if resource.properties:
            yield resource.prop_path(), resource.properties, resource, resource.type
    if template.is_sam:
        for section, body in template.globals.items():
            if isinstance(body, dict):
                yield ("Globals", section), body, None, f"Globals::{section}"
    for name, output in template.outputs.items():
        if isinstance(output, dict) and "Value" in output:
            yield ("Outputs", name, "Value"), output["Value"], None, "Outputs"


def occurrences(template: Template) -> tuple[Occurrence, ...]:
    """Every literal string (and number) in properties, Globals and output values that
    can hold what the rules look for (see ``_MAY_HOLD_LITERAL``).

    Computed once per template: HC002, HC003 and HC004 all scan the same literals.
    """
    return template.memoize("hardcoded.occurrences", lambda: tuple(_occurrences(template)))


def _occurrences(template: Template) -> Iterator[Occurrence]:
    for root_path, root_value, resource, owner in _roots(template):
        for found in _tree_occurrences(template, root_path, root_value, resource, owner):
            if _MAY_HOLD_LITERAL.search(found.text):
                yield found


def _tree_occurrences(
    template: Template, root_path: Path, root_value: Any, resource: Resource | None, owner: str
) -> Iterator[Occurrence]:
    # rewrite_kind is ANY throughout, except under the few SAM properties it names.
    sam_uri = owner in SAM_URI_PROPERTIES

    def occurrence(
        path: Path, text: str, in_sub: bool, keys: tuple[str, ...], number: bool = False
    ) -> Occurrence:
        kind = rewrite_kind(owner, keys) if sam_uri else ANY
        return Occurrence(path, text, in_sub, resource, keys, number, kind)

    stack: list[tuple[Path, Any, tuple[str, ...]]] = [(root_path, root_value, ())]
    while stack:
        path, value, keys = stack.pop()
        if isinstance(value, str):
            if "{{resolve:" not in value and not foreign_placeholders(value):
                yield occurrence(path, value, False, keys)
        elif isinstance(value, dict):
            fn = function_of(value)
            if fn is None:
                for key, item in reversed(value.items()):
                    if key not in SKIP_KEYS:
                        stack.append(((*path, key), item, (*keys, key)))
                continue
            name, arg = fn
            if name in _NAME_FUNCTIONS:
                continue
            if name == "Fn::Sub":
                if isinstance(arg, str):
                    yield occurrence((*path, name), arg, True, keys)
                elif isinstance(arg, list) and arg and isinstance(arg[0], str):
                    yield occurrence((*path, name, 0), arg[0], True, keys)
                    if len(arg) > 1 and isinstance(arg[1], dict):
                        for var, item in reversed(arg[1].items()):
                            stack.append(((*path, name, 1, var), item, keys))
                continue
            if name == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
                stack.append(((*path, name, 2), arg[2], keys))
                stack.append(((*path, name, 1), arg[1], keys))
                continue
            stack.append(((*path, name), arg, keys))
        elif isinstance(value, list):
            for index in range(len(value) - 1, -1, -1):
                stack.append(((*path, index), value[index], keys))
        elif isinstance(value, int) and not isinstance(value, bool):
            source = template.source_text(path).strip().strip("'\"")
            if source.isdigit():
                yield occurrence(path, source, False, keys, number=True)


# -- Fn::Sub templates ------------------------------------------------------------------


def literal_spans(text: str, in_sub: bool) -> list[tuple[int, int]]:
    """The stretches of ``text`` that are literal (outside `${...}` when in a Sub)."""
    if not in_sub:
        return [(0, len(text))]
    spans = []
    cursor = 0
    for match in _PLACEHOLDER.finditer(text):
        spans.append((cursor, match.start()))
        cursor = match.end()
    spans.append((cursor, len(text)))
    return [(a, b) for a, b in spans if a < b]


def find_literal(pattern: re.Pattern[str], text: str, in_sub: bool) -> list[re.Match[str]]:
    """Matches of ``pattern`` that lie wholly in literal text."""
    if not in_sub:
        return list(pattern.finditer(text))
    found: list[re.Match[str]] = []
    for start, end in literal_spans(text, in_sub):
        found.extend(pattern.finditer(text, start, end))
    return found


def rewrite(text: str, in_sub: bool, edits: list[tuple[int, int, str]]) -> str:
    """A Fn::Sub template: ``text`` with ``edits`` (start, end, Sub-syntax replacement).

    Text between edits is kept: as is when ``text`` already is a Sub template, escaped
    (`${` -> `${!`) when it was a plain string.
    """
    out = []
    cursor = 0
    for start, end, replacement in sorted(edits):
        if start < cursor:
            continue  # overlapping edits: keep the first
        kept = text[cursor:start]
        out.append(kept if in_sub else escape_sub(kept))
        out.append(replacement)
        cursor = end
    rest = text[cursor:]
    out.append(rest if in_sub else escape_sub(rest))
    return "".join(out)


def has_placeholders(sub_template: str) -> bool:
    return any(not m.group(0).startswith("${!") for m in _PLACEHOLDER.finditer(sub_template))


def unescape_sub(sub_template: str) -> str:
    """The string a Fn::Sub template without variables produces."""
    return sub_template.replace("${!", "${")


# -- replacing values -------------------------------------------------------------------


def replace_root(template: Template, path: Path) -> Path:
    """The path to replace when changing the value at ``path``.

    The writer changes whole values, never the inside of an intrinsic function: a
    value inside one (an item of a `Fn::Join`, the template of a `Fn::Sub`) is changed
    by replacing the outermost intrinsic that holds it.
    """
    for depth in range(len(path)):
        if function_of(template.value_at(path[:depth])) is not None:
            return path[:depth]
    return path


def replace_at(template: Template, path: Path, new: Any) -> ReplaceValue:
    """A change that puts ``new`` at ``path`` (through the enclosing intrinsic if any)."""
    return replace_many(template, [(path, new)])


def replace_many(template: Template, items: list[tuple[Path, Any]]) -> ReplaceValue:
    """One change putting each ``new`` at its ``path``; the paths share a replace root."""
    roots = {replace_root(template, path) for path, _ in items}
    if len(roots) != 1:
        raise ValueError("the values do not share one enclosing value")
    (root,) = roots
    if len(items) == 1 and items[0][0] == root:
        return ReplaceValue(root, copy.deepcopy(items[0][1]))
    value = to_plain(template.value_at(root))
    for path, new in items:
        holder: Any = value
        relative = path[len(root) :]
        for key in relative[:-1]:
            holder = holder[key]
        holder[relative[-1]] = copy.deepcopy(new)
    return ReplaceValue(root, value)


def substituted(occurrence: Occurrence, new_template: str) -> Any:
    """The value that replaces ``occurrence`` once its text becomes ``new_template``.

    For a Sub template that is the new template string itself; a plain string becomes
    a `Fn::Sub`.
    """
    if occurrence.in_sub:
        return new_template
    return {"Fn::Sub": new_template}


def new_value(
    occurrence: Occurrence,
    edits: list[tuple[int, int, str]],
    whole: Callable[[], Any] | None = None,
) -> Any:
    """The value for ``occurrence.path`` once stretches of its text are replaced with
    Sub-syntax text.

    ``whole`` gives the value to use instead when a single edit covers a whole plain
    value (a `Ref` reads better than `!Sub '${X}'`).
    """
    text = occurrence.text
    if (
        whole is not None
        and not occurrence.in_sub
        and len(edits) == 1
        and edits[0][:2] == (0, len(text))
    ):
        return whole()
    return substituted(occurrence, rewrite(text, occurrence.in_sub, edits))


def replace_text(
    template: Template,
    occurrence: Occurrence,
    edits: list[tuple[int, int, str]],
    whole: Callable[[], Any] | None = None,
) -> ReplaceValue:
    """Replace stretches of an occurrence's text with Sub-syntax text (see new_value)."""
    return replace_at(template, occurrence.path, new_value(occurrence, edits, whole))


def grouped(template: Template, items: list[tuple[Path, Any]]) -> dict[Path, ReplaceValue]:
    """For each path, one change that also makes every other edit under the same
    enclosing intrinsic: a `Fn::Join` with ten hardcoded ARNs is rewritten once, not
    one item per pass of the fix loop."""
    by_root: dict[Path, list[tuple[Path, Any]]] = {}
    for path, value in items:
        by_root.setdefault(replace_root(template, path), []).append((path, value))
    changes: dict[Path, ReplaceValue] = {}
    for members in by_root.values():
        change = replace_many(template, members)
        for path, _ in members:
            changes[path] = change
    return changes
