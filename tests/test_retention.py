"""The retention family (RT) as a whole: the seed's stack, cfn-lint as the oracle, the
log-group name clash on deployed stacks, idempotency, and the corpus."""

from __future__ import annotations

import filecmp
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from cfnfix_rules.retention._policies import is_cluster_member
from cfnfix_rules.retention.rt011_data_without_explicit_retention import dead_letter_queues

from cfnfix import registry
from cfnfix.nodes import to_plain
from cfnfix.rule import Rule
from cfnfix.template import Template
from cfnfix.testing import check, fix, make_rules, parse
from tests.conftest import CORPUS, FIXTURES, run_cfnfix

SEED = FIXTURES / "seed"
SEED_FILES = [
    SEED / "image-processing-broken.yaml",
    SEED / "image-processing-broken.json",
    SEED / "image-processing-broken-sam.yaml",
]
DATA_STACK = FIXTURES / "retention" / "data-stack.yaml"

# Every gap of the seed's stack, as (rule, resource), before any fix.
SEED_GAPS = {
    ("RT002", "ImageProcessorFunction"),  # logs kept forever in /aws/lambda/<name>
    ("RT003", "ImageMetadataTable"),
    ("RT005", "ImageMetadataTable"),
    ("RT007", "ImageMetadataTable"),
    ("RT008", "UploadBucket"),
    ("RT008", "ThumbnailBucket"),
    ("RT010", "UploadBucket"),
    ("RT010", "ThumbnailBucket"),
}


def left_out_on_purpose(template: Template, check_id: str, line: int) -> bool:
    """cfn-lint retention checks cfnfix does not make by default: I3011 on cluster members,
    log groups and queues (RT003), I3013 outside dead-letter queues (RT011)."""
    owner = None
    for resource in template.resources.values():
        if template.location(resource.path).line <= line:
            owner = resource
    if owner is None:
        return False
    if check_id == "I3011":
        return is_cluster_member(owner) or owner.type in ("AWS::Logs::LogGroup", "AWS::SQS::Queue")
    if check_id == "I3013":
        return owner.logical_id not in dead_letter_queues(template)
    return False


def retention_rules() -> list[Rule]:
    classes = [c for c in registry.collect().values() if c.family == "retention"]
    return make_rules(classes)


def cfn_lint(path: Path) -> list[tuple[str, int, str]]:
    """cfn-lint's findings on ``path``, informational ones included."""
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(path, config=ManualArgs(include_checks=["I"], regions=["us-east-1"]))
    return [(m.rule.id, m.linenumber, m.message) for m in matches]


def fixed_copy(source: Path, tmp_path: Path) -> tuple[Path, str]:
    """Copy ``source`` and fix it with the family through the CLI; return path and stdout."""
    target = tmp_path / source.name
    shutil.copy(source, target)
    result = run_cfnfix("fix", "--unsafe-fixes", "--select", "RT", str(target))
    assert result.returncode == 0, result.stdout + result.stderr
    return target, result.stdout


@pytest.mark.parametrize("source", SEED_FILES, ids=lambda p: p.name)
def test_every_gap_of_the_seed_is_reported(source: Path) -> None:
    result = run_cfnfix("check", "--select", "RT", "--format", "json", str(source))
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert {(f["rule"], f["resource"]) for f in findings} == SEED_GAPS


@pytest.mark.parametrize("source", [*SEED_FILES, DATA_STACK], ids=lambda p: p.name)
def test_fixed_template_is_clean_for_rules_and_cfn_lint(source: Path, tmp_path: Path) -> None:
    target, _ = fixed_copy(source, tmp_path)
    text = target.read_text(encoding="utf-8")
    assert not check(text, retention_rules(), target.name)
    # cfn-lint: no errors, no warnings, and none of its retention checks (I3011 missing
    # DeletionPolicy/UpdateReplacePolicy, I3013 missing retention period) except where
    # cfnfix disagrees on purpose (see left_out_on_purpose). I3042 (a hard-coded
    # partition in the seed's IAM role) belongs to the hardcoded family.
    fixed = parse(text, target.name)
    reported = [
        m
        for m in cfn_lint(target)
        if m[0] != "I3042" and not left_out_on_purpose(fixed, m[0], m[1])
    ]
    assert not reported, reported
    assert "I3011" in {m[0] for m in cfn_lint(source)}  # the oracle saw the gap we closed
    # A second run changes nothing.
    again = run_cfnfix("fix", "--unsafe-fixes", "--select", "RT", "--format", "json", str(target))
    assert again.returncode == 0
    assert json.loads(again.stdout)["summary"]["fixed"] == 0
    assert target.read_text(encoding="utf-8") == text


def test_seed_fix_is_minimal_and_keeps_the_original_lines(tmp_path: Path) -> None:
    source = SEED_FILES[0]
    target, _ = fixed_copy(source, tmp_path)
    original = source.read_text(encoding="utf-8").splitlines()
    fixed = target.read_text(encoding="utf-8").splitlines()
    # Only additions: every original line is still there, in order.
    it = iter(fixed)
    assert all(any(line == other for other in it) for line in original)
    plain = to_plain(parse(target.read_text(encoding="utf-8"), target.name).root)
    resources = plain["Resources"]
    assert resources["ImageMetadataTable"]["DeletionPolicy"] == "Retain"
    assert resources["UploadBucket"]["Properties"]["VersioningConfiguration"] == {
        "Status": "Enabled"
    }


def test_safe_fixes_leave_only_the_log_group_finding(tmp_path: Path) -> None:
    target = tmp_path / "seed.yaml"
    shutil.copy(SEED_FILES[0], target)
    result = run_cfnfix("fix", "--select", "RT", "--format", "json", str(target))
    remaining = json.loads(result.stdout)["findings"]
    assert sorted((f["rule"], f["fix"]["applicability"]) for f in remaining) == [
        ("RT002", "unsafe"),
        ("RT008", "unsafe"),
        ("RT008", "unsafe"),
    ]


# -- the log group of a function that already ran ------------------------------------


def _resolve(value: Any, parameters: dict[str, Any], pseudo: dict[str, str]) -> Any:
    """Resolve the Ref/Sub forms a log group name uses, with parameter defaults."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        name = value["Ref"]
        return pseudo.get(name, parameters.get(name, {}).get("Default"))
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        text = value["Fn::Sub"]
        values = {**{k: str(v.get("Default")) for k, v in parameters.items()}, **pseudo}
        for name, resolved in values.items():
            text = text.replace("${" + name + "}", resolved)
        return text
    return value


@pytest.mark.parametrize("source", SEED_FILES, ids=lambda p: p.name)
def test_log_group_fix_cannot_clash_with_the_group_lambda_created(
    source: Path, tmp_path: Path
) -> None:
    """A deployed function that has run already has ``/aws/lambda/<name>``: the fix must
    not declare a group of that name, or the stack update fails ("already exists")."""
    pytest.importorskip("moto", reason="moto models CloudWatch Logs name clashes")
    import boto3  # type: ignore[import-untyped]
    from moto import mock_aws

    target, _ = fixed_copy(source, tmp_path)
    plain = to_plain(parse(target.read_text(encoding="utf-8"), target.name).root)
    parameters = plain.get("Parameters", {})
    pseudo = {"AWS::StackName": "images", "AWS::Region": "us-east-1"}
    function = plain["Resources"]["ImageProcessorFunction"]
    deployed_name = "/aws/lambda/" + _resolve(
        function["Properties"]["FunctionName"], parameters, pseudo
    )
    assert deployed_name == "/aws/lambda/dev-image-processor"
    group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    groups = {
        logical_id: body
        for logical_id, body in plain["Resources"].items()
        if body["Type"] == "AWS::Logs::LogGroup"
    }
    assert group_id in groups
    assert "LogGroupName" not in groups[group_id]["Properties"]  # CloudFormation names it
    for body in groups.values():
        name = _resolve(body["Properties"].get("LogGroupName"), parameters, pseudo)
        assert name != deployed_name

    # The same, as CloudFormation (moto) sees it: with the group Lambda created present,
    # a stack holding the fixed template's log groups deploys, and a group with the
    # conventional name (the naive fix) fails.
    naive = {
        "Resources": {
            "Naive": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": deployed_name, "RetentionInDays": 365},
            }
        }
    }
    with mock_aws():
        logs = boto3.client("logs", region_name="us-east-1")
        logs.create_log_group(logGroupName=deployed_name)  # what the running function did
        cfn = boto3.client("cloudformation", region_name="us-east-1")
        cfn.create_stack(StackName="images", TemplateBody=json.dumps({"Resources": groups}))
        stack = cfn.describe_stacks(StackName="images")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        physical = cfn.describe_stack_resource(StackName="images", LogicalResourceId=group_id)
        created = physical["StackResourceDetail"]["PhysicalResourceId"]
        assert created != deployed_name and not created.startswith("/aws/lambda/")
        with pytest.raises(Exception, match="ResourceAlreadyExists"):
            cfn.create_stack(StackName="naive", TemplateBody=json.dumps(naive))


def test_created_log_group_is_born_compliant_for_every_rule() -> None:
    """The group RT002 adds trips no default cfnfix rule, of this family or any other.
    (The opt-in SE007 asks every log group for a KMS key; the seed has none to give.)"""
    text = SEED_FILES[0].read_text(encoding="utf-8")
    outcome = fix(text, retention_rules(), unsafe=True)
    assert not outcome.result.findings
    every_rule = make_rules(registry.select(registry.collect(), [], []))
    findings = check(outcome.template.text, every_rule)
    on_new_group = [f for f in findings if f.resource == "ImageProcessorFunctionLogGroup"]
    assert not on_new_group, [(f.rule.id, f.message) for f in on_new_group]


def test_second_function_reuses_nothing_and_names_stay_unique() -> None:
    text = """
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: a.h, CodeUri: src/}
  Fn2:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: a.h, CodeUri: src/}
  FnLogGroup2:
    Type: AWS::SNS::Topic
"""
    outcome = fix(text, retention_rules(), unsafe=True)
    plain = to_plain(outcome.template.root)["Resources"]
    assert plain["Fn"]["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": "FnLogGroup"}
    assert plain["Fn2"]["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": "Fn2LogGroup"}
    assert plain["FnLogGroup2"]["Type"] == "AWS::SNS::Topic"
    assert not outcome.result.findings


# -- the corpus ----------------------------------------------------------------------


def test_corpus_fixes_reparse_are_idempotent_and_add_no_cfn_lint_errors(
    corpus_files: list[Path], tmp_path: Path
) -> None:
    from cfnlint.decode import decode

    assert corpus_files
    corpus = CORPUS
    work = tmp_path / "corpus"
    shutil.copytree(corpus, work)
    first = run_cfnfix("fix", "--unsafe-fixes", "--select", "RT", str(work), timeout=300)
    assert "Traceback" not in first.stderr
    changed = [
        p
        for p in sorted(work.rglob("*"))
        if p.is_file() and not filecmp.cmp(p, corpus / p.relative_to(work), shallow=False)
    ]
    assert len(changed) > 100  # the family finds work in most real templates
    for path in changed:
        _, problems = decode(str(path))  # cfn-lint's own parser reads every fixed file
        assert not problems, (path, problems)
    snapshot = {p: p.read_bytes() for p in changed}
    second = run_cfnfix("fix", "--unsafe-fixes", "--select", "RT", str(work), timeout=300)
    assert "Traceback" not in second.stderr
    assert all(p.read_bytes() == data for p, data in snapshot.items())
    assert not [
        p
        for p in sorted(work.rglob("*"))
        if p.is_file()
        and p not in snapshot
        and not filecmp.cmp(p, corpus / p.relative_to(work), shallow=False)
    ]
    # cfn-lint on a sample (linting all ~270 changed files twice takes minutes; the full
    # comparison is part of the family's corpus review):
    # no error code appears more often after the fix than before.
    from cfnlint.api import ManualArgs, lint_file

    def errors(path: Path) -> Counter[str]:
        matches = lint_file(path, config=ManualArgs(regions=["us-east-1"]))
        return Counter(m.rule.id for m in matches if m.rule.id.startswith("E"))

    for path in changed[::50]:
        new = errors(path) - errors(corpus / path.relative_to(work))
        assert not new, (path, dict(new))


def test_rules_that_restate_defaults_are_opt_in() -> None:
    available = registry.collect()
    on = {rule.id for rule in registry.select(available, [], [])}
    family = {rule.id for rule in registry.select(available, ["retention", "DL"], [])}
    assert not {"RT004", "DL007"} & (on | family)
    assert {
        rule.id for rule in registry.select(available, ["RT004", "unbounded-retry-policy"], [])
    } == {
        "RT004",
        "DL007",
    }
    assert "Opt-in" in available["RT004"].documentation()


@pytest.mark.parametrize(
    ("resource_type", "properties", "rule_ids"),
    [
        ("AWS::DocDB::DBCluster", "{}", {"RT006", "RT007"}),
        ("AWS::Neptune::DBCluster", "{}", {"RT006", "RT007"}),
        ("AWS::Redshift::Cluster", "{}", {"RT006"}),
        ("AWS::DynamoDB::GlobalTable", "{Replicas: [{Region: eu-west-1}]}", {"RT005", "RT007"}),
        ("AWS::Serverless::SimpleTable", "{}", {"RT005"}),
        ("AWS::Synthetics::Canary", "{}", {"RT011"}),
    ],
)
def test_rules_run_on_a_template_with_one_resource_of_their_types(
    resource_type: str, properties: str, rule_ids: set[str]
) -> None:
    """Each type a rule reports on is in its `resource_types` (else the engine skips it)."""
    text = f"Resources:\n  Data:\n    Type: {resource_type}\n    Properties: {properties}\n"
    rules = make_rules(
        [registry.collect()[i] for i in sorted(rule_ids)],
        {"RT011": {"dead-letter-queues-only": False}},
    )
    assert {f.rule.id for f in check(text, rules)} == rule_ids
