"""New parameters and conditions for the `hardcoded` fixes, reused when they exist.

A String parameter whose `Default` is the value is reused: one a fix created earlier
(recognised by its `Description`), or one the author already has (`SecretName` holding
the name a resource also writes literally), so fixing the same value twice (two
functions loading code from one bucket) references one parameter instead of creating a
second.
"""

from __future__ import annotations

import re
from typing import Any

from cfnfix.changes import Change, add_condition, add_parameter
from cfnfix.compliant import logical_name, unique_name
from cfnfix.intrinsics import Equals, Not, Ref
from cfnfix.nodes import to_plain
from cfnfix.records import Record
from cfnfix.template import Template

_MAX_NAME = 80


def param_name(*parts: str) -> str:
    """A parameter name from words, without a word repeated at a seam.

    ``("UploadBucket", "BucketName")`` -> ``UploadBucketName``; ``("Queue",
    "QueueName")`` -> ``QueueName``.
    """
    words: list[str] = []
    for part in parts:
        for word in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+|[0-9]+", logical_name(part)):
            word = word[:1].upper() + word[1:]
            if not words or words[-1].lower() != word.lower():
                words.append(word)
    name = "".join(words) or "Value"
    if name[0].isdigit():
        name = "P" + name
    return name[:_MAX_NAME]


class Plan(Record):
    """The changes one fix makes, with the parameters it references.

    ``names`` is shared by the plans of one rule run: every fix that moves the same value
    into a parameter proposes the *same* name (the one the first fix chose). The fix
    loop applies one of them, defers the others as conflicting, and on its next pass
    they find the parameter and reuse it.
    """

    __match_args__ = ("template", "names", "changes", "reserved", "used")
    __slots__ = __match_args__

    def __init__(
        self,
        template: Template,
        names: dict[tuple[str, str], str] | None = None,
        changes: list[Change] | None = None,
        reserved: set[str] | None = None,
        used: list[str] | None = None,  # parameters referenced, new or reused
    ) -> None:
        self.template = template
        self.names = {} if names is None else names
        self.changes = [] if changes is None else changes
        self.reserved = set() if reserved is None else reserved
        self.used = [] if used is None else used

    def parameter(self, base: str, default: Any, description: str) -> str:
        """The name of a String parameter with this default and description.

        An existing one (created by an earlier fix) is reused; otherwise it is added.
        """
        name = self._parameter(base, default, description)
        if name not in self.used:
            self.used.append(name)
        return name

    def _parameter(self, base: str, default: Any, description: str) -> str:
        # A String parameter that already holds the value is reused: one a fix created
        # (same description), else the one named like the new one, else any.
        same = [
            (body.get("Description") != description, name != base, index, name)
            for index, (name, body) in enumerate(self.template.parameters.items())
            if isinstance(body, dict)
            and body.get("Type") == "String"
            and body.get("Default") == default
        ]
        if same:
            return min(same)[3]
        for change in self.changes:  # the same fix asks twice
            value = getattr(change, "value", None)
            if (
                isinstance(value, dict)
                and value.get("Description") == description
                and value.get("Default") == default
            ):
                return str(getattr(change, "key", ""))
        base = self.names.setdefault((description, repr(default)), base)
        name = unique_name(self.template, base, self.reserved)
        self.reserved.add(name)
        self.changes.append(
            add_parameter(name, {"Type": "String", "Default": default, "Description": description})
        )
        return name

    def condition(self, base: str, expression: Any) -> str:
        """The name of a condition with exactly this expression (reused or added)."""
        for name, existing in self.template.conditions.items():
            if to_plain(existing) == expression:
                return name
        name = unique_name(self.template, base, self.reserved)
        self.reserved.add(name)
        self.changes.append(add_condition(name, expression))
        return name

    def has_value(self, parameter: str) -> str:
        """A condition that holds when ``parameter`` is not empty."""
        return self.condition(f"Has{parameter}", Not(Equals(Ref(parameter), "")))

    def add(self, *changes: Change) -> None:
        self.changes.extend(changes)
