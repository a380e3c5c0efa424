"""Hand-off to cfn-lint, when it is installed: an independent check of fixed templates.

cfnfix never needs cfn-lint; ``cfnfix fix --validate`` and the test suite use it as an
oracle: a fix must not introduce a cfn-lint error.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache
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


@lru_cache(maxsize=16)
def lint_text(text: str) -> tuple[LintMatch, ...]:
    """cfn-lint's findings (errors, warnings and informational) on template text.

    Cached: ``--validate`` compares every candidate fix with the same original text.
    """
    from cfnlint.api import decode_str

    template, errors = decode_str(text)
    matches = errors if errors else list(_runner().validate_template(template)) if template else []
    return tuple(LintMatch(m.rule.id, str(m.message), int(m.linenumber or 0)) for m in matches)


def new_errors(before: str, after: str, levels: str = "E") -> list[LintMatch]:
    """cfn-lint findings of the given levels that ``after`` has and ``before`` had not.

    A rule counts as newly broken when ``after`` has more of its findings than ``before``:
    lines move when a fix inserts text, and messages change with it (E1020 lists every
    name in the template; a value moved into a parameter carries its finding along).
    Of such a rule, the findings whose exact message is new are returned.
    """
    old = [m for m in lint_text(before) if m.rule[0] in levels]
    new = [m for m in lint_text(after) if m.rule[0] in levels]
    old_counts = Counter(m.rule for m in old)
    new_counts = Counter(m.rule for m in new)
    known = Counter((m.rule, m.message) for m in old)
    found = []
    for match in new:
        if new_counts[match.rule] <= old_counts[match.rule]:
            continue
        key = (match.rule, match.message)
        if known[key] > 0:
            known[key] -= 1
        else:
            found.append(match)
    return found
