"""A release is one command, `python3 -m build`: its sdist and wheel install in a fresh
virtual environment, where `cfnfix check` runs on a template the sdist ships.

The build runs without isolation (setuptools and wheel come from the test extra) and
the environment borrows the already installed dependencies (``--system-site-packages``,
``--no-deps``), so the test needs no network; it checks that the cfnfix it runs, and
its built-in rules, are the installed copies and not this checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytest.importorskip("build", reason="`build` is in the test extra: pip install -e '.[test]'")


def _source_tree(destination: Path) -> Path:
    """The files a clean checkout has (git's list when available)."""
    tree = destination / "source"
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if listed.returncode == 0 and listed.stdout:
        for name in filter(None, listed.stdout.split("\0")):
            source = ROOT / name
            if source.is_file():
                (tree / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, tree / name)
    else:  # not a git checkout (an unpacked sdist)
        shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns("build", "dist", "*.egg-info"))
    return tree


def test_sdist_and_wheel_install_in_a_fresh_venv_and_check_a_shipped_template(
    tmp_path: Path,
) -> None:
    tree = _source_tree(tmp_path)
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(tree)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    [sdist] = dist.glob("cfnfix-*.tar.gz")
    [wheel] = dist.glob("cfnfix-*.whl")  # built from the sdist: the sdist is complete

    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    [unpacked] = (tmp_path / "unpacked").iterdir()
    template = unpacked / "fixtures" / "seed" / "image-processing-broken.yaml"
    assert template.is_file() and (unpacked / ".pre-commit-hooks.yaml").is_file()

    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
        check=True,
        timeout=120,
    )
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CFNFIX_DEBUG")}
    env["NO_COLOR"] = "1"
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import cfnfix, cfnfix_rules; print(cfnfix.__file__, cfnfix_rules.__file__)",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert where.returncode == 0, where.stderr
    assert all(Path(p).is_relative_to(venv) for p in where.stdout.split()), where.stdout

    check = subprocess.run(
        [str(venv / "bin" / "cfnfix"), "check", str(template)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert check.returncode == 1, check.stdout + check.stderr  # the broken stack has findings
    assert check.stderr == "" and " HC001 " in check.stdout and "Found " in check.stdout
    listing = subprocess.run(
        [str(venv / "bin" / "cfnfix"), "rules", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    ours = subprocess.run(
        [sys.executable, "-m", "cfnfix", "rules", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert listing.stdout == ours.stdout  # every built-in rule ships, through its entry point
