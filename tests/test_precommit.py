"""The pre-commit hooks in .pre-commit-hooks.yaml, run by `pre-commit try-repo`.

The shipped hooks use ``language: python``: pre-commit builds a virtualenv and installs
this repository into it, which needs PyPI. So that the test runs offline, it tries a
temporary hook repository holding a copy of the hooks file in which only two things
differ: ``language: system`` (no install) and the ``cfnfix`` command word, replaced by
this interpreter's ``python -m cfnfix`` (the cfnfix under test). Names, file patterns,
types and arguments are the shipped ones, checked field by field below.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CORPUS, FIXTURES, ROOT

HOOKS_FILE = ROOT / ".pre-commit-hooks.yaml"
TEMPLATES = {
    "stacks/api.yaml": CORPUS / "serverless-patterns" / "apigw-caching-sam--template.yaml",
    "stacks/pipeline.yml": CORPUS / "cfn-lint-good" / "resources_codepipeline.yaml",
    "stacks/image-processing.json": FIXTURES / "seed" / "image-processing-broken.json",
}
NON_TEMPLATES = {
    ".github/workflows/ci.yml": (
        "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo Resources\n"
    ),
    "package.json": '{"name": "app", "version": "1.0.0", "scripts": {"test": "jest"}}\n',
    "k8s/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
        "spec:\n  template:\n    spec:\n      containers:\n        - name: web\n"
        "          resources:\n            limits: {cpu: 500m}\n"
    ),
}
MODIFIED = "files were modified by this hook"


def hooks() -> dict[str, dict[str, Any]]:
    return {hook["id"]: hook for hook in yaml.safe_load(HOOKS_FILE.read_text())}


def test_shipped_hooks_are_installable_python_hooks() -> None:
    shipped = hooks()
    assert set(shipped) == {"cfnfix", "cfnfix-fix"}
    assert shipped["cfnfix"]["entry"] == "cfnfix check --quiet-non-templates"
    assert shipped["cfnfix-fix"]["entry"] == "cfnfix fix --quiet-non-templates"
    pattern = re.compile(shipped["cfnfix"]["files"])
    for hook in shipped.values():
        assert hook["language"] == "python"  # installs from this repository's pyproject
        assert hook["files"] == shipped["cfnfix"]["files"] and hook["types"] == ["text"]
        assert "args" not in hook and not hook.get("always_run", False)
    for name in ("a.yaml", "b.yml", "c.json", "d.template", "deep/dir/e.YAML".lower()):
        assert pattern.search(name), name
    for name in ("a.py", "yaml.txt", "template.md", "a.yaml.bak", "json"):
        assert not pattern.search(name), name
    validate = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(HOOKS_FILE)],
        capture_output=True,
        text=True,
    )
    assert validate.returncode == 0, validate.stdout + validate.stderr


def _git(cwd: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed (pre-commit needs it)")
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[init]\n\tdefaultBranch = main\n")
    return {
        **os.environ,
        "GIT_CONFIG_GLOBAL": str(gitconfig),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
        "NO_COLOR": "1",
    }


@pytest.fixture
def hook_repo(tmp_path: Path, env: dict[str, str]) -> Path:
    """A hook repository with the shipped hooks, made offline-installable."""
    repo = tmp_path / "hooks"
    repo.mkdir()
    offline = []
    python = f"{shlex.quote(sys.executable)} -m cfnfix"
    for hook in hooks().values():
        command, _, arguments = hook["entry"].partition(" ")
        assert command == "cfnfix"
        offline.append({**hook, "language": "system", "entry": f"{python} {arguments}"})
    (repo / ".pre-commit-hooks.yaml").write_text(yaml.safe_dump(offline, sort_keys=False))
    _git(repo, "init", "-q", env=env)
    _git(repo, "add", "-A", env=env)
    _git(repo, "commit", "-q", "-m", "hooks", env=env)
    return repo


@pytest.fixture
def project(tmp_path: Path, env: dict[str, str]) -> Path:
    """A repository with real templates and YAML/JSON files that are not templates."""
    if not CORPUS.is_dir():
        pytest.skip(f"the template corpus is not at {CORPUS} (set CFNFIX_CORPUS to its folder)")
    repo = tmp_path / "project"
    for name, source in TEMPLATES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, repo / name)
    for name, text in NON_TEMPLATES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    _git(repo, "init", "-q", env=env)
    _git(repo, "add", "-A", env=env)
    return repo


def try_repo(
    hook_repo: Path, hook: str, project: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), hook, "--all-files"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def snapshot(repo: Path, names: Any) -> dict[str, bytes]:
    return {name: (repo / name).read_bytes() for name in names}


def finding_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if re.match(r"^\S+:\d+:\d+: [A-Z]+\d{3} ", line)]


def test_check_hook_fails_on_findings_and_skips_non_templates(
    hook_repo: Path, project: Path, env: dict[str, str]
) -> None:
    before = snapshot(project, [*TEMPLATES, *NON_TEMPLATES])
    result = try_repo(hook_repo, "cfnfix", project, env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    found = finding_lines(output)
    for name in TEMPLATES:
        assert any(line.startswith(f"{name}:") for line in found), (name, output)
    for name in NON_TEMPLATES:
        assert name not in output, output
    assert "could not be processed" not in output and "Traceback" not in output
    assert snapshot(project, [*TEMPLATES, *NON_TEMPLATES]) == before


def test_fix_hook_modifies_and_fails_then_passes_or_leaves_only_unfixable(
    hook_repo: Path, project: Path, env: dict[str, str]
) -> None:
    untouched = snapshot(project, NON_TEMPLATES)
    before = snapshot(project, TEMPLATES)
    first = try_repo(hook_repo, "cfnfix-fix", project, env)
    output = first.stdout + first.stderr
    assert first.returncode == 1 and MODIFIED in output, output
    assert "fixed " in output and "Traceback" not in output
    after = snapshot(project, TEMPLATES)
    assert all(after[name] != before[name] for name in TEMPLATES), output
    assert snapshot(project, NON_TEMPLATES) == untouched

    _git(project, "add", "-A", env=env)  # what a user does after a hook fixed files
    second = try_repo(hook_repo, "cfnfix-fix", project, env)
    output = second.stdout + second.stderr
    assert MODIFIED not in output and snapshot(project, TEMPLATES) == after, output
    remaining = finding_lines(output)
    assert all(not line.endswith("[*]") for line in remaining), output
    assert second.returncode == (1 if remaining else 0), output
    assert snapshot(project, NON_TEMPLATES) == untouched

    check = try_repo(hook_repo, "cfnfix", project, env)
    assert sorted(finding_lines(check.stdout)) == sorted(remaining), check.stdout
