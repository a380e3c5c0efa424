"""Hostile input (issue 12.3), beyond the bad-input battery of test_bad_inputs.py: deep
nesting in every syntax, merge-key bombs, huge files and lines, UTF-16, symbolic link
loops, FIFOs and devices, and two `cfnfix fix` runs on the same files at once.

Each case: bounded time (a timeout) and memory (an address-space limit on the process),
one line on stderr naming the input, exit code 2, nothing written."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

MEMORY_LIMIT = 2 * 1024**3  # address space, bytes: far above what a refusal needs
TEMPLATE = "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n"


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cfnfix", *args],
        capture_output=True, text=True, timeout=60, cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"}, preexec_fn=_limit_memory,
    )  # fmt: skip


def _merge_bomb() -> str:
    lines = ["x0: &x0 {k0: 1}"]
    for i in range(1, 12):
        merges = ", ".join([f"*x{i - 1}"] * 8)
        lines.append(f"x{i}: &x{i} {{<<: [{merges}], k{i}: 1}}")
    return (
        "\n".join(lines) + "\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: *x11\n"
    )


CONTENT: dict[str, tuple[str, bytes, str]] = {
    "deep_block_sequence": (
        "t.yaml",
        b"Resources:\n  Q:\n    " + b"- " * 100_000 + b"x\n",
        "nesting deeper than",
    ),
    "deep_flow_mapping": (
        "t.yaml",
        b"Resources: " + b"{a: " * 100_000 + b"1" + b"}" * 100_000 + b"\n",
        "nesting deeper than",
    ),
    "deep_json_array": ("t.json", b'{"Resources": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nesting deeper than"),
    "deep_json_object": (
        "t.json",
        b'{"Resources": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_000 + b"}",
        "nesting deeper than",
    ),
    "merge_key_bomb": ("t.yaml", _merge_bomb().encode(), "alias bomb"),
    "utf16_with_bom": ("t.yaml", TEMPLATE.encode("utf-16"), "UTF-16 or UTF-32 text"),
    "utf16_without_bom": ("t.yaml", TEMPLATE.encode("utf-16-le"), "UTF-16 or UTF-32 text"),
    "utf32": ("t.yaml", TEMPLATE.encode("utf-32"), "UTF-16 or UTF-32 text"),
    "invalid_utf8_in_a_key": ("t.yaml", b"Resources:\n  Q\xc3\x28:\n    Type: x\n", "not UTF-8"),
    "nul_in_text": ("t.yaml", TEMPLATE.encode() + b"# \x00\n", "binary file"),
    "merge_of_a_scalar": ("t.yaml", b"Resources:\n  Q:\n    <<: 1\n    Type: AWS::SQS::Queue\n", "merge key needs a mapping"),
    "python_object": ("t.yaml", b"Resources: !!python/object:os.system {}\n", "unsupported YAML tag"),
    "fifty_mb_line": ("t.yaml", b"Resources: {Q: {Type: " + b"a" * 50_000_000 + b"}}\n", "file too large"),
}  # fmt: skip


def _one_line(result: subprocess.CompletedProcess[str], name: str, message: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(name) and message in lines[0], lines


@pytest.mark.parametrize("case", sorted(CONTENT))
def test_hostile_content(tmp_path: Path, case: str) -> None:
    """`fix` (which reads as `check` does, and could write)."""
    name, data, message = CONTENT[case]
    path = tmp_path / name
    path.write_bytes(data)
    _one_line(_run("fix", str(path)), str(path), message)
    assert path.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_100_mb_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with open(path, "wb") as handle:  # sparse: the size is there, the bytes are not
        handle.write(TEMPLATE.encode())
        handle.truncate(100 * 1024 * 1024)
    _one_line(_run("fix", str(path)), str(path), "file too large")
    assert path.stat().st_size == 100 * 1024 * 1024


def test_symbolic_link_loops(tmp_path: Path) -> None:
    """Named, a loop is an error; met while walking a directory, it is no template."""
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    (tmp_path / "ok.yaml").write_text(TEMPLATE)
    for command in ("check", "fix"):
        named = _run(command, "--select", "RT001", str(tmp_path / "a.yaml"))
        _one_line(named, str(tmp_path / "a.yaml"), "symbolic link loop")
    walked = _run("check", "--select", "RT001", str(tmp_path))
    assert walked.returncode == 1 and walked.stderr == "", walked.stderr
    assert "RT001" in walked.stdout  # the other file was still checked


def test_fifos_and_devices_are_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # opening it for reading would block forever: the timeout catches that
    for path, command in ((str(fifo), "fix"), ("/dev/zero", "check"), ("/dev/null", "fix")):
        _one_line(_run(command, path), path, "not a regular file")
    walked = _run("check", str(tmp_path))
    assert walked.returncode == 2 and "Traceback" not in walked.stderr
    assert walked.stderr.strip().splitlines() == [f"{fifo}: not a regular file"]


def test_two_fix_runs_on_the_same_files_at_once(tmp_path: Path) -> None:
    """Each file is fixed by one run; the other finds it changed and leaves it alone."""
    folder = tmp_path / "many"
    folder.mkdir()
    paths = [folder / f"t{i:03}.yaml" for i in range(300)]
    for path in paths:
        path.write_text(TEMPLATE)
    command = [
        sys.executable,
        "-m",
        "cfnfix",
        "fix",
        "--select",
        "RT001",
        "--jobs",
        "1",
        str(folder),
    ]
    env = {**os.environ, "NO_COLOR": "1"}
    runs = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    contents = {path.read_text() for path in paths}
    assert len(contents) == 1 and TEMPLATE not in contents, "every file fixed exactly once"
    (fixed,) = contents
    assert fixed.count("RetentionInDays") == 1
    for run, (_, stderr) in zip(runs, outputs, strict=True):
        assert "Traceback" not in stderr
        assert run.returncode in (0, 2), stderr
        for line in stderr.strip().splitlines():
            assert line.endswith("file changed since it was read; not written"), line
    assert not list(folder.glob(".*.tmp"))


def test_limits_are_configurable(tmp_path: Path) -> None:
    """Nesting depth (at most 400, the default) and alias expansion can be lowered."""
    nested = (
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Metadata: " + "[" * 8 + "]" * 8 + "\n"
    )
    aliased = "Resources:\n  Q: &q {Type: AWS::SQS::Queue}\n  R: *q\n"
    for name, text in (("nested.yaml", nested), ("aliased.yaml", aliased)):
        (tmp_path / name).write_text(text)
        assert _run("check", "--select", "RT001", str(tmp_path / name)).returncode == 0
    config = tmp_path / ".cfnfix.toml"
    config.write_text("max-nesting-depth = 5\nmax-alias-nodes = 0\n")
    for name, message in (
        ("nested.yaml", "nesting deeper than 5 levels"),
        ("aliased.yaml", "alias bomb"),
    ):
        _one_line(_run("check", str(tmp_path / name)), str(tmp_path / name), message)
    config.write_text("max-nesting-depth = 100000\n")
    result = _run("check", str(tmp_path / "nested.yaml"))
    assert result.returncode == 2 and "max-nesting-depth" in result.stderr
