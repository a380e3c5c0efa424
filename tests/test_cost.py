"""The cost family (CO) on the seed's stack (YAML, JSON, SAM) and a SAM variant with the
cost mistakes of real templates, through the command line; plus the corpus. Single-rule
behaviour lives in fixtures/rule_cases/CO*.yaml."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cfnfix import validate
from cfnfix.rule import Rule
from cfnfix.source import read_source
from cfnfix.template import Template
from cfnfix.testing import check, fix, make_rules, parse
from tests.conftest import FIXTURES, builtin_rules, run_cfnfix

SEED = FIXTURES / "seed"
GAPS = FIXTURES / "cost" / "image-processing-cost-gaps.yaml"
SEED_FINDINGS = {
    ("CO003", "ImageProcessorFunction"),
    ("CO006", "UploadBucket"),
    ("CO006", "ThumbnailBucket"),
}
EXPECTED = {
    "image-processing-broken.yaml": SEED_FINDINGS,
    "image-processing-broken.json": SEED_FINDINGS,
    # Timeout and MemorySize come from Globals.Function: no CO001/CO002.
    "image-processing-broken-sam.yaml": SEED_FINDINGS,
    GAPS.name: {
        ("CO001", "ThumbnailFunction"),
        ("CO002", "ThumbnailFunction"),
        ("CO003", "ThumbnailFunction"),
        ("CO004", "ThumbnailFunction"),
        ("CO005", "AuditLogs"),
        ("CO006", "UploadBucket"),
    },
}
FILES = [SEED / name for name in list(EXPECTED)[:3]] + [GAPS]


def co_rules() -> list[Rule]:
    return make_rules([cls for rid, cls in builtin_rules().items() if rid.startswith("CO")])


def cli_findings(*args: str) -> list[dict[str, object]]:
    run = run_cfnfix("check", "--format", "json", *args)
    assert run.returncode in (0, 1), run.stderr
    found: list[dict[str, object]] = json.loads(run.stdout)["findings"]
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_gap_is_reported_once_on_its_resource(path: Path) -> None:
    findings = check(path.read_text(encoding="utf-8"), co_rules(), path.name)
    pairs = [(f.rule.id, f.resource) for f in findings]
    assert len(pairs) == len(set(pairs)), pairs
    assert set(pairs) == EXPECTED[path.name]


def test_log_retention_maximum_is_opt_in_and_configurable(tmp_path: Path) -> None:
    by_default = {f["rule"] for f in cli_findings(str(GAPS))}
    assert "CO005" not in by_default and "CO001" in by_default
    selected = cli_findings("--select", "CO005", str(GAPS))
    assert [f["resource"] for f in selected] == ["AuditLogs"]
    config = tmp_path / "cfnfix.toml"
    config.write_text("[rules.CO005]\nmaximum-days = 3653\n", encoding="utf-8")
    assert not cli_findings("--config", str(config), "--select", "CO005", str(GAPS))


def test_log_retention_fix_lowers_to_an_accepted_value(tmp_path: Path) -> None:
    target = tmp_path / GAPS.name
    shutil.copyfile(GAPS, target)
    run = run_cfnfix("fix", "--unsafe-fixes", "--select", "CO005", str(target))
    assert run.returncode == 0, run.stdout + run.stderr
    template = Template.parse(read_source(target))
    assert template.resources["AuditLogs"].properties["RetentionInDays"] == 365
    if validate.available():
        assert not [m for m in validate.lint_text(target.read_text()) if m.rule[0] in "EW"]


def test_schedule_only_function_needs_no_reserved_concurrency() -> None:
    findings = check(GAPS.read_text(encoding="utf-8"), co_rules(), GAPS.name)
    assert not [f for f in findings if f.resource == "NightlyReportFunction"]


def test_corpus_checks_without_crash_and_fixes_are_stable(corpus_files: list[Path]) -> None:
    rules = co_rules()
    for path in corpus_files:
        try:
            template = Template.parse(read_source(path))
        except Exception:  # unreadable files are the loader's concern
            continue
        check(template.text, rules, path.name)  # raises if a rule crashes
        outcome = fix(template.text, rules, unsafe=True, name=path.name)
        assert not outcome.refused, path.name
        if outcome.template.text != template.text:
            parse(outcome.template.text, path.name)
            assert not fix(outcome.template.text, rules, unsafe=True, name=path.name).applied
            if validate.available():
                assert not validate.new_errors(template.text, outcome.template.text), path.name
