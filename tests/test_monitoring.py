"""The monitoring family (MO) on the seed's stack (YAML, JSON, SAM) and a variant with the
alarm mistakes of real templates, through the command line, with cfn-lint as the oracle;
plus the corpus. Single-rule behaviour lives in fixtures/rule_cases/MO*.yaml."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cfnfix_rules.dead_letter._refs import dead_letter_uses, referenced_ids

from cfnfix import validate
from cfnfix.rule import Rule
from cfnfix.source import read_source
from cfnfix.template import Template
from cfnfix.testing import check, fix, make_rules, parse
from tests.conftest import FIXTURES, builtin_rules, run_cfnfix

SEED = FIXTURES / "seed"
GAPS = FIXTURES / "monitoring" / "image-processing-monitoring-gaps.yaml"
FILES = [
    SEED / "image-processing-broken.yaml",
    SEED / "image-processing-broken.json",
    SEED / "image-processing-broken-sam.yaml",
    GAPS,
]
# (rule, resource) of every monitoring finding on each file before fixing.
EXPECTED = {
    "image-processing-broken.yaml": {("MO005", None)},
    "image-processing-broken.json": {("MO005", None)},
    "image-processing-broken-sam.yaml": {("MO005", None)},
    GAPS.name: {
        ("MO005", None),
        ("MO002", "ProcessorDeadLetterQueue"),
        ("MO004", "ErrorAlarm"),
        ("MO004", "BacklogAlarm"),
        ("MO003", "ThrottleAlarm"),
    },
}


def mo_rules() -> list[Rule]:
    return make_rules([cls for rid, cls in builtin_rules().items() if rid.startswith("MO")])


def load(path: Path) -> Template:
    return Template.parse(read_source(path))


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every file fixed by `cfnfix fix --unsafe-fixes` with every rule (the real CLI)."""
    folder = tmp_path_factory.mktemp("monitoring")
    result = {}
    for source in FILES:
        target = folder / source.name
        shutil.copyfile(source, target)
        result[source.name] = target
    run = run_cfnfix("fix", "--unsafe-fixes", "--format", "json", str(folder))
    assert run.returncode in (0, 1), run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    remaining = json.loads(run.stdout)["findings"]
    assert not [f for f in remaining if f["fix"]], "fixable findings remain"
    return result


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_gap_is_reported_once_on_its_resource(path: Path) -> None:
    findings = check(path.read_text(encoding="utf-8"), mo_rules(), path.name)
    pairs = [(f.rule.id, f.resource) for f in findings]
    assert len(pairs) == len(set(pairs)), pairs
    assert set(pairs) == EXPECTED[path.name]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fixed_file_has_no_monitoring_gap_and_passes_cfn_lint(
    fixed: dict[str, Path], path: Path
) -> None:
    text = fixed[path.name].read_text(encoding="utf-8")
    assert not check(text, mo_rules(), path.name)
    if validate.available():
        problems = [m for m in validate.lint_text(text) if m.rule[0] in "EW"]
        assert not problems, problems


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_second_fix_changes_nothing(fixed: dict[str, Path], path: Path) -> None:
    before = fixed[path.name].read_bytes()
    run = run_cfnfix("fix", "--unsafe-fixes", str(fixed[path.name]))
    assert run.returncode in (0, 1), run.stdout + run.stderr
    assert fixed[path.name].read_bytes() == before


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_dead_letter_queue_is_watched_and_notifies_the_alarm_topic(
    fixed: dict[str, Path], path: Path
) -> None:
    """DL001 creates the seed's dead-letter queue; MO002 then gives it an alarm wired to
    the topic the seed's alarms already use."""
    template = load(fixed[path.name])
    queues = dead_letter_uses(template)
    assert queues
    for queue in queues:
        [alarm] = [
            a
            for a in template.resources_of("AWS::CloudWatch::Alarm")
            if a.properties.get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and queue in referenced_ids(a.properties.get("Dimensions"))
        ]
        assert alarm.properties["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue, "QueueName"]}
        assert alarm.properties["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_created_alarms_and_dashboards_satisfy_every_rule(fixed: dict[str, Path]) -> None:
    every_rule = make_rules(builtin_rules().values())
    for path in FILES:
        original = load(path)
        template = load(fixed[path.name])
        created = {
            rid
            for rid, r in template.resources.items()
            if rid not in original.resources and r.type.startswith("AWS::CloudWatch::")
        }
        assert created, path.name
        flagged = [
            f"{f.rule.id} {f.resource}: {f.message}"
            for f in check(template.text, every_rule, path.name)
            if f.resource in created
        ]
        assert not flagged, flagged


def test_misspelled_alarm_is_one_finding_and_its_fix_covers_the_function() -> None:
    """The typo'd Errors alarm is MO004's finding, not also MO001's; fixing it makes the
    alarm name the function, so MO001 has nothing to add."""
    text = GAPS.read_text(encoding="utf-8")
    rules = mo_rules()
    outcome = fix(text, rules, unsafe=True, name=GAPS.name)
    template = parse(outcome.template.text)
    errors = [
        a
        for a in template.resources_of("AWS::CloudWatch::Alarm")
        if a.properties.get("MetricName") == "Errors"
    ]
    assert [a.logical_id for a in errors] == ["ErrorAlarm"]
    assert errors[0].properties["Dimensions"][0]["Value"] == {"Ref": "ProcessorFunction"}


def test_no_fix_without_an_alarm_topic() -> None:
    text = """Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration:
        LambdaConfigurations:
          - {Event: 's3:ObjectCreated:*', Function: !GetAtt Fn.Arn}
  Fn:
    Type: AWS::Lambda::Function
  Unused:
    Type: AWS::SNS::Topic
"""
    [finding] = [f for f in check(text, mo_rules()) if f.rule.id == "MO001"]
    assert finding.fix is None
    assert "no alarm topic" in finding.message


def test_topic_encrypted_with_the_aws_managed_key_is_not_reused() -> None:
    text = """Resources:
  Permission:
    Type: AWS::Lambda::Permission
    Properties: {FunctionName: !Ref Fn, Action: 'lambda:InvokeFunction', Principal: sns.amazonaws.com}
  Fn:
    Type: AWS::Lambda::Function
  Topic:
    Type: AWS::SNS::Topic
    Properties: {KmsMasterKeyId: alias/aws/sns}
  Other:
    Type: AWS::CloudWatch::Alarm
    Properties: {Namespace: AWS/Lambda, MetricName: Throttles, AlarmActions: [!Ref Topic]}
"""
    [finding] = [f for f in check(text, mo_rules()) if f.rule.id == "MO001"]
    assert finding.fix is None


def test_corpus_fix_reparses_is_stable_and_gains_no_cfn_lint_error(
    corpus_files: list[Path],
) -> None:
    rules = mo_rules()
    changed = []
    for path in corpus_files:
        try:
            template = load(path)
        except Exception:  # unreadable files are the loader's concern
            continue
        check(template.text, rules, path.name)  # raises if a rule crashes
        outcome = fix(template.text, rules, unsafe=True, name=path.name)
        assert not outcome.refused, (path.name, [r.reason for r in outcome.refused])
        if outcome.template.text == template.text:
            continue
        parse(outcome.template.text, path.name)
        assert not fix(outcome.template.text, rules, unsafe=True, name=path.name).applied
        changed.append((path.name, template.text, outcome.template.text))
    assert changed
    if validate.available():
        for name, before, after in changed:
            assert not validate.new_errors(before, after), name
