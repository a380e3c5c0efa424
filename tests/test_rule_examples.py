"""Every rule's documented examples are tests: bad triggers it, good does not, and
fixing bad (unsafe fixes included) leaves a template the rule accepts."""

from __future__ import annotations

import pytest

from cfnfix.rule import Rule
from cfnfix.testing import check, fix, make_rules
from tests.conftest import builtin_rules

CASES = [
    pytest.param(rule, index, id=f"{rule.id}-{index}")
    for rule in builtin_rules().values()
    for index in range(len(rule.examples))
]


def test_every_rule_has_examples() -> None:
    missing = [rule.id for rule in builtin_rules().values() if not rule.examples]
    assert not missing, f"rules without documented examples: {missing}"


@pytest.mark.parametrize(("rule_class", "index"), CASES)
def test_example(rule_class: type[Rule], index: int) -> None:
    example = rule_class.examples[index]
    [rule] = make_rules([rule_class], {rule_class.id: example.options})
    assert check(example.bad, [rule]), "the bad example must trigger the rule"
    assert not check(example.good, [rule]), "the good example must not trigger the rule"
    if rule_class.fix_availability != "none":
        outcome = fix(example.bad, [rule], unsafe=True)
        assert outcome.applied, "the bad example must be fixable"
        assert not outcome.result.findings, "after fixing, the rule must accept the template"
