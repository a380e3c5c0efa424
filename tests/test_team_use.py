"""Baselines, parallel runs, statistics and cfn-lint validation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cfnfix import validate
from tests.conftest import run_cfnfix

LOGS = (
    "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: app\n"
)


def test_baseline_survives_unrelated_edits_and_reports_only_new(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(LOGS)
    base = tmp_path / "baseline.json"
    written = run_cfnfix("check", "--select", "RT001", "--write-baseline", str(base), str(path))
    assert written.returncode == 1 and base.is_file()
    entry = json.loads(base.read_text())["findings"][0]
    assert entry["file"] == "t.yaml" and entry["rule"] == "RT001" and entry["resource"] == "Logs"
    # unrelated edit: lines move
    path.write_text("# a new comment\nDescription: moved\n" + LOGS)
    again = run_cfnfix("check", "--select", "RT001", "--baseline", str(base), str(path))
    assert again.returncode == 0, again.stdout
    # a new finding is reported
    path.write_text(LOGS + "  More:\n    Type: AWS::Logs::LogGroup\n")
    new = run_cfnfix("check", "--select", "RT001", "--baseline", str(base), str(path))
    assert new.returncode == 1 and "(More)" in new.stdout and "(Logs)" not in new.stdout


def test_missing_baseline_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(LOGS)
    result = run_cfnfix("check", "--baseline", str(tmp_path / "nope.json"), str(path))
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_parallel_output_identical(corpus_files: list[Path], tmp_path: Path) -> None:
    for i, source in enumerate(corpus_files[:120]):
        shutil.copy(source, tmp_path / f"{i:03d}-{source.name}")
    one = run_cfnfix("check", "--jobs", "1", "--format", "json", str(tmp_path))
    two = run_cfnfix("check", "--jobs", "2", "--format", "json", str(tmp_path))
    assert one.returncode == two.returncode
    assert one.stdout == two.stdout and one.stderr == two.stderr
    assert json.loads(one.stdout)["summary"]["findings"] > 100


def test_statistics_table(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(LOGS + "  More:\n    Type: AWS::Logs::LogGroup\n")
    result = run_cfnfix("check", "--select", "RT001", "--statistics", str(path))
    assert result.stdout.rstrip().endswith("2  RT001  [*]  log-group-without-retention")


@pytest.mark.skipif(not validate.available(), reason="cfn-lint is not installed")
def test_validate_refuses_a_fix_that_introduces_a_cfn_lint_error(tmp_path: Path) -> None:
    rule = tmp_path / "rules" / "bad_fix.py"
    rule.parent.mkdir()
    rule.write_text(
        """
from cfnfix.changes import set_property
from cfnfix.rule import Fix, Rule


class BreaksTopics(Rule):
    id = "ZZ900"
    name = "breaks-topics"
    family = "test"
    summary = what = why = "A rule whose fix writes an invalid property."
    fix_availability = "always"

    def check(self, template):
        for r in template.resources_of("AWS::SNS::Topic"):
            if "NotAProperty" not in r.properties:
                yield self.finding(r.path, "topic", fix=Fix.safe(
                    "set NotAProperty", set_property(r.logical_id, "NotAProperty", 1)))
"""
    )
    path = tmp_path / "t.yaml"
    text = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n"
    path.write_text(text)
    args = ["--rules-dir", str(rule.parent), "--select", "ZZ900", str(path)]
    result = run_cfnfix("fix", "--validate", *args)
    assert path.read_text() == text
    assert "ZZ900: fixes not written: they would introduce cfn-lint E3002" in result.stdout
    assert result.returncode == 1
    unvalidated = run_cfnfix("fix", *args)
    assert unvalidated.returncode == 0 and "NotAProperty" in path.read_text()
