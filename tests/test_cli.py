"""The command line: output formats, exit codes, fix/--diff, rules, config, plugins."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from tests.conftest import ROOT, run_cfnfix

LOG_GROUP = (
    "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: app\n"
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_check_text_output_and_exit_codes(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", LOG_GROUP)
    result = run_cfnfix("check", "--select", "RT001", str(bad))
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert first == (
        f"{bad}:2:3: RT001 [warning] log group has no RetentionInDays: "
        "its logs are kept and billed forever (Logs) [*]"
    )
    assert "Found 1 finding (1 warning) in 1 file." in result.stdout
    good = write(tmp_path / "good.yaml", LOG_GROUP + "      RetentionInDays: 7\n")
    result = run_cfnfix("check", "--select", "RT001", str(good))
    assert result.returncode == 0 and "All checks passed (1 file)." in result.stdout


def test_json_output_shape(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", LOG_GROUP)
    result = run_cfnfix("check", "--select", "RT001", "--format", "json", str(bad))
    data = json.loads(result.stdout)
    [finding] = data["findings"]
    assert finding == {
        "rule": "RT001",
        "name": "log-group-without-retention",
        "family": "retention",
        "severity": "warning",
        "file": str(bad),
        "line": 2,
        "column": 3,
        "end_line": 5,
        "end_column": 24,
        "resource": "Logs",
        "path": ["Resources", "Logs"],
        "message": "log group has no RetentionInDays: its logs are kept and billed forever",
        "fix": {"applicability": "safe", "description": "set RetentionInDays to 365"},
    }
    assert data["summary"]["findings"] == 1 and data["summary"]["fixable_safe"] == 1


def test_fix_writes_in_place_keeps_mode_and_second_fix_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", LOG_GROUP)
    path.chmod(0o640)
    result = run_cfnfix("fix", "--select", "RT001", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{path}:2: fixed RT001 (Logs): set RetentionInDays to 365" in result.stdout
    assert path.read_text() == LOG_GROUP + "      RetentionInDays: 365\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    before = path.read_bytes()
    again = run_cfnfix("fix", "--select", "RT001", str(path))
    assert again.returncode == 0 and path.read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_fix_through_symlink_rewrites_the_target(tmp_path: Path) -> None:
    target = write(tmp_path / "real" / "t.yaml", LOG_GROUP)
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    result = run_cfnfix("fix", "--select", "RT001", str(link))
    assert result.returncode == 0
    assert link.is_symlink() and "RetentionInDays: 365" in target.read_text()


def test_diff_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", LOG_GROUP)
    result = run_cfnfix("fix", "--diff", "--select", "RT001", str(path))
    assert result.returncode == 1
    assert "+      RetentionInDays: 365" in result.stdout
    assert path.read_text() == LOG_GROUP


def test_unsafe_fixes_only_on_request(tmp_path: Path) -> None:
    text = "Resources:\n  L:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      RetentionInDays: 100\n"
    path = write(tmp_path / "t.yaml", text)
    result = run_cfnfix("fix", "--select", "RT001", str(path))
    assert result.returncode == 1 and path.read_text() == text
    assert "1 more fixable with `--unsafe-fixes`" in result.stdout
    result = run_cfnfix("fix", "--unsafe-fixes", "--select", "RT001", str(path))
    assert result.returncode == 0 and "RetentionInDays: 120" in path.read_text()


def test_rules_listing_and_documentation() -> None:
    result = run_cfnfix("rules")
    assert result.returncode == 0 and "RT001  log-group-without-retention" in result.stdout
    listing = json.loads(run_cfnfix("rules", "--format", "json").stdout)
    assert {"id", "name", "family", "severity", "summary", "fix", "options"} <= set(listing[0])
    doc = run_cfnfix("rules", "RT001").stdout
    for heading in ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety"):
        assert f"### {heading}" in doc
    missing = run_cfnfix("rules", "XX999")
    assert missing.returncode == 2 and "no rule 'XX999'" in missing.stderr


def test_config_found_upward_and_validated(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        "[tool.cfnfix]\nselect = ['retention']\n[tool.cfnfix.rules.RT001]\ndefault-days = 30\n",
    )
    path = write(tmp_path / "deep" / "dir" / "t.yaml", LOG_GROUP)
    result = run_cfnfix("fix", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "RetentionInDays: 30" in path.read_text()

    write(tmp_path / "pyproject.toml", "[tool.cfnfix]\nselekt = ['RT']\n")
    result = run_cfnfix("check", str(path))
    assert result.returncode == 2
    assert result.stderr.endswith(
        "pyproject.toml [tool.cfnfix]: selekt: unknown key (did you mean 'select'?)\n"
    )
    assert result.stdout == ""  # nothing checked

    write(tmp_path / "pyproject.toml", "[tool.cfnfix.rules.RT001]\ndefault-days = 31\n")
    result = run_cfnfix("check", str(path))
    assert result.returncode == 2 and "rules.RT001" in result.stderr and "31" in result.stderr


def test_cli_flags_override_config(tmp_path: Path) -> None:
    write(tmp_path / ".cfnfix.toml", "ignore = ['RT001']\n")
    path = write(tmp_path / "t.yaml", LOG_GROUP)
    assert run_cfnfix("check", "--select", "RT001", str(path)).returncode == 0  # ignore wins
    plugins = str(ROOT / "tests" / "plugins")
    overridden = run_cfnfix(
        "check", "--rules-dir", plugins, "--select", "RT001", "--ignore", "stress", str(path)
    )
    assert overridden.returncode == 1, overridden.stderr


def test_exclude_globs(tmp_path: Path) -> None:
    write(tmp_path / ".cfnfix.toml", "exclude = ['generated/*']\n")
    write(tmp_path / "generated" / "t.yaml", LOG_GROUP)
    write(tmp_path / "src" / "t.yaml", "Resources:\n  T:\n    Type: AWS::SNS::Topic\n")
    result = run_cfnfix("check", "--select", "RT001", str(tmp_path))
    assert result.returncode == 0, result.stdout


def test_unknown_selector_is_a_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", LOG_GROUP)
    result = run_cfnfix("check", "--select", "NOPE", str(path))
    assert result.returncode == 2 and "unknown rule selector 'NOPE'" in result.stderr


def test_rules_dir_plugin_loads_like_builtin(tmp_path: Path) -> None:
    plugin = tmp_path / "plugins" / "my_rule.py"
    write(
        plugin,
        """
from cfnfix.changes import set_property
from cfnfix.rule import Example, Fix, Rule


class TopicNeedsName(Rule):
    id = "AC001"
    name = "topic-needs-display-name"
    family = "acme"
    summary = "SNS topics need a DisplayName"
    what = "Reports topics without DisplayName."
    why = "Our pager shows it."
    fix_availability = "always"

    def check(self, template):
        for r in template.resources_of("AWS::SNS::Topic"):
            if "DisplayName" not in r.properties:
                yield self.finding(r.path, "no DisplayName",
                    fix=Fix.safe("set DisplayName", set_property(r.logical_id, "DisplayName", r.logical_id)))
""",
    )
    path = write(tmp_path / "t.yaml", "Resources:\n  T:\n    Type: AWS::SNS::Topic\n")
    result = run_cfnfix("fix", "--rules-dir", str(plugin.parent), "--select", "acme", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert path.read_text().endswith("    Properties:\n      DisplayName: T\n")


def test_python_dash_m_and_version() -> None:
    result = run_cfnfix("--version")
    assert result.returncode == 0 and "cfnfix" in result.stdout


def test_no_color_when_not_a_terminal(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", LOG_GROUP)
    result = run_cfnfix("check", str(path))
    assert "\x1b[" not in result.stdout


def test_readme_commands_are_real() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "python3 -m pytest" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 -m pytest" in ci
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
