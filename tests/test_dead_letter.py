"""The dead-letter family (DL) on the seed's stack and its variants, through the command
line, with cfn-lint as the oracle; plus a whole-corpus fix run.

Single-rule behaviour lives in fixtures/rule_cases/DL*.yaml.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from cfnfix_rules.dead_letter._build import role_grants_send
from cfnfix_rules.dead_letter._invocation import classify, failure_capture
from cfnfix_rules.dead_letter._refs import get, referenced_ids
from cfnlint.api import lint_file
from cfnlint.decode import decode_str

from cfnfix import registry
from cfnfix.rule import Applicability, Rule
from cfnfix.source import read_source
from cfnfix.template import Template
from cfnfix.testing import check, fix, make_rules, parse
from tests.conftest import FIXTURES, builtin_rules, run_cfnfix

SEED = FIXTURES / "seed"
VARIANTS = FIXTURES / "dead_letter"
SAM_VARIANTS = VARIANTS / "image-processing-sam-variants.yaml"
CFN_VARIANTS = VARIANTS / "image-processing-cfn-variants.yaml"
FIXTURE_FILES = [
    SEED / "image-processing-broken.yaml",
    SEED / "image-processing-broken.json",
    SEED / "image-processing-broken-sam.yaml",
    SAM_VARIANTS,
    CFN_VARIANTS,
]
# Which functions each fixture invokes asynchronously (and so must be reported).
ASYNC_FUNCTIONS = {
    "image-processing-broken.yaml": {"ImageProcessorFunction"},
    "image-processing-broken.json": {"ImageProcessorFunction"},
    "image-processing-broken-sam.yaml": {"ImageProcessorFunction"},
    SAM_VARIANTS.name: {
        "ImageProcessorFunction",
        "NotificationFunction",
        "NightlyReportFunction",
        "AuditFunction",
    },
    CFN_VARIANTS.name: {"NotifierFunction", "CleanupFunction"},
}


def dl_rules() -> list[Rule]:
    """The family's rules that `--select DL` runs (DL007 is opt-in)."""
    return make_rules(
        [
            cls
            for rid, cls in builtin_rules().items()
            if rid.startswith("DL") and cls.default_enabled
        ]
    )


def load(path: Path) -> Template:
    return Template.parse(read_source(path))


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every fixture fixed by `cfnfix fix --unsafe-fixes --select DL` (the real CLI)."""
    folder = tmp_path_factory.mktemp("dead_letter")
    result = {}
    for source in FIXTURE_FILES:
        target = folder / source.name
        shutil.copyfile(source, target)
        result[source.name] = target
    run = run_cfnfix("fix", "--unsafe-fixes", "--select", "DL", str(folder))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    return result


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_every_async_function_is_reported_and_no_sync_one(path: Path) -> None:
    findings = check(path.read_text(encoding="utf-8"), make_rules([builtin_rules()["DL001"]]))
    findings = [f for f in findings if f.rule.id == "DL001"]
    assert {f.resource for f in findings} == ASYNC_FUNCTIONS[path.name]
    modes = classify(load(path))
    for function, mode in modes.items():
        assert (mode == "async") == (function in ASYNC_FUNCTIONS[path.name]), function


def test_api_and_mapping_functions_are_classified_sync_and_poll() -> None:
    assert classify(load(SAM_VARIANTS))["ImageApiFunction"] == "sync"
    modes = classify(load(CFN_VARIANTS))
    assert modes["ApiHandlerFunction"] == "sync"
    assert modes["StreamConsumerFunction"] == "poll"


def test_role_from_outside_is_named_in_the_finding() -> None:
    findings = check(CFN_VARIANTS.read_text(encoding="utf-8"), dl_rules())
    [notifier] = [f for f in findings if f.rule.id == "DL001" and f.resource == "NotifierFunction"]
    assert "outside the template" in notifier.message
    assert "sqs:SendMessage on NotifierFunctionDeadLetterQueue" in notifier.message


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_fixed_template_passes_cfn_lint(fixed: dict[str, Path], path: Path) -> None:
    matches = lint_file(fixed[path.name])
    assert not matches, [str(m) for m in matches]


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_fixed_template_captures_failures_and_role_can_send(
    fixed: dict[str, Path], path: Path
) -> None:
    template = load(fixed[path.name])
    assert not check(template.text, dl_rules(), path.name)
    for function in ASYNC_FUNCTIONS[path.name]:
        assert failure_capture(template, function), function
        resource = template.resources[function]
        props = template.effective_properties(resource)
        target = get(props, "DeadLetterQueue" if resource.is_sam else "DeadLetterConfig")
        [queue] = referenced_ids(get(target, "TargetArn"))
        assert template.resources[queue].type == "AWS::SQS::Queue"
        role_value = props.get("Role")
        if resource.is_sam and role_value is None:
            assert get(target, "Type") == "SQS"  # SAM grants its generated role (tested below)
            continue
        roles = [
            template.resources[r] for r in referenced_ids(role_value) if r in template.resources
        ]
        if not roles:  # a role from outside: the finding said so (test above)
            assert function == "NotifierFunction"
            continue
        assert all(role_grants_send(template, role, queue) for role in roles), function


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_second_fix_changes_nothing(fixed: dict[str, Path], path: Path) -> None:
    before = fixed[path.name].read_bytes()
    run = run_cfnfix("fix", "--unsafe-fixes", "--select", "DL", str(fixed[path.name]))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "fixed" not in run.stdout.lower().replace("fixable", "")
    assert fixed[path.name].read_bytes() == before


def _sam_transform(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    data, _ = decode_str(path.read_text(encoding="utf-8"))
    result: dict[str, Any] = transform(data, {}, NoManagedPolicies())
    return result


@pytest.mark.parametrize(
    "name", [SAM_VARIANTS.name, "image-processing-broken-sam.yaml"], ids=lambda n: n
)
def test_sam_generated_roles_and_rules_fit_the_fix(
    fixed: dict[str, Path], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the SAM transform, each generated role may send to its function's queue and
    each queue policy names a rule that SAM really generates."""
    resources = _sam_transform(fixed[name], monkeypatch)["Resources"]
    for function in ASYNC_FUNCTIONS[name]:
        queue = f"{function}DeadLetterQueue"
        role_arn = resources[function]["Properties"]["Role"]
        [role] = referenced_ids(role_arn)
        statements = [
            s
            for policy in resources[role]["Properties"].get("Policies", [])
            for s in policy["PolicyDocument"]["Statement"]
        ]
        assert any(
            "sqs:SendMessage" in str(s["Action"]) and queue in referenced_ids(s["Resource"])
            for s in statements
        ), (function, statements)
    for logical_id, body in resources.items():
        if body["Type"] == "AWS::SQS::QueuePolicy":
            for statement in body["Properties"]["PolicyDocument"]["Statement"]:
                source = get(statement, "Condition", "ArnEquals", "aws:SourceArn")
                for name_ in referenced_ids(source):
                    assert name_ in resources, (logical_id, name_)


def test_created_resources_satisfy_every_rule(fixed: dict[str, Path]) -> None:
    """Nothing a DL fix creates is flagged by any default rule (all families), except the
    depth alarm a new dead-letter queue needs (MO002): that is another resource, which
    MO002's own fix adds where the template has an alarm topic to send it to (fixing with
    every rule then converges: tests/test_monitoring.py, tests/test_seed_stack.py)."""
    every_rule = make_rules(registry.select(builtin_rules(), [], []))
    for path in FIXTURE_FILES:
        original = load(path)
        template = load(fixed[path.name])
        created = set(template.resources) - set(original.resources)
        assert created
        flagged = [
            f"{f.rule.id} {f.resource}: {f.message}"
            for f in check(template.text, every_rule, path.name)
            if f.resource in created and f.rule.id != "MO002"
        ]
        assert not flagged, flagged


def test_retry_bound_fix_is_safe_only_with_the_service_defaults() -> None:
    text = """Resources:
  Config:
    Type: AWS::Lambda::EventInvokeConfig
    Properties: {FunctionName: fn, Qualifier: $LATEST}
"""
    rule_class = builtin_rules()["DL007"]
    [default] = check(text, make_rules([rule_class]))
    [custom] = check(text, make_rules([rule_class], {"DL007": {"invoke-retry-attempts": 0}}))
    assert default.fix is not None and default.fix.applicability is Applicability.SAFE
    assert custom.fix is not None and custom.fix.applicability is Applicability.UNSAFE
    assert not fix(text, make_rules([rule_class], {"DL007": {"invoke-retry-attempts": 0}})).applied


def test_same_queue_is_reused_not_duplicated() -> None:
    """Two findings that want the same queue: one queue, one policy, both wired."""
    text = """Resources:
  Rule:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(1 day)
      Targets:
        - {Id: a, Arn: !ImportValue a}
        - {Id: b, Arn: !ImportValue b}
        - {Id: c, Arn: !ImportValue c}
"""
    outcome = fix(text, make_rules([builtin_rules()["DL006"]]), unsafe=True)
    template = parse(outcome.template.text)
    assert sorted(template.resources) == [
        "Rule",
        "RuleDeadLetterQueue",
        "RuleDeadLetterQueuePolicy",
    ]
    targets = template.resources["Rule"].properties["Targets"]
    assert all(referenced_ids(t["DeadLetterConfig"]) == ["RuleDeadLetterQueue"] for t in targets)
    [statement] = template.resources["RuleDeadLetterQueuePolicy"].properties["PolicyDocument"][
        "Statement"
    ]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}


def test_corpus_fix_reparses_and_is_stable(corpus_files: list[Path]) -> None:
    """Every corpus file the DL fixes change re-parses, a second fix changes nothing, and
    only findings without a fix remain (inline SNS topic subscriptions)."""
    rules = dl_rules()
    changed = 0
    for path in corpus_files:
        try:
            template = load(path)
        except Exception:  # files cfnfix reports as unreadable are not this family's concern
            continue
        outcome = fix(template.text, rules, unsafe=True, name=path.name)
        assert not outcome.refused, (path.name, [r.reason for r in outcome.refused])
        if not outcome.applied:
            continue
        changed += 1
        parse(outcome.template.text, path.name)
        assert not fix(outcome.template.text, rules, unsafe=True, name=path.name).applied, path
        left = [f for f in outcome.result.findings if f.fix is not None]
        assert not left, (path.name, [f.message for f in left])
    assert changed > 50  # the corpus has dozens of async functions, queues and targets
