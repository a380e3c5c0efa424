"""Running rules over a template. The engine knows no rule by name."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from cfnfix import registry, suppressions
from cfnfix.collector import paused
from cfnfix.config import Config, validate_rule_options
from cfnfix.errors import ConfigError
from cfnfix.records import Record
from cfnfix.rule import Finding, Rule, Severity
from cfnfix.settings import Settings
from cfnfix.template import Template


class Overrides(NamedTuple):
    """Command-line choices that override configuration files."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()
    rules_dirs: tuple[Path, ...] = ()


class RuleError(NamedTuple):
    """A rule that crashed on a file: reported, and the other rules still run."""

    rule_id: str
    message: str


class CheckResult(Record):
    __match_args__ = ("findings", "rule_errors")
    __slots__ = __match_args__

    def __init__(
        self, findings: list[Finding] | None = None, rule_errors: list[RuleError] | None = None
    ) -> None:
        self.findings = [] if findings is None else findings
        self.rule_errors = [] if rule_errors is None else rule_errors


def instantiate(config: Config, overrides: Overrides) -> list[Rule]:
    """The rules that apply under ``config``, with their options."""
    available = registry.collect([*config.rules_dirs, *overrides.rules_dirs], deferred=True)
    chosen = registry.select(
        available,
        overrides.select or config.select,
        [*(overrides.ignore or config.ignore), *overrides.extend_ignore],
    )
    by_name = {rule.name: rule.id for rule in available.values()}
    options: dict[str, dict[str, Any]] = {}
    for key, value in config.rule_options.items():
        rule_id = by_name.get(key, key)
        if rule_id not in available:
            raise ConfigError(f"{config.path}: rules.{key}: no such rule")
        validate_rule_options(config, key, available[rule_id].options_schema, value)
        options.setdefault(rule_id, {}).update(value)
    settings = Settings(required_tags=dict(config.required_tags))
    return [rule(options.get(rule.id), settings) for rule in chosen]


def _rule_error(rule: Rule, template: Template, exc: Exception) -> RuleError:
    """A rule's crash as a one-line error; ``CFNFIX_DEBUG=1`` also prints its traceback."""
    if os.environ.get("CFNFIX_DEBUG"):
        import traceback

        header = f"cfnfix: rule {rule.id} failed on {template.path}:\n"
        sys.stderr.write(header + "".join(traceback.format_exception(exc)))
    return RuleError(rule.id, f"{type(exc).__name__}: {exc}")


@paused()  # rules build indexes over the whole template (see cfnfix.collector)
def run_rules(template: Template, rules: Sequence[Rule]) -> CheckResult:
    """Every rule's findings, less the suppressed ones, plus findings on suppressions."""
    result = CheckResult()
    for rule in rules:
        if not rule.looks_at(template):
            continue
        try:
            result.findings.extend(rule.check(template))
        except Exception as exc:  # a rule bug must not hide the other rules' findings
            result.rule_errors.append(_rule_error(rule, template, exc))
    written = suppressions.collect(template)
    result.findings = suppressions.apply(template, result.findings, written)
    for rule in rules if written else ():
        try:
            result.findings.extend(rule.review(template, written, rules))
        except Exception as exc:
            result.rule_errors.append(_rule_error(rule, template, exc))
    result.findings.sort(key=lambda f: sort_key(template, f))
    return result


def sort_key(template: Template, finding: Finding) -> tuple[int, int, str, str, str]:
    location = template.location(finding.path)
    return (
        location.line,
        location.column,
        finding.rule.id,
        "/".join(map(str, finding.path)),
        finding.message,
    )


def severity_counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    counts = dict.fromkeys(Severity, 0)
    for finding in findings:
        counts[finding.effective_severity] += 1
    return counts
