"""Family tests for the tagging rules (TG001 required tags, TG002 invalid tags).

The issue's "done when": the seed's tagging failure (Environment/Purpose present,
iac-rlhf-amazon missing, untagged alarms and role, a layer and a permission that take no
tags) in YAML, JSON and SAM is reported resource by resource and fixed into templates that
cfn-lint accepts without errors or warnings; fixing twice changes nothing; over the
corpus every fixed file re-parses, gains no cfn-lint errors and is fixed idempotently.
"""

from __future__ import annotations

import collections
import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cfnfix.errors import LoadError
from cfnfix.nodes import to_plain
from cfnfix.rule import Applicability, Rule
from cfnfix.settings import Settings
from cfnfix.testing import check, fix, make_rules, parse
from tests.conftest import FIXTURES, builtin_rules, run_cfnfix

REQUIRED = "iac-rlhf-amazon"
TAGGING = FIXTURES / "tagging"
SEED = FIXTURES / "seed"

# fixture -> (resources that must be reported, resources that take no tags)
SEED_CASES: dict[str, tuple[set[str], set[str]]] = {
    "image-processing-broken.yaml": (
        {
            "UploadBucket",
            "ThumbnailBucket",
            "ImageMetadataTable",
            "ImageProcessorRole",
            "ImageProcessorFunction",
            "AlarmTopic",
            "ErrorAlarm",
            "ThrottleAlarm",
        },
        {"PillowLayer", "ImageProcessorPermission"},
    ),
    "image-processing-broken-sam.yaml": (
        {
            "UploadBucket",
            "ThumbnailBucket",
            "ImageMetadataTable",
            "ImageProcessorFunction",
            "AlarmTopic",
            "ErrorAlarm",
        },
        {"PillowLayer"},
    ),
    "image-processing-tagging-sam.yaml": (
        {
            "UploadBucket",
            "ThumbnailBucket",
            "ImageMetadataTable",
            "ImageProcessorRole",
            "ImageProcessorFunction",
            "CleanupFunction",
            "AlarmTopic",
            "ErrorAlarm",
            "ThrottleAlarm",
        },
        {"PillowLayer", "ImageProcessorPermission"},
    ),
}
SEED_CASES["image-processing-broken.json"] = SEED_CASES["image-processing-broken.yaml"]


def _fixture(name: str) -> Path:
    return TAGGING / name if (TAGGING / name).exists() else SEED / name


def _tag_rules(settings: Settings | None = None) -> list[Rule]:
    rules = builtin_rules()
    return make_rules([rules["TG001"], rules["TG002"]], settings=settings)


_CFN_LINT = "import sys; from cfnlint.runner import main; sys.exit(main())"


def _cfn_lint_many(
    jobs: list[tuple[list[Path], Path]],
) -> list[dict[str, list[tuple[str, str]]]]:
    """Run cfn-lint once per ``(files, cwd)`` job, in parallel.

    Returns, per job, cfn-lint's findings per file: ``{name: [(rule, message), ...]}``.
    """
    running = [
        subprocess.Popen(
            [sys.executable, "-c", _CFN_LINT, "--format", "parseable"]
            + [str(f.relative_to(cwd)) for f in files],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
        )
        for files, cwd in jobs
    ]
    results = []
    for process in running:
        stdout, stderr = process.communicate(timeout=300)
        assert "Traceback" not in stderr, stderr
        # cfn-lint ORs 2 (errors) | 4 (warnings) | 8 (info); anything else means it failed
        assert process.returncode in range(0, 16, 2), (process.returncode, stderr)
        found: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
        for line in stdout.splitlines():
            parts = line.split(":", 6)
            if len(parts) == 7:
                found[parts[0]].append((parts[5], parts[6]))
        results.append(found)
    return results


def _cfn_lint(files: list[Path], cwd: Path) -> dict[str, list[tuple[str, str]]]:
    return _cfn_lint_many([(files, cwd)])[0]


def _strip_added(data: Any, key: str) -> Any:
    """``data`` without every tag ``key`` (list items, map keys, Globals) cfnfix may add."""
    data = copy.deepcopy(data)

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            for name in list(node):
                if name.endswith("Tags") or name == "Items":
                    tags = node[name]
                    if isinstance(tags, list):
                        node[name] = [
                            t for t in tags if not (isinstance(t, dict) and t.get("Key") == key)
                        ]
                    elif isinstance(tags, dict):
                        tags.pop(key, None)
                strip(node[name])
        elif isinstance(node, list):
            for item in node:
                strip(item)
        return node

    return strip(data)


def _drop_empty_tags(original: Any, stripped: Any) -> Any:
    """Remove tag properties that are empty in ``stripped`` and absent from ``original``."""
    for logical_id, body in stripped.get("Resources", {}).items():
        props = body.get("Properties")
        before = original["Resources"][logical_id].get("Properties", {})
        if isinstance(props, dict):
            for name in [n for n, v in props.items() if v in ([], {}) and n not in before]:
                del props[name]
            if not props and "Properties" not in original["Resources"][logical_id]:
                del body["Properties"]
    return stripped


# -- the seed's tagging, in YAML, JSON and SAM ------------------------------------------


@pytest.mark.parametrize("name", sorted(SEED_CASES))
def test_seed_reports_every_taggable_resource_and_no_other(name: str) -> None:
    expected, untaggable = SEED_CASES[name]
    path = _fixture(name)
    text = path.read_text(encoding="utf-8")
    findings = check(text, _tag_rules(), path.name)
    assert {f.rule.id for f in findings} == {"TG001"}
    reported = [f.resource for f in findings]
    assert len(reported) == len(set(reported)), "each resource is reported once"
    assert set(reported) == expected
    assert not set(reported) & untaggable
    template = parse(text, path.name)
    assert untaggable <= set(template.resources), "the fixture must hold the untaggable types"
    for finding in findings:
        assert REQUIRED in finding.message
        assert finding.fix is not None
        assert finding.fix.applicability is Applicability.SAFE


@pytest.mark.parametrize("name", sorted(SEED_CASES))
def test_seed_fix_tags_everything_and_touches_nothing_else(name: str) -> None:
    path = _fixture(name)
    text = path.read_text(encoding="utf-8")
    rules = _tag_rules()
    outcome = fix(text, rules, unsafe=False, name=path.name)
    assert not outcome.refused, [r.reason for r in outcome.refused]
    assert not outcome.result.findings, [f.message for f in outcome.result.findings]
    fixed = outcome.template
    # Every taggable resource carries the tag (SAM: through Globals where it tags).
    for resource in fixed.resources.values():
        if resource.logical_id in SEED_CASES[name][1]:
            continue
        props = fixed.effective_properties(resource)
        tags = props.get("Tags")
        keys = {t["Key"] for t in tags} if isinstance(tags, list) else set(tags or {})
        assert REQUIRED in keys, resource.logical_id
    # Existing tags and everything else are untouched: removing the added tag gives
    # back the original template.
    original = to_plain(parse(text, path.name).root)
    stripped = _drop_empty_tags(original, _strip_added(to_plain(fixed.root), REQUIRED))
    assert stripped == original
    # Only lines were added; no original line changed.
    assert all(line in fixed.text.splitlines() for line in text.splitlines())
    again = fix(fixed.text, rules, unsafe=True, name=path.name)
    assert not again.applied, "a second fix must change nothing"


def test_fixed_seed_templates_pass_cfn_lint_without_errors_or_warnings(tmp_path: Path) -> None:
    files = []
    for name in sorted(SEED_CASES):
        path = _fixture(name)
        outcome = fix(path.read_text(encoding="utf-8"), _tag_rules(), name=path.name)
        target = tmp_path / name
        target.write_text(outcome.template.text, encoding="utf-8")
        files.append(target)
    # The seed with configured tags, one of them a reference to the Environment parameter.
    settings = Settings({REQUIRED: "true", "Environment": {"Ref": "Environment"}, "Team": "img"})
    text = (SEED / "image-processing-broken.yaml").read_text(encoding="utf-8")
    configured = fix(text, _tag_rules(settings))
    assert configured.applied and not configured.result.findings
    target = tmp_path / "configured.yaml"
    target.write_text(configured.template.text, encoding="utf-8")
    files.append(target)
    found = _cfn_lint(files, tmp_path)
    problems = {name: [f for f in items if f[0][:1] in ("E", "W")] for name, items in found.items()}
    assert not any(problems.values()), problems


def test_cli_fix_then_check_is_clean_and_idempotent(tmp_path: Path) -> None:
    for name in SEED_CASES:
        shutil.copy(_fixture(name), tmp_path / name)
    first = run_cfnfix("fix", "--select", "TG", str(tmp_path))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Fixed" in first.stdout
    snapshot = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    second = run_cfnfix("fix", "--select", "TG", str(tmp_path))
    assert second.returncode == 0, second.stdout + second.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == snapshot
    checked = run_cfnfix("check", "--select", "TG", str(tmp_path))
    assert checked.returncode == 0, checked.stdout


def test_required_tags_from_pyproject_with_a_reference(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.cfnfix.required-tags]\n"
        'iac-rlhf-amazon = "true"\n'
        'Environment = {Ref = "Environment"}\n'
        'CostCenter = "1234"\n',
        encoding="utf-8",
    )
    target = tmp_path / "stack.yaml"
    shutil.copy(SEED / "image-processing-broken.yaml", target)
    result = run_cfnfix("fix", "--select", "TG001", str(target))
    assert result.returncode == 0, result.stdout + result.stderr
    template = parse(target.read_text(encoding="utf-8"), target.name)
    for logical_id in ("ErrorAlarm", "ImageProcessorRole", "UploadBucket"):
        tags = template.resources[logical_id].properties["Tags"]
        keys = [t["Key"] for t in tags]
        assert set(keys) >= {"Environment", "iac-rlhf-amazon", "CostCenter"}, logical_id
        assert keys.count("Environment") == 1, logical_id
        environment = next(t["Value"] for t in tags if t["Key"] == "Environment")
        assert environment == {"Ref": "Environment"}
    alarm = template.resources["ErrorAlarm"].properties["Tags"]
    assert [t["Key"] for t in alarm] == ["iac-rlhf-amazon", "Environment", "CostCenter"]
    before = (SEED / "image-processing-broken.yaml").read_text(encoding="utf-8")
    after = target.read_text(encoding="utf-8")
    added = after.count("Value: !Ref Environment") - before.count("Value: !Ref Environment")
    assert added == 3  # the two alarms and the role, in the file's short-form style


# -- behaviour that needs more than one rule case -------------------------------------


def _tg001(settings: Settings | None = None) -> list[Rule]:
    return make_rules([builtin_rules()["TG001"]], settings=settings)


def test_no_fix_when_the_configured_value_cannot_be_written() -> None:
    text = """
Resources:
  Topic:
    Type: AWS::SNS::Topic
  Queue:
    Type: AWS::SQS::Queue
"""
    cases = {
        "Environment": ({"Ref": "Environment"}, "does not define"),
        "Owner": ({"Fn::GetAtt": ["Queue", "Arn"]}, "circular dependency"),
        "aws:owner": ("x", "reserved prefix"),
        "Long": ("v" * 257, "longer than 256"),
    }
    for key, (value, reason) in cases.items():
        [finding, *_] = check(text, _tg001(Settings({key: value})))
        assert finding.fix is None, key
        assert reason in finding.message, finding.message


def test_no_fix_beyond_fifty_tags() -> None:
    items = "".join(f"\n        - {{Key: t{i}, Value: v}}" for i in range(50))
    text = f"Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      Tags:{items}\n"
    [finding] = check(text, _tg001())
    assert finding.fix is None
    assert "exceed 50 tags" in finding.message


def test_create_only_tags_are_unsafe_and_updatable_tags_safe() -> None:
    text = """
Resources:
  Service:
    Type: AWS::AppRunner::Service
    Properties:
      SourceConfiguration: {ImageRepository: {ImageIdentifier: public.ecr.aws/x:latest,
        ImageRepositoryType: ECR_PUBLIC}}
  Bucket:
    Type: AWS::S3::Bucket
"""
    by_id = {f.resource: f for f in check(text, _tg001())}
    service, bucket = by_id["Service"].fix, by_id["Bucket"].fix
    assert service is not None and service.applicability is Applicability.UNSAFE
    assert bucket is not None and bucket.applicability is Applicability.SAFE
    safe_only = fix(text, _tg001(), unsafe=False)
    assert [a.resource for a in safe_only.applied] == ["Bucket"]


def test_one_globals_fix_covers_every_function() -> None:
    text = (_fixture("image-processing-tagging-sam.yaml")).read_text(encoding="utf-8")
    outcome = fix(text, _tg001())
    globals_fixes = [a for a in outcome.applied if "Globals" in a.description]
    assert len(globals_fixes) == 1
    assert outcome.template.text.count(f"{REQUIRED}: 'true'") == 2  # Globals + SimpleTable


def test_documentation_shows_the_configuration_and_stack_level_tags() -> None:
    doc = builtin_rules()["TG001"].documentation()
    assert "[tool.cfnfix.required-tags]" in doc
    assert 'Environment = { Ref = "Environment" }' in doc
    assert "stack-level tags" in doc.lower()
    shown = run_cfnfix("rules", "TG001")
    assert shown.returncode == 0
    assert "[tool.cfnfix.required-tags]" in shown.stdout


# -- the corpus ----------------------------------------------------------------------


def _corpus_outcomes(corpus_files: list[Path]) -> dict[Path, tuple[str, str]]:
    """``{file: (original, fixed)}`` for every corpus file the tagging rules change."""
    rules = _tag_rules()
    changed = {}
    for path in corpus_files:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            outcome = fix(text, rules, unsafe=True, name=path.name)
        except LoadError:
            continue  # cfnfix reports unparsable files; nothing to fix there
        assert not outcome.refused, (path, [r.reason for r in outcome.refused])
        if outcome.changed:
            changed[path] = (text, outcome.template.text)
    return changed


@pytest.fixture(scope="module")
def corpus_changes(corpus_files: list[Path]) -> dict[Path, tuple[str, str]]:
    return _corpus_outcomes(corpus_files)


def test_corpus_fixes_reparse_and_are_idempotent(
    corpus_changes: dict[Path, tuple[str, str]],
) -> None:
    assert len(corpus_changes) > 100
    rules = _tag_rules()
    for path, (original, fixed) in corpus_changes.items():
        template = parse(fixed, path.name)  # re-parses
        again = fix(fixed, rules, unsafe=True, name=path.name)
        assert not again.applied, path
        remaining = [f for f in again.result.findings if f.rule.id == "TG001"]
        assert all(f.fix is None for f in remaining), path
        before = check(original, [rules[1]], path.name)
        after = check(fixed, [rules[1]], path.name)
        assert len(after) == len(before), (path, [f.message for f in after])
        assert template.resources.keys() == parse(original, path.name).resources.keys()


def test_corpus_sample_gains_no_cfn_lint_errors(
    corpus_changes: dict[Path, tuple[str, str]], tmp_path: Path
) -> None:
    """cfn-lint on a sample of the edits cfn-lint could object to: SAM Globals, HttpApi,
    lists with existing (and conditional) tags. The whole corpus takes minutes; see the
    family's report for that run."""
    by_kind: dict[str, list[Path]] = collections.defaultdict(list)
    for path, (original, _) in sorted(corpus_changes.items()):
        template = parse(original, path.name)
        kinds = {r.type for r in template.resources.values()}
        if template.globals and any("Tags" in g for g in template.globals.values()):
            by_kind["globals"].append(path)
        if "AWS::Serverless::HttpApi" in kinds:
            by_kind["httpapi"].append(path)
        if path.suffix == ".json":
            by_kind["json"].append(path)
        if "Tags" in original and not template.is_sam:
            by_kind["cfn-with-tags"].append(path)
    sample = sorted({paths[0] for paths in by_kind.values()})
    assert len(sample) >= 3
    (tmp_path / "orig").mkdir()
    (tmp_path / "fixed").mkdir()
    names = []
    for path in sample:
        name = f"{path.parent.name}--{path.name}"
        original, fixed = corpus_changes[path]
        (tmp_path / "orig" / name).write_text(original, encoding="utf-8")
        (tmp_path / "fixed" / name).write_text(fixed, encoding="utf-8")
        names.append(name)
    before, after = _cfn_lint_many(
        [([tmp_path / d / n for n in names], tmp_path / d) for d in ("orig", "fixed")]
    )
    for name in names:
        old = collections.Counter(rule for rule, _ in before.get(name, []) if rule[:1] == "E")
        new = collections.Counter(rule for rule, _ in after.get(name, []) if rule[:1] == "E")
        assert not new - old, (name, json.dumps(after.get(name), indent=1))
