"""Fault injection (issue 12.2): writes that fail, a file changed between read and write,
and SIGINT / SIGTERM in the middle of fixing 2,000 files. Every file ends exactly as it
was or exactly fixed, no temporary file is left, and the exit code and one line on
stderr say what happened."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from cfnfix.source import write_file
from cfnfix.testing import run_cli

TEMPLATE = "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n"


def _fixed_text(tmp_path: Path) -> str:
    """The content ``cfnfix fix --select RT001`` gives TEMPLATE."""
    probe = tmp_path / "probe" / "t.yaml"
    probe.parent.mkdir()
    probe.write_text(TEMPLATE)
    result = run_cli(["fix", "--select", "RT001", str(probe)])
    assert result.exit_code == 0, result.output
    text = probe.read_text()
    assert text != TEMPLATE
    shutil.rmtree(probe.parent)
    return text


def _fix(*paths: Path) -> tuple[int, str]:
    result = run_cli(["fix", "--select", "RT001", *map(str, paths)])
    return result.exit_code, result.stderr


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*.tmp")]


@pytest.mark.parametrize(
    ("failing", "code", "message"),
    [
        ("os.fsync", errno.ENOSPC, "No space left on device"),
        ("os.replace", errno.EROFS, "Read-only file system"),
        ("tempfile.mkstemp", errno.EACCES, "Permission denied"),
    ],
)
def test_a_failed_write_leaves_the_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str, code: int, message: str
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(TEMPLATE)

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(failing, fail)
    exit_code, stderr = _fix(path)
    assert exit_code == 2
    assert stderr.strip().splitlines() == [f"{path}: cannot write: {message}"]
    assert path.read_text() == TEMPLATE
    assert _leftovers(tmp_path) == []


def test_write_file_cleans_up_when_interrupted_mid_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(TEMPLATE)

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("os.fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_file(path, b"new")
    assert path.read_text() == TEMPLATE and _leftovers(tmp_path) == []


def test_a_file_changed_between_read_and_write_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(TEMPLATE)
    from cfnfix import fixer

    real = fixer.fix_template

    def edited_meanwhile(*args: object, **kwargs: object) -> object:
        outcome = real(*args, **kwargs)  # type: ignore[arg-type]
        path.write_text(TEMPLATE + "# someone else's edit\n")
        return outcome

    monkeypatch.setattr(fixer, "fix_template", edited_meanwhile)
    exit_code, stderr = _fix(path)
    assert exit_code == 2
    assert stderr.strip().splitlines() == [f"{path}: file changed since it was read; not written"]
    assert path.read_text() == TEMPLATE + "# someone else's edit\n"
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root")
def test_read_only_directory_for_a_user_without_rights(tmp_path: Path) -> None:
    """Root ignores permissions, so the real check runs cfnfix as nobody (in a folder
    nobody can reach: pytest's own temporary folders are private to root)."""
    reachable = Path(tempfile.mkdtemp(prefix="cfnfix-ro-"))
    reachable.chmod(0o755)
    folder = reachable / "ro"
    folder.mkdir()
    path = folder / "t.yaml"
    path.write_text(TEMPLATE)
    path.chmod(0o666)
    folder.chmod(0o555)
    tmp_path.chmod(0o755)
    result = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
         sys.executable, "-m", "cfnfix", "fix", "--select", "RT001", str(path)],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "NO_COLOR": "1", "HOME": "/tmp"},
    )  # fmt: skip
    if "No module named" in result.stderr:
        pytest.skip("nobody cannot import cfnfix here")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [f"{path}: cannot write: Permission denied"]
    try:
        assert path.read_text() == TEMPLATE and _leftovers(folder) == []
    finally:
        folder.chmod(0o755)
        shutil.rmtree(reachable)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_in_the_middle_of_2000_files(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    fixed = _fixed_text(tmp_path)
    folder = tmp_path / "many"
    folder.mkdir()
    paths = [folder / f"t{i:04}.yaml" for i in range(2000)]
    for path in paths:
        path.write_text(TEMPLATE)
    process = subprocess.Popen(
        [sys.executable, "-m", "cfnfix", "fix", "--select", "RT001", "--jobs", "2", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NO_COLOR": "1"}, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if sum(p.stat().st_size != len(TEMPLATE) for p in paths[::50]) >= 2:
            break  # a few files are fixed: the run is in the middle
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before the signal"
    os.killpg(process.pid, sig)  # as a terminal or a CI runner does
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    lines = stderr.strip().splitlines()
    assert lines and lines[-1].startswith(f"cfnfix: interrupted ({sig.name})"), lines
    assert "Traceback" not in stderr
    contents = [path.read_text() for path in paths]
    assert set(contents) <= {TEMPLATE, fixed}
    assert 0 < contents.count(fixed) < len(paths)
    assert _leftovers(folder) == []
