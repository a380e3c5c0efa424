"""Rule test cases as data (``fixtures/rule_cases/<ID>.yaml``), run by one generic test.

Each case has ``fail_str`` (must trigger the rule) with an optional ``fix_str`` (the
exact text ``cfnfix fix`` must produce), or ``pass_str`` (must not trigger it). Optional:
``options`` (the rule's options), ``unsafe`` (also apply unsafe fixes), ``filename``
(``template.json`` for JSON cases), ``required_tags``, ``with_rules`` (other rules that
run too, e.g. for suppression rules; only the rule under test's findings are asserted).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cfnfix.settings import Settings
from cfnfix.testing import check, fix, make_rules
from tests.conftest import FIXTURES, builtin_rules

CASE_DIR = FIXTURES / "rule_cases"


def _cases() -> list[Any]:
    params = []
    for file in sorted(CASE_DIR.glob("*.yaml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        for case in data["cases"]:
            params.append(pytest.param(data["rule"], case, id=f"{file.stem}-{case['name']}"))
    return params


def test_every_rule_has_cases() -> None:
    have = {p.stem for p in CASE_DIR.glob("*.yaml")}
    missing = sorted(set(builtin_rules()) - have)
    assert not missing, f"rules without fixtures/rule_cases/<ID>.yaml: {missing}"


@pytest.mark.parametrize(("rule_id", "case"), _cases())
def test_case(rule_id: str, case: dict[str, Any]) -> None:
    rule_class = builtin_rules()[rule_id]
    settings = Settings(case["required_tags"]) if "required_tags" in case else None
    others = [builtin_rules()[i] for i in case.get("with_rules", [])]
    rules = make_rules([rule_class, *others], {rule_id: case.get("options", {})}, settings)
    name = case.get("filename", "template.yaml")

    def own(text: str) -> list[Any]:
        return [f for f in check(text, rules, name) if f.rule.id == rule_id]

    if "pass_str" in case:
        findings = own(case["pass_str"])
        assert not findings, [f.message for f in findings]
        return
    findings = own(case["fail_str"])
    assert findings, "fail_str must trigger the rule"
    if "count" in case:
        assert len(findings) == case["count"], [f.message for f in findings]
    if "fix_str" in case:
        outcome = fix(case["fail_str"], rules, case.get("unsafe", False), name)
        assert not outcome.refused, [r.reason for r in outcome.refused]
        assert outcome.template.text == case["fix_str"]
        again = fix(outcome.template.text, rules, case.get("unsafe", False), name)
        assert not again.applied, "a second fix must change nothing"


def test_case_files_are_valid() -> None:
    for file in CASE_DIR.glob("*.yaml"):
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        assert set(data) == {"rule", "cases"}, file
        for case in data["cases"]:
            assert ("fail_str" in case) != ("pass_str" in case), (file, case.get("name"))
            assert Path(file).stem == data["rule"], file
