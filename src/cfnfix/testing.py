"""Helpers for testing rules on template text, for cfnfix's tests and rule authors'."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cfnfix.fixer import FixOutcome, fix_template
from cfnfix.rule import Finding, Rule
from cfnfix.settings import Settings
from cfnfix.source import Source
from cfnfix.template import Template


def parse(text: str, name: str = "template.yaml") -> Template:
    return Template.parse(Source.from_text(text, name))


def make_rules(
    classes: Iterable[type[Rule]],
    options: Mapping[str, Mapping[str, Any]] | None = None,
    settings: Settings | None = None,
) -> list[Rule]:
    """Instantiate rule classes; ``options`` maps a rule id to its options."""
    return [cls((options or {}).get(cls.id), settings) for cls in classes]


def check(text: str, rules: Iterable[Rule], name: str = "template.yaml") -> list[Finding]:
    template = parse(text, name)
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(rule.check(template))
    return findings


def fix(
    text: str, rules: Iterable[Rule], unsafe: bool = False, name: str = "template.yaml"
) -> FixOutcome:
    return fix_template(parse(text, name), list(rules), unsafe)
