"""The security access rules (SE010-SE016) on the seed's stack and the access fixtures,
through the command line with cfn-lint as the oracle, over the corpus, and the IAM
helpers they share. Single-rule behaviour lives in fixtures/rule_cases/SE01*.yaml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cfnfix_rules.security._iam import action_class, all_resources, globs_intersect, render
from cfnfix_rules.security._loops import recursive_loops, s3_triggers
from cfnlint.api import lint_file

from cfnfix import validate
from cfnfix.errors import LoadError
from cfnfix.fixer import fix_template
from cfnfix.rule import Rule
from cfnfix.source import Source, read_source
from cfnfix.template import Template
from cfnfix.testing import check, make_rules, parse
from tests.conftest import FIXTURES, builtin_rules, run_cfnfix

IDS = ("SE010", "SE011", "SE012", "SE013", "SE014", "SE015", "SE016")
SECURITY = FIXTURES / "security"
SEED = FIXTURES / "seed"
# fixture -> the (rule, resource) findings it must give, and nothing else of these rules.
EXPECTED: dict[Path, set[tuple[str, str | None]]] = {
    # The seed's permission has SourceArn and SourceAccount, its role writes only to the
    # thumbnail bucket, no policy has a wildcard: none of these gaps is in the seed.
    SEED / "image-processing-broken.yaml": set(),
    SEED / "image-processing-broken.json": set(),
    SEED / "image-processing-broken-sam.yaml": set(),
    SECURITY / "access-loop.yaml": {("SE015", "LoopFunction")},
    SECURITY / "access-loop-sam.yaml": {("SE015", "LoopFunction")},
    SECURITY / "access-iam.yaml": {
        ("SE010", "ProcessorRole"),
        ("SE011", "ProcessorRole"),
        ("SE012", "ProcessorRole"),
        ("SE013", "ProcessorRole"),
        ("SE014", "TopicPermission"),
    },
    SECURITY / "access-iam-sam.yaml": {
        ("SE011", "WideFunction"),
        ("SE013", "WideFunction"),
        ("SE013", "PowerFunction"),
    },
}


def access_rules() -> list[Rule]:
    return make_rules([builtin_rules()[i] for i in IDS])


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda p: p.name)
def test_each_gap_is_reported_once_on_its_resource(path: Path) -> None:
    findings = check(path.read_text(encoding="utf-8"), access_rules(), path.name)
    pairs = [(f.rule.id, f.resource) for f in findings]
    assert sorted(pairs) == sorted(EXPECTED[path]), [f.message for f in findings]


@pytest.mark.parametrize("name", ["access-loop.yaml", "access-loop-sam.yaml"])
def test_loop_message_walks_through_the_loop(name: str) -> None:
    template = Template.parse(read_source(SECURITY / name))
    [loop] = recursive_loops(template)
    assert (loop.trigger.bucket, loop.trigger.function) == ("LoopBucket", "LoopFunction")
    [finding] = check(template.text, make_rules([builtin_rules()["SE015"]]), name)
    assert "(1) bucket LoopBucket invokes function LoopFunction on s3:ObjectCreated:*" in (
        finding.message
    )
    assert "(2)" in finding.message and "s3:PutObject on" in finding.message
    assert "(3) an object LoopFunction writes there" in finding.message
    # the separate-bucket and other-prefix functions are triggered, but not looping
    functions = {t.function for t in s3_triggers(template)}
    assert {"SeparateFunction", "PrefixFunction"} <= functions


def fix_copies(folder: Path, sources: list[Path]) -> dict[str, Path]:
    """Copies of ``sources`` fixed by `cfnfix fix --unsafe-fixes` with every rule (the
    real CLI), by file name."""
    result = {}
    for source in sources:
        target = folder / source.name
        shutil.copyfile(source, target)
        result[source.name] = target
    run = run_cfnfix("fix", "--unsafe-fixes", str(folder))
    assert run.returncode in (0, 1), run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    return result


def assert_fixed_point(path: Path) -> None:
    """A second fix, every rule and unsafe fixes included, changes nothing."""
    before = path.read_bytes()
    outcome = fix_template(
        Template.parse(read_source(path)), make_rules(builtin_rules().values()), unsafe=True
    )
    assert not outcome.applied, [a.rule.id for a in outcome.applied]
    assert path.read_bytes() == before


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return fix_copies(tmp_path_factory.mktemp("security_access"), list(EXPECTED))


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda p: p.name)
def test_fixed_fixture_passes_cfn_lint_and_keeps_only_unfixable(
    fixed: dict[str, Path], path: Path
) -> None:
    target = fixed[path.name]
    matches = [m for m in lint_file(target) if m.rule.id[0] in "EW"]
    assert not matches, [str(m) for m in matches]
    left = check(target.read_text(encoding="utf-8"), access_rules(), path.name)
    fixable = {r.id for r in access_rules() if r.fix_availability == "always"}
    assert not [f for f in left if f.fix is not None or f.rule.id in fixable]


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda p: p.name)
def test_second_fix_changes_nothing(fixed: dict[str, Path], path: Path) -> None:
    assert_fixed_point(fixed[path.name])


# -- the corpus ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_outcomes(corpus_files: list[Path]) -> list[tuple[str, str, str, str, int]]:
    """(name, mode, original, fixed, second-pass changes) for every corpus file."""
    rules = access_rules()
    results = []
    for path in corpus_files:
        try:
            template = Template.parse(read_source(path))
        except LoadError:
            continue
        for unsafe in (False, True):
            outcome = fix_template(template, rules, unsafe)
            again = fix_template(outcome.template, rules, unsafe)
            mode = "unsafe" if unsafe else "safe"
            results.append(
                (path.name, mode, template.text, outcome.template.text, len(again.applied))
            )
    return results


def test_corpus_fixes_reparse_and_are_idempotent(
    corpus_outcomes: list[tuple[str, str, str, str, int]],
) -> None:
    changed = 0
    for name, mode, original, new, second in corpus_outcomes:
        assert second == 0, (name, mode)
        if new != original:
            changed += 1
            Template.parse(Source.from_text(new, name))
    assert changed > 0  # SE014 adds SourceAccount to real permissions


@pytest.mark.skipif(not validate.available(), reason="cfn-lint is not installed")
def test_corpus_fixes_add_no_cfn_lint_error(
    corpus_outcomes: list[tuple[str, str, str, str, int]],
) -> None:
    new = {}
    for name, mode, original, fixed_text, _ in corpus_outcomes:
        if mode == "unsafe" and fixed_text != original:
            errors = validate.new_errors(original, fixed_text)
            if errors:
                new[name] = [f"{e.rule}: {e.message}" for e in errors]
    assert not new


# -- the helpers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("s3:GetObject", "read"),
        ("s3:Get*", "read"),
        ("dynamodb:BatchGetItem", "read"),
        ("ecr:BatchCheckLayerAvailability", "read"),
        ("s3:PutObject", "write"),
        ("s3:*Object", "write"),
        ("s3:Put*", "write"),
        ("iam:PassRole", "write"),
        ("kms:Decrypt", "write"),
        ("xray:PutTraceSegments", "global"),
        ("logs:PutLogEvents", "global"),
        ("EC2:CreateNetworkInterface", "global"),
        ("states:SendTaskSuccess", "global"),
    ],
)
def test_action_classes(action: str, expected: str) -> None:
    assert action_class(action) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b/uploads/*", True),
        ("arn:aws:s3:::b/thumbnails/*", "arn:aws:s3:::b/uploads/*", False),
        ("*", "arn:aws:s3:::b/x*.jpg", True),
        ("arn:aws:s3:::b/*.png", "arn:aws:s3:::b/*.jpg", False),
        ("arn:aws:s3:::b/*.png", "arn:aws:s3:::b/in/*", True),
        ("arn:aws:s3:::other/*", "arn:aws:s3:::b/*", False),
        ("arn:aws:s3:::b*", "arn:aws:s3:::b/k*", True),
    ],
)
def test_globs_intersect(a: str, b: str, expected: bool) -> None:
    assert globs_intersect(a, b) is expected
    assert globs_intersect(b, a) is expected


def test_render_keeps_references_symbolic() -> None:
    template = parse(
        """
Parameters:
  Name: {Type: String}
Resources:
  B:
    Type: AWS::S3::Bucket
"""
    )
    assert render(template, {"Fn::GetAtt": ["B", "Arn"]}) == "arn:aws:s3:::${B}"
    assert render(template, {"Fn::Sub": "${B.Arn}/*"}) == "arn:aws:s3:::${B}/*"
    assert render(template, {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Name}/*"}) == (
        "arn:aws:s3:::${Name}/*"
    )
    join = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "B"}]]}
    assert render(template, join) == "arn:aws:s3:::${B}"
    assert render(template, {"Fn::If": ["C", "a", "b"]}) is None
    assert all_resources(template, {"Fn::Sub": "arn:${AWS::Partition}:s3:::*"})
    assert all_resources(template, "arn:aws:dynamodb:*:*:table/*")
    assert not all_resources(template, {"Fn::Sub": "${B.Arn}/*"})
    assert not all_resources(template, "arn:aws:logs:*:*:log-group:/aws/lambda/*")


_WIDE = """
            - {Effect: Allow, Action: '*', Resource: '*'}
            - {Effect: Allow, Action: 's3:*', Resource: '*'}
            - {Effect: Allow, Action: 'sqs:SendMessage', Resource: '*'}
"""
# Each kind of policy holder the IAM rules read, alone in its template: each must be in the
# rules' `resource_types`, or the engine would not run them on such a template.
_HOLDERS = {
    "AWS::IAM::Policy": """
Resources:
  P:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: p
      PolicyDocument:
          Statement:""",
    "AWS::IAM::ManagedPolicy": """
Resources:
  P:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
          Statement:""",
    "AWS::Serverless::Function": """
Transform: AWS::Serverless-2016-10-31
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Policies:
        - AdministratorAccess
        - Statement:""",
    "AWS::Serverless::StateMachine": """
Transform: AWS::Serverless-2016-10-31
Resources:
  M:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachine.json
      Policies:
        - AdministratorAccess
        - Statement:""",
}


@pytest.mark.parametrize("holder", list(_HOLDERS))
def test_iam_rules_run_where_the_only_policy_holder_is(holder: str) -> None:
    text = _HOLDERS[holder] + _WIDE
    assert set(parse(text).resource_types) == {holder}
    ids = {"SE010", "SE011", "SE012"} | ({"SE013"} if "Serverless" in holder else set())
    findings = check(text, make_rules([builtin_rules()[i] for i in sorted(ids)]))
    assert {f.rule.id for f in findings} == ids, [f.message for f in findings]


def test_recursive_loop_allowed_in_globals_of_the_only_function() -> None:
    text = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    RecursiveLoop: Allow
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.handler, CodeUri: src/}
"""
    findings = check(text, make_rules([builtin_rules()["SE016"]]))
    assert [f.path for f in findings] == [("Globals", "Function", "RecursiveLoop")]
