"""The command line's parsing (argparse, which replaced click for start-up): what click
checked and cfnfix now checks itself (path options, --jobs, --x/--no-x pairs, options
among the paths, `--`), usage errors (exit 2, one line, no traceback), --version, help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cfnfix import __version__
from cfnfix.testing import CliResult, run_cli
from tests.conftest import run_cfnfix

LOG_GROUP = "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n"


def cli(*args: str) -> CliResult:
    return run_cli(args, env={"NO_COLOR": "1"})


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(LOG_GROUP)
    return path


def usage_error(result: CliResult, command: str = "check") -> str:
    """The error line of a usage error, after checking that it is one: exit 2, nothing on
    standard output, the usage line and one error line."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    usage, error = result.stderr.splitlines()
    assert usage.startswith(f"usage: cfnfix {command}".rstrip())
    prefix = f"cfnfix {command}: error: " if command else "cfnfix: error: "
    assert error.startswith(prefix), error
    return error.removeprefix(prefix)


# -- path options, checked as click.Path checked them ----------------------------------


@pytest.mark.parametrize(
    ("option", "given", "message"),
    [
        ("--config", "missing.toml", "argument --config: File 'missing.toml' does not exist."),
        ("--config", "folder", "argument --config: File 'folder' is a directory."),
        ("--output", "folder", "argument --output: File 'folder' is a directory."),
        ("--baseline", "folder", "argument --baseline: File 'folder' is a directory."),
        ("--write-baseline", "folder", "argument --write-baseline: File 'folder' is a directory."),
        ("--stdin-filename", "folder", "argument --stdin-filename: File 'folder' is a directory."),
        ("--rules-dir", "t.yaml", "argument --rules-dir: Directory 't.yaml' is a file."),
    ],
)
def test_path_options_are_checked_before_anything_is_read(
    template: Path, monkeypatch: pytest.MonkeyPatch, option: str, given: str, message: str
) -> None:
    (template.parent / "folder").mkdir()
    monkeypatch.chdir(template.parent)
    assert usage_error(cli("check", option, given, "t.yaml")) == message


def test_path_options_that_may_be_new_or_missing(
    template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(template.parent)
    written = cli("check", "--select", "RT001", "--output", "report.txt", "t.yaml")
    assert written.exit_code == 1 and "RT001" in (template.parent / "report.txt").read_text()
    # a --rules-dir or --baseline that does not exist is cfnfix's own error (not argparse's)
    missing = cli("check", "--rules-dir", "nowhere", "t.yaml")
    assert missing.exit_code == 2 and missing.stderr.startswith("cfnfix: error: rules directory")


def test_other_commands_check_their_paths_too(
    template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (template.parent / "folder").mkdir()
    monkeypatch.chdir(template.parent)
    assert usage_error(cli("rules", "--rules-dir", "t.yaml"), "rules") == (
        "argument --rules-dir: Directory 't.yaml' is a file."
    )
    assert usage_error(
        cli("convert", "--to", "json", "--output", "folder", "t.yaml"), "convert"
    ) == ("argument --output: File 'folder' is a directory.")


def test_an_unreadable_path_is_a_usage_error(
    template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """click.Path checked that an existing path is readable (root reads everything, so
    the check is made to fail)."""
    monkeypatch.chdir(template.parent)
    monkeypatch.setattr("cfnfix.cli.os.access", lambda path, mode: False)
    assert usage_error(cli("check", "t.yaml")) == "argument PATHS: Path 't.yaml' is not readable."


# -- values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("-1", "argument -j/--jobs: -1 is not in the range x>=0."),
        ("abc", "argument -j/--jobs: 'abc' is not a valid integer."),
        ("1.5", "argument -j/--jobs: '1.5' is not a valid integer."),
    ],
)
def test_jobs_is_a_whole_number_from_zero(template: Path, given: str, message: str) -> None:
    assert usage_error(cli("check", "--jobs", given, str(template))) == message
    assert usage_error(cli("check", "-j", given, str(template))) == message


@pytest.mark.parametrize("jobs", [["-j0"], ["-j", "2"], ["--jobs=1"], ["--jobs", "0"]])
def test_jobs_forms(tmp_path: Path, jobs: list[str]) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(LOG_GROUP)
    result = cli("check", *jobs, "--select", "RT001", "--format", "json", str(tmp_path))
    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"]["files"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "argument --format: invalid choice: 'xml' (choose from "),
        (["--fail-level", "fatal"], "argument --fail-level: invalid choice: 'fatal' (choose "),
        (["--format"], "argument --format: expected one argument"),
        (["--exit-zero=yes"], "argument --exit-zero: ignored explicit argument 'yes'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--sel", "RT001"], "unrecognized arguments: --sel"),  # no abbreviations (as click)
        (["--unsafe-fixes"], "unrecognized arguments: --unsafe-fixes"),  # fix's, not check's
        (["--version"], "unrecognized arguments: --version"),
    ],
)
def test_usage_errors_are_one_line(template: Path, args: list[str], message: str) -> None:
    assert usage_error(cli("check", str(template), *args)).startswith(message)


def test_flag_pairs_default_to_none_and_the_last_one_wins(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("ignored.yaml\n")
    for name in ("kept.yaml", "ignored.yaml"):
        (tmp_path / name).write_text(LOG_GROUP)

    def listed(*flags: str) -> list[str]:
        result = cli("check", "--show-files", *flags, str(tmp_path))
        assert result.exit_code == 0, result.output
        return sorted(Path(line).name for line in result.stdout.splitlines())

    assert listed() == ["kept.yaml"]  # None: the configuration's default, on
    assert listed("--no-respect-gitignore") == ["ignored.yaml", "kept.yaml"]
    assert listed("--no-respect-gitignore", "--respect-gitignore") == ["kept.yaml"]
    assert listed("--respect-gitignore", "--no-respect-gitignore") == ["ignored.yaml", "kept.yaml"]
    source = tmp_path / "kept.yaml"
    shown = cli("check", "--select", "RT001", "--show-source", str(source)).stdout
    assert "2 |   Logs:" in shown
    hidden = cli("check", "--select", "RT001", "--show-source", "--no-show-source", str(source))
    assert "2 |   Logs:" not in hidden.stdout and hidden.exit_code == 1


def test_repeated_options_add_up_and_options_go_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(LOG_GROUP)
    monkeypatch.chdir(tmp_path)
    settings = cli("check", "a.yaml", "--select", "RT001", "--show-settings", "--select", "TG001")
    assert 'select = ["RT001", "TG001"]' in settings.stdout
    result = cli("check", "a.yaml", "--select", "RT001", "--format", "json", "b.yaml")
    assert json.loads(result.stdout)["summary"]["files"] == 2


def test_after_a_double_dash_everything_is_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "-odd.yaml").write_text(LOG_GROUP)
    (tmp_path / "b.yaml").write_text(LOG_GROUP)
    monkeypatch.chdir(tmp_path)
    result = cli("check", "b.yaml", "--select", "RT001", "--", "-odd.yaml")
    assert result.exit_code == 1
    assert [line.split()[0] for line in result.stdout.splitlines()[:2]] == [
        "-odd.yaml:2:3:",
        "b.yaml:2:3:",
    ]
    assert usage_error(cli("rules", "--", "RT001", "RT002"), "rules") == (
        "unrecognized arguments: RT002"
    )
    assert cli("rules", "--", "RT001").stdout.startswith("## RT001")
    assert usage_error(cli("convert", "--to", "json", "--"), "convert") == (
        "the following arguments are required: PATHS"
    )


def test_convert_needs_to_and_paths() -> None:
    assert usage_error(cli("convert", "x.yaml"), "convert") == (
        "the following arguments are required: --to"
    )
    assert usage_error(cli("convert", "--to", "yaml"), "convert") == (
        "the following arguments are required: PATHS"
    )
    assert usage_error(cli("convert", "--to", "xml", "x.yaml"), "convert").startswith(
        "argument --to: invalid choice: 'xml'"
    )


# -- the commands, help and version ------------------------------------------------------


def test_version_is_the_line_click_printed() -> None:
    result = run_cfnfix("--version")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == f"cfnfix, version {__version__}\n"


def test_no_command_prints_the_help_as_an_error() -> None:
    """As click's group did: the help on standard error, exit 2."""
    result = cli()
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("usage: cfnfix ")
    for name in ("check", "fix", "rules", "convert", "server"):
        assert f"\n  {name} " in result.stderr


def test_unknown_command_and_top_level_option() -> None:
    assert usage_error(cli("lint", "."), "").startswith(
        "argument COMMAND: invalid choice: 'lint' (choose from 'check', 'fix', 'rules'"
    )
    assert usage_error(cli("--bogus", "check"), "") == "unrecognized arguments: --bogus"


@pytest.mark.parametrize("command", ["check", "fix", "rules", "convert", "server"])
def test_help_of_each_command(command: str) -> None:
    for flag in ("--help", "-h"):
        result = cli(command, flag)
        assert result.exit_code == 0 and result.stderr == ""
        assert result.stdout.startswith(f"usage: cfnfix {command} ")
    top = cli("--help")
    assert top.exit_code == 0 and f"\n  {command} " in top.stdout


def test_help_keeps_every_option_and_its_text() -> None:
    text = " ".join(cli("check", "--help").stdout.split())
    for expected in (
        "Report findings in templates (files or directories).",
        "--respect-gitignore, --no-respect-gitignore",
        "-j, --jobs N Worker processes (default 0: one per core).",
        "--format {github,json,junit,sarif,text} Output format. [default: text]",
        "--write-baseline FILE Record every finding in this baseline file (then use --baseline).",
    ):
        assert expected in text
    fix = " ".join(cli("fix", "--help").stdout.split())
    assert "--unsafe-fixes" in fix and "--diff" in fix and "--validate" in fix
    assert "--write-baseline" not in fix
    convert = cli("convert", "--help").stdout
    assert "Key order is kept" in convert and "\n\nKey order" in convert  # paragraphs kept


def test_usage_errors_from_the_real_entry_point_have_no_traceback(template: Path) -> None:
    for args in (["check", "--bogus", str(template)], ["check", "-j", "-1"], ["nope"], []):
        result = run_cfnfix(*args)
        assert result.returncode == 2 and result.stdout == ""
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("usage: cfnfix")


def test_main_always_exits(template: Path) -> None:
    """main() ends with SystemExit, also when a command returns (as click's main did):
    the console script's exit code is the command's."""
    assert cli("rules", "RT001").exit_code == 0
    probe = "from cfnfix.cli import main\ntry:\n    main(['rules', 'RT001'])\nexcept SystemExit as e:\n    print('exit', e.code)\n"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=60,
    )
    assert result.stdout.rstrip().endswith("exit 0"), result.stderr


def test_a_one_file_check_imports_neither_click_nor_inspect(template: Path) -> None:
    probe = (
        "import sys\nfrom cfnfix.cli import main\ntry:\n    main(sys.argv[1:])\n"
        "except SystemExit:\n    pass\n"
        "print([m for m in ('click', 'inspect') if m in sys.modules], file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "check", str(template)],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=60,
    )
    assert result.stderr.splitlines()[-1] == "[]"
    assert "RT001" in result.stdout
