"""Suppressions in all four syntaxes; unused ones reported and removed by fix."""

from __future__ import annotations

import pytest

from cfnfix import registry
from cfnfix.rule import Rule
from cfnfix.suppressions import FOREIGN_IDS
from cfnfix.testing import check, fix, make_rules


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    available = registry.collect()
    return make_rules([available[i] for i in ("RT001", "SP001", "SP002")])


def ids(text: str, rules: list[Rule]) -> list[str]:
    return sorted(f.rule.id for f in check(text, rules))


LOGS = "    Type: AWS::Logs::LogGroup\n"


@pytest.mark.parametrize(
    "text",
    [
        # cfnfix, on the resource
        "Resources:\n  L:\n" + LOGS + "    Metadata:\n      cfnfix:\n        ignore:\n"
        "          - id: RT001\n            reason: audit logs are kept forever\n",
        # cfnfix, by family and by name
        "Resources:\n  L:\n"
        + LOGS
        + "    Metadata: {cfnfix: {ignore: [{id: retention, reason: r}]}}\n",
        "Resources:\n  L:\n"
        + LOGS
        + "    Metadata: {cfnfix: {ignore: [{id: log-group-without-retention, reason: r}]}}\n",
        # cfnfix, template-wide
        "Metadata:\n  cfnfix:\n    ignore: [{id: RT001, reason: all of them}]\nResources:\n  L:\n"
        + LOGS,
        # cfnfix comment on the line, and on the line above
        "Resources:\n  L:  # cfnfix: ignore[RT001] kept forever\n" + LOGS,
        "Resources:\n  # cfnfix: ignore[HC, RT001] kept forever\n  L:\n" + LOGS,
        # cfn-lint, checkov (metadata and comment), cfn_nag
        "Resources:\n  L:\n"
        + LOGS
        + "    Metadata:\n      cfn-lint:\n        config:\n          ignore_checks: [I3013]\n"
        if False
        else "Resources:\n  L:\n"
        + LOGS
        + "    Metadata:\n      checkov:\n        skip:\n          - id: CKV_AWS_66\n            comment: kept\n",
        "Resources:\n  # checkov:skip=CKV_AWS_66:kept forever\n  L:\n" + LOGS,
        "Resources:\n  L:\n"
        + LOGS
        + "    Metadata:\n      cfn_nag:\n        rules_to_suppress:\n          - id: W86\n            reason: kept\n",
    ],
)
def test_each_syntax_suppresses(text: str, rules: list[Rule]) -> None:
    assert ids(text, rules) == []


def test_cfn_lint_ignore_checks_maps_to_cfnfix_rules() -> None:
    available = registry.collect()
    rule = available["RT003"]
    [r] = make_rules([rule])
    table = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {KeySchema: [], AttributeDefinitions: []}\n"
    assert check(table, [r])
    ignored = (
        table
        + "    Metadata:\n      cfn-lint:\n        config:\n          ignore_checks: [I3011]\n"
    )
    assert not check(ignored, [r])


def test_suppression_elsewhere_does_not_apply(rules: list[Rule]) -> None:
    text = "Resources:\n  L:\n" + LOGS + "  M:  # cfnfix: ignore[RT001] only M\n" + LOGS
    findings = check(text, rules)
    assert [(f.rule.id, f.resource) for f in findings] == [("RT001", "L")]


def test_unused_and_reasonless_reported_and_unused_removed(rules: list[Rule]) -> None:
    text = (
        "Resources:\n  L:\n" + LOGS + "    Properties:\n      RetentionInDays: 7\n"
        "    Metadata:\n      cfnfix:\n        ignore: [RT001]\n"
    )
    assert ids(text, rules) == ["SP001", "SP002"]
    outcome = fix(text, rules)
    assert (
        outcome.template.text
        == "Resources:\n  L:\n" + LOGS + "    Properties:\n      RetentionInDays: 7\n"
    )
    assert not outcome.result.findings


def test_suppressed_findings_are_not_fixed(rules: list[Rule]) -> None:
    text = "Resources:\n  L:  # cfnfix: ignore[RT001] kept forever\n" + LOGS
    outcome = fix(text, rules)
    assert not outcome.applied and outcome.template.text == text


def test_unused_not_judged_when_its_rule_did_not_run() -> None:
    [sp001] = make_rules([registry.collect()["SP001"]])
    text = "Resources:\n  L:  # cfnfix: ignore[RT001] kept forever\n" + LOGS
    assert not check(text, [sp001])


def test_mapping_names_only_existing_rules() -> None:
    available = registry.collect()
    for tool, table in FOREIGN_IDS.items():
        for foreign, ours in table.items():
            for rule_id in ours:
                assert rule_id in available, f"{tool} {foreign} maps to unknown {rule_id}"


def test_mapping_is_documented() -> None:
    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "suppressions.md").read_text()
    for tool, table in FOREIGN_IDS.items():
        for foreign, ours in table.items():
            assert f"| {tool} | {foreign} |" in doc and f"| {', '.join(ours)} |" in doc, foreign
