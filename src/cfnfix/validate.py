"""Hand-off to cfn-lint, when it is installed: an independent check of fixed templates.

cfnfix never needs cfn-lint; ``cfnfix fix --validate`` and the test suite use it as an
oracle: a fix must not introduce a cfn-lint error.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True)
class LintMatch:
    rule: str  # "E3012"
    message: str
    line: int


def available() -> bool:
    try:
        import cfnlint.api  # noqa: F401
    except ImportError:
        return False
    return True


@cache
def _runner() -> Any:
    """One cfn-lint runner (rules load once: about half a second)."""
    from cfnlint.api import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn(regions=["us-east-1"], include_checks=["I"]))


def lint_text(text: str) -> list[LintMatch]:
    """cfn-lint's findings (errors, warnings and informational) on template text."""
    from cfnlint.api import decode_str

    template, errors = decode_str(text)
    matches = errors if errors else list(_runner().validate_template(template)) if template else []
    return [LintMatch(m.rule.id, str(m.message), int(m.linenumber or 0)) for m in matches]


def new_errors(before: str, after: str, levels: str = "E") -> list[LintMatch]:
    """cfn-lint findings of the given levels that ``after`` has and ``before`` had not.

    Findings are compared by rule and message (lines move when a fix inserts text).
    """
    old = Counter((m.rule, m.message) for m in lint_text(before) if m.rule[0] in levels)
    found = []
    for match in lint_text(after):
        if match.rule[0] not in levels:
            continue
        key = (match.rule, match.message)
        if old[key] > 0:
            old[key] -= 1
        else:
            found.append(match)
    return found
