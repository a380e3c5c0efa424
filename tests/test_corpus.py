"""cfnfix against ~360 real templates written by other people (../shared/corpus).

Every file loads or fails with a clean one-line error; fixing leaves files no rule
applies to byte-identical, never rewrites what it did not mean to, re-parses, is
idempotent, and gains no cfn-lint errors.
"""

from __future__ import annotations

import difflib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from cfnfix import registry, validate
from cfnfix.errors import LoadError
from cfnfix.fixer import fix_template
from cfnfix.rule import Rule
from cfnfix.source import read_source
from cfnfix.template import Template
from tests.conftest import ROOT

# Templates in the corpus that are invalid for CloudFormation itself (cfn-lint reports
# E0000 on the same ones): cfnfix must refuse them with a clean message.
KNOWN_INVALID = {
    "apigw-custom-domain-edge--template.yaml": "invalid YAML",
    "apigw-ec2--template.yaml": "duplicate key",
    "appsync-dynamodb-singletable--template.yaml": "duplicate key",
    "cloudfront-lambda-url-rust--template.yml": "duplicate key",
    "cognito-sns-sms-origination-id-sam--template.yaml": "duplicate key",
    "dynamodb-lambda-cdk-kotlin--template.yaml": "Resources section is empty",
    "multi-account-private-apigw_centralAccount--template.yaml": "duplicate key",
    "public-nlb-or-alb-private-api-cfn--template.yaml": "duplicate key",
    "sam-webapp-cognito--template.yaml": "duplicate key",
    "vpc-lattice-lambda--template.yaml": "duplicate key",
}


@dataclass
class Fixed:
    path: Path
    original: str
    fixed: str
    applied: int
    refused: list[str]
    second_pass_applied: int


def _load(path: Path) -> Template | None:
    try:
        return Template.parse(read_source(path))
    except LoadError as exc:
        expected = KNOWN_INVALID.get(path.name)
        assert expected is not None, f"{path.name}: unexpected load error: {exc}"
        assert expected in str(exc), f"{path.name}: {exc}"
        assert "\n" not in str(exc)
        return None


def _fix_all(files: list[Path], rules: list[Rule], unsafe: bool) -> list[Fixed]:
    results = []
    for path in files:
        template = _load(path)
        if template is None:
            continue
        outcome = fix_template(template, rules, unsafe)
        again = fix_template(outcome.template, rules, unsafe)
        results.append(
            Fixed(
                path,
                template.text,
                outcome.template.text,
                len(outcome.applied),
                [f"{r.finding.rule.id}: {r.reason}" for r in outcome.refused],
                len(again.applied),
            )
        )
    return results


def test_every_corpus_file_loads_or_fails_cleanly(corpus_files: list[Path]) -> None:
    loaded = [p for p in corpus_files if _load(p) is not None]
    assert len(loaded) >= len(corpus_files) - len(KNOWN_INVALID) - 1  # README.md is no template


def _only_insertions(original: str, fixed: str) -> bool:
    """Whether ``fixed`` is ``original`` with text inserted (nothing removed or changed)."""
    old, new = original.splitlines(keepends=True), fixed.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "delete":
            return False
        if op == "replace":
            it = iter("".join(new[b1:b2]))
            if not all(ch in it for ch in "".join(old[a1:a2])):
                return False
    return True


@pytest.fixture(scope="module")
def builtin() -> list[Rule]:
    return [cls() for cls in registry.collect().values()]


def test_insert_only_fixes_only_insert(corpus_files: list[Path]) -> None:
    """RT001 and the writer-stress rules (which add keys to every resource and items to
    every list) must leave every original character in place, and touch nothing else."""
    stress = registry.directory_rules(ROOT / "tests" / "plugins")
    rules = [cls() for cls in stress] + [registry.collect()["RT001"]()]
    results = _fix_all(corpus_files, rules, unsafe=True)
    assert sum(r.applied for r in results) > 1000
    for r in results:
        if not r.applied:
            assert r.fixed == r.original, r.path.name
        assert _only_insertions(r.original, r.fixed), r.path.name
        assert r.second_pass_applied == 0, r.path.name
        # refusals are only the principled ones (aliases, intrinsics, non-mappings)
        for reason in r.refused:
            assert "would not" not in reason, (r.path.name, reason)


def _lint_pair(pair: tuple[str, str, str]) -> tuple[str, list[str], str]:
    name, before, after = pair
    try:
        errors = validate.new_errors(before, after)
    except Exception as exc:  # cfn-lint itself crashes on a few real files
        return name, [], f"{type(exc).__name__}: {exc}"
    return name, [f"{e.rule} line {e.line}: {e.message}" for e in errors], ""


@pytest.mark.skipif(not validate.available(), reason="cfn-lint is not installed")
def test_fixing_the_corpus_with_every_rule(corpus_files: list[Path], builtin: list[Rule]) -> None:
    safe = _fix_all(corpus_files, builtin, unsafe=False)
    unsafe = _fix_all(corpus_files, builtin, unsafe=True)
    for r in safe + unsafe:
        if not r.applied:
            assert r.fixed == r.original, f"{r.path.name} changed without a fix"
        Template.parse(read_source(r.path).__class__.from_text(r.fixed, r.path.name))
        assert r.second_pass_applied == 0, f"{r.path.name}: a second fix changed it again"
        for reason in r.refused:
            assert "would not" not in reason, (r.path.name, reason)
    changed = [(str(r.path.name), r.original, r.fixed) for r in unsafe if r.fixed != r.original]
    assert len(changed) > 100
    with ProcessPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(_lint_pair, changed, chunksize=8))
    new = {name: errors for name, errors, _ in outcomes if errors}
    crashed = [name for name, _, crash in outcomes if crash]
    assert not new, f"fixes introduced cfn-lint errors: {new}"
    assert len(crashed) <= 2, f"cfn-lint crashed on: {crashed}"
