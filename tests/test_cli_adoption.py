"""What a platform team needs before rolling cfnfix out (issue 15): mistakes reported
once before any file is read, honest counts, `fix --diff` on the original lines, file
selection for large repositories, CI levers, and source snippets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cfnfix.testing import CliResult, run_cli
from tests.conftest import run_cfnfix

LOG_GROUP = (
    "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: app\n"
)
FIXED = LOG_GROUP + "      RetentionInDays: 365\n"
TOPIC = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> CliResult:
    """The command line in process (faster than a subprocess per case)."""
    return run_cli(args, stdin=stdin, env={"NO_COLOR": "1", **(env or {})})


# -- 2: mistakes reported once, before any file is read ------------------------------


def test_unknown_selector_is_reported_once_before_walking(tmp_path: Path) -> None:
    for i in range(5):
        write(tmp_path / f"t{i}.yaml", LOG_GROUP)
    result = cli("check", "--select", "ZZ999,retension", "--ignore", "rt001", str(tmp_path))
    assert result.exit_code == 2
    assert result.stdout == ""  # nothing checked, no "All checks passed"
    assert result.stderr.splitlines() == [
        "cfnfix: error: --select: unknown rule selector 'ZZ999' (not an id, name or family)",
        "cfnfix: error: --select: unknown rule selector 'retension' (not an id, name or "
        "family) (did you mean 'retention'?)",
        "cfnfix: error: --ignore: unknown rule selector 'rt001' (not an id, name or family) "
        "(did you mean 'RT001'?)",
    ]


def test_configuration_problems_each_once_with_suggestions(tmp_path: Path) -> None:
    config = write(
        tmp_path / ".cfnfix.toml",
        "selekt = ['RT']\nexclud = []\nignore = ['dead-leter']\n"
        "[rules.log-group-retention]\ndefault-days = 30\n",
    )
    for i in range(4):
        write(tmp_path / "sub" / f"t{i}.yaml", LOG_GROUP)
    result = cli("check", str(tmp_path))
    assert result.exit_code == 2 and result.stdout == ""
    errors = result.stderr.splitlines()
    assert len(errors) == len(set(errors)) == 2, errors
    assert f"cfnfix: error: {config}: exclud: unknown key (did you mean 'exclude'?)" in errors
    assert f"cfnfix: error: {config}: selekt: unknown key (did you mean 'select'?)" in errors
    # once the keys are right, the selectors and rule names are checked too
    write(config, "ignore = ['dead-leter']\n[rules.log-group-retention]\ndefault-days = 30\n")
    errors = run_cfnfix("check", str(tmp_path)).stderr.splitlines()
    assert errors == [
        f"cfnfix: error: {config}: unknown rule selector 'dead-leter' (not an id, name or "
        "family) (did you mean 'dead-letter'?)",
        f"cfnfix: error: {config}: rules.log-group-retention: no such rule "
        "(did you mean 'log-group-without-retention'?)",
    ]


def test_nested_configuration_is_checked_before_any_file(tmp_path: Path) -> None:
    write(tmp_path / "a" / "t.yaml", LOG_GROUP)
    write(tmp_path / "b" / ".cfnfix.toml", "select = ['NOPE']\n")
    for i in range(3):
        write(tmp_path / "b" / f"t{i}.yaml", LOG_GROUP)
    result = cli("fix", str(tmp_path))
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "'NOPE'" in result.stderr
    assert (tmp_path / "a" / "t.yaml").read_text() == LOG_GROUP  # nothing was fixed


def test_broken_rules_dir_is_one_error(tmp_path: Path) -> None:
    write(tmp_path / "rules" / "broken.py", "raise RuntimeError('boom')\n")
    for i in range(3):
        write(tmp_path / f"t{i}.yaml", LOG_GROUP)
    result = cli("check", "--rules-dir", str(tmp_path / "rules"), str(tmp_path))
    assert result.exit_code == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("cfnfix: error: cannot load rules from") and "boom" in line


# -- 3: honest counts ------------------------------------------------------------------


def test_counts_are_exact_and_passed_only_when_clean(tmp_path: Path) -> None:
    write(tmp_path / "bad.yaml", LOG_GROUP)
    write(tmp_path / "good.yaml", LOG_GROUP.replace("app\n", "app\n      RetentionInDays: 7\n"))
    write(tmp_path / "broken.yaml", "Resources: [\n")
    write(tmp_path / "notes.json", '{"name": "not a template"}\n')
    result = cli("check", "--select", "RT001", "--format", "json", str(tmp_path))
    assert result.exit_code == 2
    summary = json.loads(result.stdout)["summary"]
    assert summary["files"] == 2 and summary["files_with_findings"] == 1
    assert summary["files_failed"] == 1 and summary["files_skipped"] == 1
    assert summary["findings"] == 1 and summary["file_errors"] == 1
    assert summary["rule_errors"] == 0 and summary["exit_code"] == 2
    text = cli("check", "--select", "RT001", str(tmp_path)).stdout.splitlines()[-1]
    assert text == (
        "Found 1 finding (1 warning) in 1 file (2 checked). 1 fixable with `cfnfix fix` [*]. "
        "1 file could not be processed."
    )
    (tmp_path / "bad.yaml").unlink()
    text = cli("check", "--select", "RT001", str(tmp_path)).stdout.splitlines()[-1]
    assert text == "No findings in 1 file checked. 1 file could not be processed."


def test_a_rule_error_counts_the_file_as_checked(tmp_path: Path) -> None:
    write(
        tmp_path / "rules" / "crash.py",
        """
from cfnfix.rule import Rule


class Finds(Rule):
    id = "ZZ901"
    name = "finds"
    family = "test"
    summary = what = why = "Finds every resource."

    def check(self, template):
        for resource in template.resources.values():
            yield self.finding(resource.path, "found")


class Crashes(Rule):
    id = "ZZ902"
    name = "crashes"
    family = "test"
    summary = what = why = "Crashes."

    def check(self, template):
        raise TypeError("unhashable type: 'MapNode'")
""",
    )
    path = write(tmp_path / "t.yaml", TOPIC + "  U:\n    Type: AWS::SNS::Topic\n")
    args = ["check", "--rules-dir", str(tmp_path / "rules"), "--select", "test", str(path)]
    result = cli(*args)
    assert result.exit_code == 2
    assert "internal error in rule ZZ902" in result.stderr
    assert result.stdout.splitlines()[-1] == (
        "Found 2 findings (2 warnings) in 1 file. 1 rule error (a rule crashed; see above)."
    )
    summary = json.loads(cli(*args, "--format", "json").stdout)["summary"]
    assert summary["files"] == 1 and summary["files_failed"] == 0 and summary["rule_errors"] == 1


def test_diff_that_would_change_never_says_passed(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", LOG_GROUP)
    result = cli("fix", "--diff", "--select", "RT001", str(path))
    assert result.exit_code == 1 and path.read_text() == LOG_GROUP
    assert "passed" not in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "Would fix 1 finding in 1 file. No findings would remain (1 file checked)."
    )
    data = json.loads(
        cli("fix", "--diff", "--select", "RT001", "--format", "json", str(path)).stdout
    )
    assert data["summary"]["files_changed"] == 1 and data["summary"]["exit_code"] == 1


# -- 4: fix --diff reports on the original lines ----------------------------------------


UNFIXABLE_RULE = """
from cfnfix.rule import Rule


class EveryTopic(Rule):
    id = "ZZ903"
    name = "every-topic"
    family = "test"
    summary = what = why = "Reports every topic, with no fix."

    def check(self, template):
        for resource in template.resources_of("AWS::SNS::Topic"):
            yield self.finding(resource.prop_path("DisplayName"), "topic")
"""


def test_diff_reports_remaining_findings_on_the_original_lines(tmp_path: Path) -> None:
    # RT001's fix inserts a line into the log group above the topic: what remains (the
    # topic's finding) must point at the topic's line in the file on disk (line 7), not
    # at its line in the fixed text, which exists nowhere.
    write(tmp_path / "rules" / "every_topic.py", UNFIXABLE_RULE)
    text = (
        "Resources:\n"
        "  Logs:\n"
        "    Type: AWS::Logs::LogGroup\n"
        "    Properties:\n"
        "      LogGroupName: app\n"
        "  Topic:\n"
        "    Type: AWS::SNS::Topic\n"
        "    Properties:\n"
        "      DisplayName: t\n"
    )
    path = write(tmp_path / "t.yaml", text)
    args = ["--rules-dir", str(tmp_path / "rules"), "--select", "RT001,ZZ903", str(path)]
    check = cli("check", "--format", "json", *args)
    [before] = [f for f in json.loads(check.stdout)["findings"] if f["rule"] == "ZZ903"]
    assert before["line"] == 9
    diff = cli("fix", "--diff", "--format", "json", *args)
    data = json.loads(diff.stdout)
    assert [f["rule"] for f in data["fixed"]] == ["RT001"] and path.read_text() == text
    [after] = data["findings"]
    assert (after["line"], after["column"]) == (before["line"], before["column"])
    assert (after["end_line"], after["end_column"]) == (before["end_line"], before["end_column"])
    shown = cli("fix", "--diff", "--show-source", *args).stdout
    assert f"{path}:9:7: ZZ903" in shown and "9 |       DisplayName: t" in shown
    # `fix` itself reports on the file it wrote
    written = json.loads(cli("fix", "--format", "json", *args).stdout)["findings"]
    assert [f["line"] for f in written] == [10]


# -- 6: file selection -----------------------------------------------------------------


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", ".")
    write(root / ".gitignore", "build/\n*.json\n!keep.json\n/top.yaml\nsub/**/x.yaml\n")
    write(root / "a" / ".gitignore", "!inner.json\nc/\n")
    write(root / ".git" / "info" / "exclude", "local.yaml\n")
    files = [
        "t.yaml", "top.yaml", "a/top.yaml", "a/inner.json", "a/other.json", "keep.json",
        "a/b/keep.json", "build/t.yaml", "a/b/c/t.yaml", "a/b/t.yaml", "sub/gen/x.yaml",
        "sub/x.yaml", "sub/gen/y.yaml", "local.yaml", "a/local.yaml",
    ]  # fmt: skip
    for name in files:
        write(root / name, TOPIC)
    return root


def test_walk_respects_gitignore_as_git_does(repository: Path) -> None:
    listed = cli("check", "--show-files", str(repository)).stdout.splitlines()
    shown = {Path(line).relative_to(repository).as_posix() for line in listed}
    every = sorted(
        p.relative_to(repository).as_posix()
        for p in repository.rglob("*")
        if p.is_file() and ".git" not in p.parts and p.suffix in (".yaml", ".json")
    )
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=repository,
        input="\n".join(every) + "\n",
        capture_output=True,
        text=True,
    ).stdout.split()
    assert ignored  # the fixture ignores something
    assert shown == set(every) - set(ignored)
    unfiltered = cli("check", "--show-files", "--no-respect-gitignore", str(repository))
    assert len(unfiltered.stdout.splitlines()) == len(every)


def test_gitignore_above_the_walk_start_applies(repository: Path) -> None:
    listed = cli("check", "--show-files", str(repository / "sub")).stdout.splitlines()
    assert [Path(p).name for p in listed] == ["y.yaml"]


def test_exclude_flag_dedup_and_show_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / ".cfnfix.toml", "exclude = ['generated/*']\nselect = ['RT001']\n")
    write(tmp_path / "t.yaml", TOPIC)
    write(tmp_path / "generated" / "g.yaml", TOPIC)
    write(tmp_path / "vendor" / "v.yaml", TOPIC)
    monkeypatch.chdir(tmp_path)
    result = cli("check", "--show-files", "--exclude", "vendor/*", ".", "t.yaml", "./t.yaml")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["t.yaml"]
    settings = cli("check", "--show-settings", "t.yaml").stdout
    assert f'config file = "{tmp_path / ".cfnfix.toml"}"' in settings
    assert 'select = ["RT001"]' in settings and 'enabled rules (1) = ["RT001"]' in settings
    checked = json.loads(cli("check", "--format", "json", "t.yaml", "./t.yaml").stdout)
    assert checked["summary"]["files"] == 1


def test_stdin_check_and_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "stacks" / ".cfnfix.toml", "select = ['RT001']\n")
    monkeypatch.chdir(tmp_path)
    name = "stacks/app.yaml"
    result = cli("check", "--stdin-filename", name, "-", stdin=LOG_GROUP + TOPIC[10:])
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{name}:2:3: RT001 ")  # its config: only RT001
    fixed = cli("fix", "--stdin-filename", name, "-", stdin=LOG_GROUP)
    assert fixed.exit_code == 0
    assert fixed.stdout == FIXED  # the fixed text, and only it, on standard output
    assert "fixed RT001" in fixed.stderr
    broken = cli("fix", "-", stdin="Resources: [\n")
    assert broken.exit_code == 2 and broken.stdout == "Resources: [\n"
    assert not list(tmp_path.glob("*.yaml"))  # nothing written to disk
    assert cli("check", "-", "t.yaml", stdin="").exit_code == 2


# -- 7: CI levers ----------------------------------------------------------------------


def test_exit_zero_and_fail_level(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", LOG_GROUP)  # RT001 is a warning
    assert cli("check", "--select", "RT001", str(path)).exit_code == 1
    assert cli("check", "--select", "RT001", "--exit-zero", str(path)).exit_code == 0
    assert cli("check", "--select", "RT001", "--fail-level", "error", str(path)).exit_code == 0
    assert cli("check", "--select", "RT001", "--fail-level", "warning", str(path)).exit_code == 1
    broken = write(tmp_path / "broken.yaml", "Resources: [\n")
    assert cli("check", "--exit-zero", str(broken)).exit_code == 2  # errors still fail


def test_force_color_and_no_color(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", LOG_GROUP)
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    command = [sys.executable, "-m", "cfnfix", "check", "--select", "RT001", str(path)]

    def run(**extra: str) -> str:
        return subprocess.run(
            command, capture_output=True, text=True, env={**env, **extra}, timeout=60
        ).stdout

    assert "\x1b[" in run(FORCE_COLOR="1")
    assert "\x1b[" not in run(FORCE_COLOR="1", NO_COLOR="1")
    assert "\x1b[" not in run()  # not a terminal


def test_statistics_alone_prints_only_the_table_and_follows_output(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", LOG_GROUP + "  More:\n    Type: AWS::Logs::LogGroup\n")
    result = cli("check", "--select", "RT001", "--statistics", str(path))
    assert result.stdout == "2  RT001  [*]  log-group-without-retention\n"
    report = tmp_path / "stats.json"
    result = cli(
        "check", "--select", "RT001", "--statistics", "--format", "json",
        "--output", str(report), str(path),
    )  # fmt: skip
    assert result.stdout == "" and result.exit_code == 1
    assert json.loads(report.read_text()) == [
        {"rule": "RT001", "name": "log-group-without-retention", "count": 2, "fixable": 2}
    ]
    assert cli("check", "--statistics", "--format", "sarif", str(path)).exit_code == 2


def test_rules_lists_a_family() -> None:
    result = cli("rules", "suppression")
    ids = [line.split()[0] for line in result.stdout.splitlines()]
    assert result.exit_code == 0 and ids and all(i.startswith("SP") for i in ids)
    assert "SP003" in ids
    missing = cli("rules", "retension")
    assert missing.exit_code == 2 and "did you mean 'retention'?" in missing.stderr


# -- 10: source snippets ---------------------------------------------------------------


def test_show_source_puts_a_caret_under_each_finding(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", LOG_GROUP)
    plain = cli("check", "--select", "RT001", str(path)).stdout
    assert " | " not in plain  # off when not on a terminal: one line per finding
    lines = cli("check", "--select", "RT001", "--show-source", str(path)).stdout.splitlines()
    assert lines[0].startswith(f"{path}:2:3: RT001")
    assert lines[1:4] == ["  |", "2 |   Logs:", "  |   ^^^^"]
