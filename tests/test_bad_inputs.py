"""The bad-input battery: every bad input gets one clear line and exit code 2, in bounded
time, with no traceback and no file modified (``check`` and ``fix`` alike)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cfnfix.errors import LoadError
from cfnfix.source import read_source
from tests.conftest import run_cfnfix

BOMB = (
    "a: &a [1]\n"
    + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        for p, c in zip("abcdefghi", "bcdefghij", strict=True)
    )
    + "Resources: *j\n"
)

CASES: dict[str, tuple[str, bytes, str]] = {
    "invalid_yaml": ("t.yaml", b"Resources:\n  Q: [unclosed\n", "invalid YAML"),
    "invalid_json": ("t.json", b'{"Resources": {"Q": }}', "invalid JSON"),
    "empty_file": ("t.yaml", b"", "empty document"),
    "binary_file": ("t.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
    "not_utf8": ("t.yaml", b"Resources:\n  Q: \xff\xfe\n", "not UTF-8"),
    "yaml_list": ("t.yaml", b"- Resources\n- x\n", "the document is a list"),
    "yaml_scalar": ("t.yaml", b"hello\n", "the document is a scalar"),
    "duplicate_keys": (
        "t.yaml",
        b"Resources:\n  Q: {Type: AWS::SQS::Queue}\n  Q: {Type: AWS::SNS::Topic}\n",
        "duplicate key 'Q'",
    ),
    "python_tag": (
        "t.yaml",
        b"Resources:\n  Q: !!python/object/apply:os.system [echo hi]\n",
        "unsupported YAML tag '!!python/object/apply:os.system'",
    ),
    "alias_bomb": ("t.yaml", BOMB.encode(), "alias bomb"),
    "deep_nesting": ("t.yaml", b"Resources: " + b"[" * 100_000 + b"]" * 100_000, "nesting deeper"),
    "multiple_documents": ("t.yaml", b"Resources: {}\n---\nResources: {}\n", "invalid YAML"),
}


@pytest.mark.parametrize("command", ["check", "fix"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file(tmp_path: Path, case: str, command: str) -> None:
    name, data, message = CASES[case]
    path = tmp_path / name
    path.write_bytes(data)
    result = run_cfnfix(command, str(path), timeout=30)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith(str(path)), lines
    assert path.read_bytes() == data


def test_huge_file_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.write(b"Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
        handle.write(b"# padding\n" * 5_300_000)  # about 53 MB
    size = path.stat().st_size
    result = run_cfnfix("fix", str(path), timeout=30)
    assert result.returncode == 2
    assert "file too large" in result.stderr and "Traceback" not in result.stderr
    assert path.stat().st_size == size


def test_directory_without_templates(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    result = run_cfnfix("check", str(tmp_path))
    assert result.returncode == 2
    assert "no template files" in result.stderr


def test_missing_path_and_other_files_still_checked(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("Resources:\n  L:\n    Type: AWS::Logs::LogGroup\n")
    result = run_cfnfix("check", str(tmp_path / "nope.yaml"), str(good))
    assert result.returncode == 2
    assert "nope.yaml: no such file or directory" in result.stderr
    assert "RT001" in result.stdout  # the good file was still checked


def test_explicit_non_template_is_an_error_but_walked_one_is_skipped(tmp_path: Path) -> None:
    other = tmp_path / "config.yaml"
    other.write_text("name: my-app\nResources: is mentioned but this is no template\n")
    explicit = run_cfnfix("check", str(other))
    assert explicit.returncode == 2 and "not a CloudFormation template" in explicit.stderr
    (tmp_path / "t.yaml").write_text("Resources:\n  T:\n    Type: AWS::SNS::Topic\n")
    walked = run_cfnfix("check", "--select", "RT001", str(tmp_path))
    assert walked.returncode == 0, walked.stdout + walked.stderr
    assert walked.stderr == ""


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("Resources: {}\n")
    if os.geteuid() != 0:
        path.chmod(0)
        result = run_cfnfix("check", str(path))
        assert result.returncode == 2 and "cannot read" in result.stderr
        path.chmod(0o644)

    def deny(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("builtins.open", deny)
    with pytest.raises(LoadError, match="cannot read: Permission denied"):
        read_source(path)


def test_directory_named_like_a_template(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").mkdir()
    (tmp_path / "x.yaml" / "t.yaml").write_text("Resources:\n  T:\n    Type: AWS::SNS::Topic\n")
    result = run_cfnfix("check", "--select", "RT001", str(tmp_path / "x.yaml"))
    assert result.returncode == 0, result.stdout  # a directory is walked, whatever its name


RAIN = (
    "Resources:\n"
    "  Mod:\n"
    "    Type: !Rain::Module ./bucket.yaml\n"
    "  Logs:\n"
    "    Type: AWS::Logs::LogGroup\n"
    "    Properties:\n"
    "      RetentionInDays: !Rain::Constant Days\n"
    "      Tags: !Rain::Embed tags.json\n"
    "  Other:\n"
    "    Type: AWS::Logs::LogGroup\n"
)


@pytest.mark.parametrize("command", ["check", "fix"])
def test_unknown_tags_are_opaque_and_the_rest_is_checked(tmp_path: Path, command: str) -> None:
    """Preprocessor tags (`!Rain::Module`) do not block a file (issue 15.5): the rest is
    checked and fixed, nothing under such a tag is judged or edited, and one notice per
    file names the tags."""
    path = tmp_path / "t.yaml"
    path.write_text(RAIN)
    result = run_cfnfix(command, "--select", "RT001,TG001", str(path))
    assert result.returncode == (1 if command == "check" else 0), result.stdout + result.stderr
    assert result.stderr == "" and "Traceback" not in result.stdout
    notes = [line for line in result.stdout.splitlines() if ": note: " in line]
    assert notes == [
        f"{path}: note: kept as opaque values, not checked inside and never fixed: "
        "!Rain::Module, !Rain::Constant, !Rain::Embed"
    ]
    after = path.read_text()
    if command == "check":
        assert after == RAIN
        assert "RT001" in result.stdout and "(Other)" in result.stdout
        assert "(Logs)" not in result.stdout and "(Mod)" not in result.stdout
    else:  # only the plain resource was fixed; every opaque value is as it was
        assert after.startswith(RAIN.split("  Other:")[0])
        assert "RetentionInDays" in after.split("  Other:")[1]
