"""Helpers for testing rules on template text, for cfnfix's tests and rule authors'."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cfnfix.changes import Change
from cfnfix.engine import run_rules
from cfnfix.errors import FixError
from cfnfix.fixer import FixOutcome, apply_batch, fix_template
from cfnfix.rule import Finding, Fix, Rule
from cfnfix.settings import Settings
from cfnfix.source import Source
from cfnfix.template import Template
from cfnfix.writer import Writer


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
    """Findings as ``cfnfix check`` reports them (suppressions applied); a rule that
    crashes fails loudly here instead of becoming a file error."""
    result = run_rules(parse(text, name), list(rules))
    if result.rule_errors:
        error = result.rule_errors[0]
        raise AssertionError(f"rule {error.rule_id} crashed: {error.message}")
    return result.findings


def apply_changes(text: str, changes: Sequence[Change], name: str = "template.yaml") -> str:
    """Render ``changes`` with the shared writer and verify the result, as ``fix`` does.

    Raises :class:`FixError` when the writer refuses or the result is not as intended.
    """
    template = parse(text, name)
    rendered = Writer(template).render(list(changes))
    fake = Finding(_ChangeOnly(), (), "", fix=Fix.safe("apply", *changes))
    new, reason = apply_batch(template, [(fake, rendered.edits)])
    if new is None:
        raise FixError(reason)
    return new.text


class _ChangeOnly(Rule):
    id = "XX000"
    name = "apply-changes"
    family = "testing"
    summary = what = why = "Applies changes given by a test."


def fix(
    text: str, rules: Iterable[Rule], unsafe: bool = False, name: str = "template.yaml"
) -> FixOutcome:
    return fix_template(parse(text, name), list(rules), unsafe)
