"""Rule manifests: a package's rules by metadata, so a run imports only the rules it needs.

A rules package (the built-in ``cfnfix_rules`` or a third party's, named by a
``cfnfix.rules`` entry point) may ship ``cfnfix-rules.json`` beside its ``__init__.py``.
It lists every rule's metadata and where its class is. When it is there, selecting rules,
checking the configuration and naming rules in suppressions need no rule module: each
selected rule stands in as a :class:`Deferred` rule, whose module is imported the first
time a template holds a resource the rule starts from (``Rule.resource_types``). A
one-file check of a template with one log group imports a dozen rule modules, not all
of them.

The manifest is generated, never written by hand::

    python -m cfnfix.manifest cfnfix_rules

and a test keeps the built-in one current. A rule whose class no longer matches its
manifest entry is reported as an error when it loads, naming that command.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from cfnfix.errors import ConfigError
from cfnfix.rule import Finding, Rule, Severity

if TYPE_CHECKING:
    from cfnfix.settings import Settings
    from cfnfix.suppressions import Suppression
    from cfnfix.template import Template

MANIFEST_NAME = "cfnfix-rules.json"
FORMAT = 1
# What a manifest records of each rule (beside where its class is). Documentation and
# examples are left out: whatever shows them imports the rule.
FIELDS = (
    "id",
    "name",
    "family",
    "severity",
    "summary",
    "fix_availability",
    "default_enabled",
    "resource_types",
    "options_schema",
    "checks",
    "reviews",
)


def entry(rule: type[Rule]) -> dict[str, Any]:
    """A rule's manifest entry, as JSON would give it back."""
    fields = {
        "id": rule.id,
        "name": rule.name,
        "family": rule.family,
        "severity": rule.severity.value,
        "summary": rule.summary,
        "fix_availability": rule.fix_availability,
        "default_enabled": rule.default_enabled,
        "resource_types": rule.resource_types,
        "options_schema": rule.options_schema,
        "checks": rule.check is not Rule.check,
        "reviews": rule.review is not Rule.review,
    }
    listed: dict[str, Any] = json.loads(json.dumps(fields))  # tuples as lists
    return {"class": f"{rule.__module__}:{rule.__qualname__}", **listed}


def build(package: str) -> dict[str, Any]:
    """The manifest of ``package``: every rule it defines (importing all of them)."""
    from cfnfix.registry import check_metadata, rules_from_object

    rules = sorted(rules_from_object(importlib.import_module(package)), key=lambda r: r.id)
    for rule in rules:
        check_metadata(rule)
    return {"format": FORMAT, "rules": [entry(rule) for rule in rules]}


def manifest_path(package: str) -> Path | None:
    """Where ``package``'s manifest would be, found without importing the package."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / MANIFEST_NAME


def render(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=1, sort_keys=True) + "\n"


def write(package: str) -> Path:
    path = manifest_path(package)
    if path is None:
        raise ConfigError(f"{package} is not a package: only a package can have a manifest")
    text = render(build(package))
    partial = path.with_name(f".{MANIFEST_NAME}.{os.getpid()}")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)  # a run reading it meanwhile sees the old one or the new one
    return path


def read(package: str) -> list[type[Rule]] | None:
    """Stand-ins for the rules of ``package``'s manifest; None when it has none."""
    path = manifest_path(package)
    if path is None:
        return None
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the rule manifest {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{path}: not a cfnfix rule manifest of format {FORMAT}")
    return [_stand_in(package, path, listed) for listed in data["rules"]]


def _stand_in(package: str, path: Path, listed: dict[str, Any]) -> type[Rule]:
    types = listed["resource_types"]
    module, _, qualname = listed["class"].partition(":")
    attributes = {
        "__module__": module,
        "__qualname__": qualname,
        "id": listed["id"],
        "name": listed["name"],
        "family": listed["family"],
        "severity": Severity(listed["severity"]),
        "summary": listed["summary"],
        "fix_availability": listed["fix_availability"],
        "default_enabled": listed["default_enabled"],
        "resource_types": None if types is None else tuple(types),
        "options_schema": listed["options_schema"],
        "checks": listed["checks"],
        "reviews": listed["reviews"],
        "listed": listed,
        "package": package,
        "manifest": path,
    }
    return type(qualname.rpartition(".")[2], (Deferred,), attributes)


class Deferred(Rule):
    """Stands in for a rule listed in a manifest until a template needs it: the metadata
    is the manifest's; :meth:`check` and :meth:`review` import the rule's module and hand
    over to the rule itself, which then reports its own findings."""

    checks: ClassVar[bool]  # the rule has a check() of its own
    reviews: ClassVar[bool]  # the rule has a review() of its own
    listed: ClassVar[dict[str, Any]]  # its manifest entry
    package: ClassVar[str]
    manifest: ClassVar[Path]

    def __init__(
        self, options: dict[str, Any] | None = None, settings: Settings | None = None
    ) -> None:
        super().__init__(options, settings)
        self._options = options
        self._rule: Rule | None = None

    @classmethod
    def load(cls) -> type[Rule]:
        """The rule's class, imported now; an error when it no longer matches the manifest."""
        from cfnfix.registry import EntryPoint

        try:
            found = EntryPoint(cls.id, cls.listed["class"]).load()
        except (ImportError, AttributeError) as exc:
            raise cls._stale(f"{cls.listed['class']} cannot be loaded ({exc})") from None
        if not (isinstance(found, type) and issubclass(found, Rule)):
            raise cls._stale(f"{cls.listed['class']} is not a rule")
        actual = entry(found)
        changed = [key for key in ("class", *FIELDS) if actual[key] != cls.listed.get(key)]
        if changed:
            raise cls._stale(f"{cls.id}'s {', '.join(changed)} changed")
        return found

    @classmethod
    def _stale(cls, why: str) -> ConfigError:
        return ConfigError(
            f"the rule manifest {cls.manifest} is out of date: {why}; "
            f"regenerate it with `python -m cfnfix.manifest {cls.package}`"
        )

    def rule(self) -> Rule:
        if self._rule is None:
            self._rule = self.load()(self._options, self.settings)
        return self._rule

    def check(self, template: Template) -> Iterator[Finding]:
        if not self.checks:
            return iter(())
        return self.rule().check(template)

    def review(
        self, template: Template, suppressions: list[Suppression], rules: Sequence[Rule]
    ) -> Iterator[Finding]:
        if not self.reviews:
            return iter(())
        return self.rule().review(template, suppressions, rules)


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m cfnfix.manifest PACKAGE\n")
        return 2
    try:
        path = write(argv[0])
    except ConfigError as exc:
        sys.stderr.write(f"cfnfix: error: {exc}\n")
        return 2
    sys.stdout.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
