"""What a rule is: metadata as class attributes, options, documentation, a check."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final

from cfnfix.changes import Change
from cfnfix.nodes import Path
from cfnfix.records import FrozenRecord
from cfnfix.settings import Settings
from cfnfix.template import Template

if TYPE_CHECKING:
    from cfnfix.suppressions import Suppression


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


class Applicability(enum.Enum):
    SAFE = "safe"  # applied by `cfnfix fix`
    UNSAFE = "unsafe"  # applied only with `--unsafe-fixes`


class Fix(FrozenRecord):
    """A fix: semantic changes, what they do, and whether a deploy sees a difference."""

    __match_args__ = ("description", "changes", "applicability")
    __slots__ = __match_args__

    def __init__(
        self,
        description: str,
        changes: tuple[Change, ...],
        applicability: Applicability = Applicability.SAFE,
    ) -> None:
        self.description: Final = description
        self.changes: Final = changes
        self.applicability: Final = applicability

    @classmethod
    def safe(cls, description: str, *changes: Change) -> Fix:
        return cls(description, changes, Applicability.SAFE)

    @classmethod
    def unsafe(cls, description: str, *changes: Change) -> Fix:
        return cls(description, changes, Applicability.UNSAFE)


class Finding(FrozenRecord):
    """What a rule reports: a path from the template root, a message, maybe a fix."""

    __match_args__ = ("rule", "path", "message", "resource", "fix", "severity")
    __slots__ = __match_args__

    def __init__(
        self,
        rule: Rule,
        path: Path,
        message: str,
        resource: str | None = None,
        fix: Fix | None = None,
        severity: Severity | None = None,  # None: the rule's own severity
    ) -> None:
        self.rule: Final = rule
        self.path: Final = path
        self.message: Final = message
        self.resource: Final = resource
        self.fix: Final = fix
        self.severity: Final = severity

    @property
    def effective_severity(self) -> Severity:
        return self.severity or self.rule.severity


class Example(FrozenRecord):
    """A documented example, also a test: ``bad`` triggers the rule, ``good`` does not."""

    __match_args__ = ("bad", "good", "options")
    __slots__ = __match_args__

    def __init__(self, bad: str, good: str, options: Mapping[str, Any] | None = None) -> None:
        self.bad: Final = bad
        self.good: Final = good
        self.options: Final[Mapping[str, Any]] = {} if options is None else options


_ID = re.compile(r"^[A-Z]{2,4}\d{3}$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_TYPE = re.compile(r"^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$")


class Rule:
    """Base class of every rule, built-in or third-party.

    Subclasses set the metadata below and implement :meth:`check`. A rule never touches
    text: it reports paths and describes fixes as :mod:`cfnfix.changes`.
    """

    id: ClassVar[str]  # short and stable, grouped by family: "RT001"
    name: ClassVar[str]  # kebab-case: "log-group-without-retention"
    family: ClassVar[str]  # "hardcoded", "tagging", "dead-letter", "retention", ...
    severity: ClassVar[Severity] = Severity.WARNING
    summary: ClassVar[str]  # one line
    # Markdown with the sections: What it does / Why is this bad? / Example / Use instead /
    # Fix safety. The Example and Use instead sections come from ``examples``.
    what: ClassVar[str]
    why: ClassVar[str]
    fix_safety: ClassVar[str] = "This rule has no fix."
    fix_availability: ClassVar[str] = "none"  # "always" | "sometimes" | "none"
    # False: an opt-in rule, run only when selected by its id or name, or by "ALL".
    default_enabled: ClassVar[bool] = True
    examples: ClassVar[tuple[Example, ...]] = ()
    # JSON Schema of each option, with a "default".
    options_schema: ClassVar[dict[str, dict[str, Any]]] = {}
    # The resource types the rule starts from: it can report nothing on a template that
    # holds none of them, so the engine does not run it there (nor, for a rule listed in
    # a manifest, import it). None: the rule looks at every template.
    resource_types: ClassVar[tuple[str, ...] | None] = None

    def __init__(
        self, options: Mapping[str, Any] | None = None, settings: Settings | None = None
    ) -> None:
        self.options: dict[str, Any] = {
            key: schema.get("default") for key, schema in self.options_schema.items()
        }
        if options:
            self.options.update(options)
        self.settings = settings or Settings()

    def check(self, template: Template) -> Iterator[Finding]:
        """The rule's findings on ``template`` (a rule that only reviews suppressions has
        none)."""
        return iter(())

    @classmethod
    def looks_at(cls, template: Template) -> bool:
        """Whether the template holds a resource the rule starts from."""
        return cls.resource_types is None or not template.resource_types.isdisjoint(
            cls.resource_types
        )

    def review(
        self, template: Template, suppressions: list[Suppression], rules: Sequence[Rule]
    ) -> Iterator[Finding]:
        """Findings about the suppressions themselves, after every rule ran (optional;
        called only on a template that has suppressions)."""
        return iter(())

    def finding(
        self,
        path: Path,
        message: str,
        resource: str | None = None,
        fix: Fix | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        if resource is None and len(path) >= 2 and path[0] == "Resources":
            resource = str(path[1])
        return Finding(self, path, message, resource, fix, severity)

    @classmethod
    def validate_metadata(cls) -> list[str]:
        """Problems with the class's metadata (checked when rules are loaded)."""
        problems = []
        for attribute in ("id", "name", "family", "summary", "what", "why"):
            if not isinstance(getattr(cls, attribute, None), str):
                problems.append(f"missing {attribute}")
        if cls.fix_availability not in ("always", "sometimes", "none"):
            problems.append("fix_availability must be always, sometimes or none")
        types = cls.resource_types
        if types is not None and (
            not isinstance(types, tuple)
            or not types
            or not all(isinstance(t, str) and _TYPE.match(t) for t in types)
        ):
            problems.append("resource_types must be None or a tuple like ('AWS::S3::Bucket',)")
        if not problems:
            if not _ID.match(cls.id):
                problems.append(f"id {cls.id!r} is not like 'RT001'")
            if not _NAME.match(cls.name):
                problems.append(f"name {cls.name!r} is not kebab-case")
        return problems

    @classmethod
    def documentation(cls) -> str:
        """The rule's documentation in Markdown."""
        parts = [
            f"## {cls.id} `{cls.name}`",
            "",
            f"*Family:* `{cls.family}` · *Severity:* {cls.severity.value} · "
            f"*Fix:* {cls.fix_availability}" + ("" if cls.default_enabled else " · *Opt-in*"),
            "",
            cls.summary,
            "",
            *(
                ()
                if cls.resource_types is None
                else (
                    "*Runs on templates with:* " + ", ".join(f"`{t}`" for t in cls.resource_types),
                    "",
                )
            ),
            *(
                ()
                if cls.default_enabled
                else (
                    f"Off by default: turn it on with `--select {cls.id}` (or "
                    f'`select = ["{cls.id}"]` in the configuration), by its id, its name or '
                    "`ALL`; a family or id prefix does not select it.",
                    "",
                )
            ),
            "### What it does",
            "",
            cls.what.strip(),
            "",
            "### Why is this bad?",
            "",
            cls.why.strip(),
        ]
        for example in cls.examples[:1]:
            parts += ["", "### Example", "", "```yaml", example.bad.strip(), "```"]
            parts += ["", "### Use instead", "", "```yaml", example.good.strip(), "```"]
        parts += ["", "### Fix safety", "", cls.fix_safety.strip()]
        if cls.options_schema:
            parts += ["", "### Options", ""]
            for key, schema in cls.options_schema.items():
                parts.append(
                    f"- `{key}` (default `{schema.get('default')!r}`): "
                    f"{schema.get('description', '')}"
                )
        return "\n".join(parts) + "\n"


def listed(items: Sequence[str], limit: int = 3) -> str:
    """The first ``limit`` items for a message, comma-separated, "and more" past them."""
    return ", ".join(items[:limit]) + (" and more" if len(items) > limit else "")
