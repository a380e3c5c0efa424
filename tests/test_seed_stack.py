"""The seed's broken image-processing stack and its corrected reference stack, end to end
through the command line: every failure class cfnfix has rules for is reported, fixing
with unsafe fixes leaves nothing fixable, the result passes cfn-lint, and the reference
stack passes every rule."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cfnfix import validate
from tests.conftest import FIXTURES, ROOT, run_cfnfix

SEEDS = [
    "image-processing-broken.yaml",
    "image-processing-broken.json",
    "image-processing-broken-sam.yaml",
]

# The seed analysis's failure classes, by the cfnfix rules that catch them.
SEED_CLASSES = {
    "hardcoded layer bucket (issues 1, 3)": {"HC001"},
    "missing iac-rlhf-amazon tag (issue 2)": {"TG001"},
    "no dead-letter handling (issue 4)": {"DL001"},
    "no log retention (issue 6)": {"RT001", "RT002"},
    "no deletion policies on stateful resources (rollback)": {"RT003"},
    "no backup strategies (rollback)": {"RT005", "RT008"},
    "security: public access, encryption, TLS (issue 5)": {"SE001", "SE002", "SE003"},
    "security: encryption key management (issue 5)": {"SE005", "SE006"},
    "no CloudWatch dashboard (issue 6)": {"MO005"},
    "cost: no lifecycle policies, unbounded concurrency (issue 7)": {"CO003", "CO006"},
}


def findings(path: Path) -> list[dict[str, object]]:
    result = run_cfnfix("check", "--format", "json", str(path))
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    found: list[dict[str, object]] = data["findings"]
    return found


@pytest.mark.parametrize("name", SEEDS)
def test_every_seed_failure_class_is_reported(name: str) -> None:
    rules = {str(f["rule"]) for f in findings(FIXTURES / "seed" / name)}
    missing = [cls for cls, ids in SEED_CLASSES.items() if not ids & rules]
    assert not missing, f"not reported: {missing}"


def test_untagged_alarms_and_role_are_reported() -> None:
    tagged = {
        str(f["resource"])
        for f in findings(FIXTURES / "seed" / "image-processing-broken.yaml")
        if f["rule"] == "TG001"
    }
    assert {"ErrorAlarm", "ThrottleAlarm", "ImageProcessorRole"} <= tagged


@pytest.mark.parametrize("name", SEEDS)
def test_fixing_the_seed_leaves_nothing_fixable_and_passes_cfn_lint(
    name: str, tmp_path: Path
) -> None:
    path = tmp_path / name
    shutil.copy(FIXTURES / "seed" / name, path)
    result = run_cfnfix("fix", "--unsafe-fixes", "--format", "json", str(path))
    assert result.returncode in (0, 1), result.stderr
    remaining = json.loads(result.stdout)["findings"]
    assert not [f for f in remaining if f["fix"]], remaining
    before = path.read_bytes()
    run_cfnfix("fix", "--unsafe-fixes", str(path))
    assert path.read_bytes() == before, "a second fix must change nothing"
    if validate.available():
        problems = [m for m in validate.lint_text(path.read_text()) if m.rule[0] in "EW"]
        assert not problems, problems


def test_reference_stack_passes_every_rule() -> None:
    result = run_cfnfix("check", str(ROOT / "reference_stack" / "template.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All checks passed" in result.stdout
