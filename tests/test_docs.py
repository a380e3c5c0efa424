"""docs/rules.md is generated and up to date; docs/ci.md's examples are well-formed."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from cfnfix import registry
from cfnfix.output.sarif_format import is_builtin, rule_anchor
from tests.conftest import ROOT, run_cfnfix

GENERATOR = ROOT / "scripts" / "gen_rules_doc.py"
RULES_DOC = ROOT / "docs" / "rules.md"
CI_DOC = ROOT / "docs" / "ci.md"


def generate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *args], capture_output=True, text=True, timeout=60
    )


def test_rules_doc_is_up_to_date() -> None:
    result = generate("--check")
    assert result.returncode == 0, (
        f"{result.stderr.strip()} (docs/rules.md is generated from the rules' documentation)"
    )


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_rules_doc", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_check_reports_a_stale_page_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generator = load_generator()
    page = tmp_path / "rules.md"
    assert generator.main(["--output", str(page)]) == 0
    assert generator.main(["--check", "--output", str(page)]) == 0
    capsys.readouterr()
    page.write_text(page.read_text().replace("### What it does", "### What it did", 1))
    assert generator.main(["--check", "--output", str(page)]) == 1
    stale = capsys.readouterr()
    assert stale.out == ""
    assert stale.err == "rules.md is out of date: run `python3 scripts/gen_rules_doc.py`\n"
    assert generator.main(["--check", "--output", str(tmp_path / "absent.md")]) == 1


def test_rules_doc_holds_every_builtin_rule_under_its_anchor() -> None:
    text = RULES_DOC.read_text(encoding="utf-8")
    rules = [rule for rule in registry.collect().values() if is_builtin(rule)]
    assert rules
    contents = text.partition("\n<a id=")[0]
    positions = []
    for rule in rules:
        anchor = rule_anchor(rule.id)
        assert f"[{rule.id}](#{anchor})" in contents
        block = f'<a id="{anchor}"></a>\n\n{rule.documentation()}'
        assert block in text, f"{rule.id}: documentation missing or changed"
        positions.append(text.index(block))
    assert positions == sorted(positions)  # in id order
    families = re.findall(r"^### (\S+)$", contents, flags=re.MULTILINE)
    assert families == list(dict.fromkeys(r.family for r in sorted(rules, key=lambda r: r.id)))


def _code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", CI_DOC.read_text(), flags=re.DOTALL)


def test_ci_doc_examples_are_valid_yaml_using_real_hooks_and_flags(tmp_path: Path) -> None:
    blocks = _code_blocks("yaml")
    documents = [yaml.safe_load(block) for block in blocks]
    text = CI_DOC.read_text()
    for needle in (
        "--format github",
        "github/codeql-action/upload-sarif",
        "--format sarif --output",
        "reports:\n      junit:",
        "--write-baseline",
        "--baseline",
    ):
        assert needle in text, needle
    [pre_commit] = [d for d in documents if isinstance(d, dict) and "repos" in d]
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(yaml.safe_dump(pre_commit))
    validate = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(config)],
        capture_output=True,
        text=True,
    )
    assert validate.returncode == 0, validate.stdout + validate.stderr
    [repo] = pre_commit["repos"]
    assert repo["rev"] and repo["repo"].startswith("https://")
    shipped = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert {hook["id"] for hook in repo["hooks"]} <= shipped
    commands = re.findall(r"cfnfix (check|fix)((?: --?[a-z-]+(?: [^\s-][^\s]*)?)*)", text)
    help_text = {name: run_cfnfix(name, "--help").stdout for name in ("check", "fix")}
    for name, arguments in commands:
        for flag in re.findall(r"--[a-z-]+", arguments):
            assert flag in help_text[name], f"docs/ci.md: cfnfix {name} has no {flag}"


README = ROOT / "README.md"


def _setup_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.partition("## Set-up")[2].partition("\n## ")[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)]


def test_readme_setup_is_two_commands_and_ci_runs_the_test_one() -> None:
    install, tests = _setup_commands()
    # the quick start needs no test extra, and checks a template the repository ships
    assert install.startswith("python3 -m pip install -e . && cfnfix check ")
    assert "[test]" not in install and "\n" not in install
    assert (ROOT / install.split()[-1]).is_file()
    assert tests == "python3 -m pip install -e '.[test]' && python3 -m pytest"
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [line for line in ci if line and not line.startswith(("#", "set ", "cd "))]
    assert commands == [tests]


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_documented_pre_commit_revisions_exist_and_have_the_hooks() -> None:
    if (
        not (ROOT / ".git").exists()
        or _git("rev-parse", "--is-shallow-repository").stdout.strip() != "false"
    ):
        pytest.skip("needs a full git checkout of the repository")
    for doc in (README, CI_DOC):
        revs = re.findall(r"^\s+rev: (\S+)", doc.read_text(encoding="utf-8"), flags=re.MULTILINE)
        assert revs, doc
        for rev in revs:
            assert _git("cat-file", "-e", f"{rev}^{{commit}}").returncode == 0, (doc.name, rev)
            hooks = yaml.safe_load(_git("show", f"{rev}:.pre-commit-hooks.yaml").stdout)
            assert {"cfnfix", "cfnfix-fix"} <= {hook["id"] for hook in hooks}, (doc.name, rev)
