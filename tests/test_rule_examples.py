"""Every rule's documented examples are tests: bad triggers it, good does not, and
fixing bad (unsafe fixes included) leaves a template the rule accepts.

The other built-in rules run too (as in `cfnfix check`), so that rules about suppressions
see the findings they judge; only the findings of the rule under test are asserted.
"""

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
    rules = make_rules(builtin_rules().values(), {rule_class.id: example.options})

    def own(text: str) -> list[str]:
        return [f.message for f in check(text, rules) if f.rule.id == rule_class.id]

    assert own(example.bad), "the bad example must trigger the rule"
    assert not own(example.good), "the good example must not trigger the rule"
    if rule_class.fix_availability != "none":
        outcome = fix(example.bad, rules, unsafe=True)
        assert any(a.rule.id == rule_class.id for a in outcome.applied), "bad must be fixable"
        remaining = [f.message for f in outcome.result.findings if f.rule.id == rule_class.id]
        assert not remaining, "after fixing, the rule must accept the template"
