"""Family tests for the `hardcoded` rules (HC001-HC005): whole fixtures through the CLI,
the cfn-lint oracle on fixed templates, idempotency, "safe fixes deploy the same" by
resolving templates with their default parameters, and a corpus run.

Fixtures (fixtures/hardcoded/): broken.yaml and broken-sam.yaml mark every expected
finding with a trailing `# expect: HC00x ...` comment; broken.json is broken.yaml in
JSON. The seed's own broken stack (fixtures/seed/) is run too.
"""

from __future__ import annotations

import collections
import copy
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml

from cfnfix.fixer import MAX_ITERATIONS, allowed, fix_template
from cfnfix.nodes import to_plain
from cfnfix.rule import Rule
from cfnfix.source import Source
from cfnfix.template import Template
from cfnfix.testing import make_rules, parse
from tests.conftest import FIXTURES, builtin_rules, run_cfnfix

HC_FIXTURES = FIXTURES / "hardcoded"
SEED = FIXTURES / "seed"
MARKED = ["broken.yaml", "broken-sam.yaml"]
ALL_FIXTURES = [
    HC_FIXTURES / "broken.yaml",
    HC_FIXTURES / "broken.json",
    HC_FIXTURES / "broken-sam.yaml",
    SEED / "image-processing-broken.yaml",
    SEED / "image-processing-broken.json",
    SEED / "image-processing-broken-sam.yaml",
]
# The findings of broken.json: (rule, line, resource), checked by hand against the file.
JSON_EXPECTED = [
    ("HC001", 25, "PillowLayer"),
    ("HC005", 38, "ProcessorRole"),
    ("HC004", 52, "ProcessorRole"),
    ("HC004", 64, "ProcessorRole"),
    ("HC002", 70, "ProcessorRole"),
    ("HC003", 70, "ProcessorRole"),
    ("HC004", 70, "ProcessorRole"),
    ("HC002", 75, "ProcessorRole"),
    ("HC004", 75, "ProcessorRole"),
    ("HC005", 86, "JobsQueue"),
    ("HC005", 94, "UploadBucket"),
    ("HC005", 100, "ProcessorFunction"),
    ("HC001", 111, "ProcessorFunction"),
    ("HC003", 118, "ProcessorFunction"),
    ("HC004", 118, "ProcessorFunction"),
    ("HC002", 122, "ProcessorFunction"),
    ("HC003", 122, "ProcessorFunction"),
    ("HC003", 123, "ProcessorFunction"),
    ("HC005", 134, "ProcessorLogs"),
    ("HC003", 175, "WorkerSubnet"),
    ("HC003", 207, None),
]


def hc_rules(**options: dict[str, Any]) -> list[Rule]:
    classes = [cls for rule_id, cls in builtin_rules().items() if rule_id.startswith("HC")]
    assert [c.id for c in classes] == ["HC001", "HC002", "HC003", "HC004", "HC005"]
    return make_rules(classes, options)


def check_json(path: Path) -> list[dict[str, Any]]:
    result = run_cfnfix("check", "--select", "HC", "--format", "json", str(path))
    assert result.returncode in (0, 1), result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return findings


def expected_marks(path: Path) -> collections.Counter[tuple[str, int]]:
    marks: collections.Counter[tuple[str, int]] = collections.Counter()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = re.search(r"# expect: (.*)$", line)
        if match:
            marks.update((rule, number) for rule in match.group(1).split())
    return marks


def resource_at(template: Template, line: int) -> str | None:
    """The resource whose text holds ``line`` (None outside Resources)."""
    for logical_id in template.resources:
        start, end = template.span(("Resources", logical_id))
        first = template.line_col(template.key_span(("Resources", logical_id))[0])[0]
        last = template.line_col(start + len(template.text[start:end].rstrip()))[0]
        if first <= line <= last:
            return logical_id
    return None


# -- checking --------------------------------------------------------------------------


@pytest.mark.parametrize("name", MARKED)
def test_check_reports_every_case_on_its_resource_and_line(name: str) -> None:
    path = HC_FIXTURES / name
    findings = check_json(path)
    actual = collections.Counter((f["rule"], f["line"]) for f in findings)
    assert actual == expected_marks(path)
    template = parse(path.read_text(encoding="utf-8"), name)
    for finding in findings:
        assert finding["resource"] == resource_at(template, finding["line"]), finding


def test_json_fixture_reports_the_same_cases() -> None:
    json_findings = check_json(HC_FIXTURES / "broken.json")
    assert [(f["rule"], f["line"], f["resource"]) for f in json_findings] == JSON_EXPECTED
    yaml_findings = check_json(HC_FIXTURES / "broken.yaml")
    assert sorted((f["rule"], f["path"]) for f in json_findings) == sorted(
        (f["rule"], f["path"]) for f in yaml_findings
    )


def test_seed_layer_bucket_is_reported() -> None:
    for path in ALL_FIXTURES[3:]:
        findings = check_json(path)
        layer = [f for f in findings if f["resource"] == "PillowLayer"]
        assert [f["rule"] for f in layer] == ["HC001"], path
        assert layer[0]["path"][-1] in ("S3Bucket", "Bucket")
        assert "lambda-layers" in layer[0]["message"]


# -- fixing ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lint() -> Any:
    """cfn-lint in this process (its start-up costs seconds per subprocess)."""
    api = pytest.importorskip("cfnlint.api", reason="cfn-lint is a test dependency")

    def run(path: Path) -> list[str]:
        return [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in api.lint_file(path)]

    return run


SAM_URIS_BY_TYPE = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::Api": "DefinitionUri",
    "AWS::Serverless::HttpApi": "DefinitionUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}


class _AnyManagedPolicy(dict[str, str]):
    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return f"arn:aws:iam::aws:policy/{key}"


class _PolicyLoader:
    def load(self) -> dict[str, str]:
        return _AnyManagedPolicy()


def _packaged(data: dict[str, Any]) -> dict[str, Any]:
    """What `sam package` hands the transform: local paths become S3 URIs; S3 URIs and
    `{Bucket, Key}` mappings stay as written, so the transform judges cfnfix's edits."""
    data = copy.deepcopy(data)

    def upload(props: Any, key: str) -> None:
        value = props.get(key) if isinstance(props, dict) else None
        if isinstance(value, str) and not value.startswith("s3://"):
            props[key] = "s3://packaged-bucket/packaged-key"

    for body in (data.get("Resources") or {}).values():
        if isinstance(body, dict) and body.get("Type") in SAM_URIS_BY_TYPE:
            upload(body.get("Properties"), SAM_URIS_BY_TYPE[body["Type"]])
    for section, key in (("Function", "CodeUri"), ("Api", "DefinitionUri")):
        upload((data.get("Globals") or {}).get(section), key)
    return data


def sam_errors(data: dict[str, Any]) -> list[str]:
    """What the real SAM transform rejects (cfn-lint replaces CodeUri, ContentUri,
    DefinitionUri and Location with placeholders before transforming, so it cannot
    judge edits there). Serverless Application Repository calls are stubbed."""
    translator = pytest.importorskip("samtranslator.translator.transform")
    plugin = pytest.importorskip("samtranslator.plugins.application.serverless_app_plugin")
    exceptions = pytest.importorskip("samtranslator.public.exceptions")

    def no_sar(self: Any, call: Any, app_id: Any, semver: Any, key: Any, logical_id: Any) -> None:
        self._applications[key] = "https://example.com/application.yaml"

    with (
        mock.patch.object(plugin.ServerlessAppPlugin, "_make_service_call_with_retry", no_sar),
        mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": "us-east-1"}),
    ):
        try:
            translator.transform(_packaged(data), {}, _PolicyLoader())
        except exceptions.InvalidDocumentException as exc:
            return sorted(str(cause) for cause in exc.causes)
        except Exception as exc:
            return [f"{type(exc).__name__}: {exc}"]
    return []


def test_sam_oracle_rejects_what_sam_rejects() -> None:
    base = load(HC_FIXTURES / "broken-sam.yaml")
    assert sam_errors(base) == []
    app = {"Type": "AWS::Serverless::Application", "Properties": {}}
    for location in (
        {"Ref": "Environment"},
        {
            "ApplicationId": {"Fn::Sub": "arn:${AWS::Partition}:serverlessrepo:x"},
            "SemanticVersion": "1",
        },
    ):
        broken = copy.deepcopy(base)
        broken["Resources"]["App"] = copy.deepcopy(app)
        broken["Resources"]["App"]["Properties"]["Location"] = location
        assert sam_errors(broken), location
    bad_uri = copy.deepcopy(base)
    function = bad_uri["Resources"]["ImageProcessorFunction"]["Properties"]
    function["CodeUri"] = {"Fn::Sub": "s3://${AWS::Region}-code/app.zip"}
    assert sam_errors(bad_uri)


def copies(tmp: Path, sources: list[Path]) -> list[Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    targets = []
    for source in sources:
        target = tmp / source.name
        shutil.copyfile(source, target)
        targets.append(target)
    return targets


@pytest.fixture(scope="module")
def unsafe_fixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every fixture fixed with `cfnfix fix --unsafe-fixes --select HC`, then checked and
    fixed once more, by the real command line (one run over a folder each)."""
    folder = tmp_path_factory.mktemp("unsafe")
    targets = copies(folder, ALL_FIXTURES)
    first = run_cfnfix("fix", "--unsafe-fixes", "--select", "HC", "--format", "json", str(folder))
    after_first = {t.name: t.read_bytes() for t in targets}
    second = run_cfnfix("fix", "--unsafe-fixes", "--select", "HC", "--format", "json", str(folder))
    return {
        "first": first,
        "second": json.loads(second.stdout),
        "after_first": after_first,
        "targets": {t.name: t for t in targets},
    }


def test_unsafe_fix_run_succeeds(unsafe_fixed: dict[str, Any]) -> None:
    first = unsafe_fixed["first"]
    assert first.returncode == 0, first.stdout + first.stderr
    document = json.loads(first.stdout)
    assert document["findings"] == [], "nothing may remain after --unsafe-fixes"
    assert {Path(f["file"]).name for f in document["fixed"]} == {p.name for p in ALL_FIXTURES}


@pytest.mark.parametrize("source", ALL_FIXTURES, ids=lambda p: p.name)
def test_unsafe_fix_removes_everything_and_passes_cfn_lint(
    source: Path, unsafe_fixed: dict[str, Any], lint: Any
) -> None:
    target = unsafe_fixed["targets"][source.name]
    assert unsafe_fixed["after_first"][source.name] != source.read_bytes()
    assert lint(target) == [], "cfn-lint must report no errors or warnings"
    if "Serverless" in target.read_text(encoding="utf-8"):
        assert sam_errors(load(target)) == []
    second = unsafe_fixed["second"]
    assert not [f for f in second["fixed"] if Path(f["file"]).name == source.name]
    assert target.read_bytes() == unsafe_fixed["after_first"][source.name], "second fix: no change"


# -- deploying the same: resolve a template with its default parameters ----------------

NO_VALUE = object()


class Resolver:
    """What a deploy sees: intrinsics evaluated with default parameters.

    Resources and their attributes stay symbolic (`<ref X>`, `<getatt X.Arn>`), so two
    templates resolve equal exactly when a deploy with default parameters asks for the
    same resources with the same properties.
    """

    def __init__(
        self, data: dict[str, Any], region: str = "us-east-1", account: str = "111122223333"
    ) -> None:
        self.data = data
        self.region = region
        self.params = {
            name: body.get("Default") if isinstance(body, dict) else None
            for name, body in (data.get("Parameters") or {}).items()
        }
        self.pseudo: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "stack",
            "AWS::StackId": "stack-id",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        self.conditions = data.get("Conditions") or {}

    def condition(self, name: str) -> bool:
        return bool(self.value(self.conditions[name]))

    def name(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if "." in name:
            return f"<getatt {name}>"
        if name in self.params:
            default = self.params[name]
            return f"<parameter {name}>" if default is None else default
        return f"<ref {name}>"

    def sub(self, arg: Any) -> str:
        text, variables = (
            (arg, {}) if isinstance(arg, str) else (arg[0], arg[1] if len(arg) > 1 else {})
        )
        values = {k: self.value(v) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            inner = match.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            inner = inner.strip()
            return str(values[inner] if inner in values else self.name(inner))

        return re.sub(r"\$\{([^}]*)\}", replace, text)

    def value(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            handler = getattr(self, "fn_" + key.replace("Fn::", "").lower(), None)
            if key == "Ref":
                return self.name(arg)
            if key == "Condition":
                return self.condition(arg)
            if handler is not None:
                try:
                    return handler(arg)
                except (KeyError, IndexError, TypeError, ValueError, AttributeError):
                    # A shape this resolver does not model: compare it as written.
                    return f"<unresolved {json.dumps(value, sort_keys=True, default=str)}>"
        if isinstance(value, dict):
            out = {k: self.value(v) for k, v in value.items()}
            return {k: v for k, v in out.items() if v is not NO_VALUE}
        if isinstance(value, list):
            return [v for v in (self.value(item) for item in value) if v is not NO_VALUE]
        return value

    def fn_sub(self, arg: Any) -> Any:
        return self.sub(arg)

    def fn_getatt(self, arg: Any) -> Any:
        return f"<getatt {arg if isinstance(arg, str) else '.'.join(arg)}>"

    def fn_if(self, arg: Any) -> Any:
        return self.value(arg[1] if self.condition(arg[0]) else arg[2])

    def fn_join(self, arg: Any) -> Any:
        items = self.value(arg[1])
        return str(arg[0]).join(str(i) for i in items)

    def fn_select(self, arg: Any) -> Any:
        return self.value(arg[1])[int(self.value(arg[0]))]

    def fn_getazs(self, arg: Any) -> Any:
        region = self.value(arg) or self.region
        return [f"{region}{letter}" for letter in "abcdef"]

    def fn_split(self, arg: Any) -> Any:
        return str(self.value(arg[1])).split(arg[0])

    def fn_findinmap(self, arg: Any) -> Any:
        name, first, second = (self.value(a) for a in arg[:3])
        return self.data["Mappings"][name][first][second]

    def fn_equals(self, arg: Any) -> Any:
        return self.value(arg[0]) == self.value(arg[1])

    def fn_not(self, arg: Any) -> Any:
        return not self.value(arg[0])

    def fn_and(self, arg: Any) -> Any:
        return all(self.value(a) for a in arg)

    def fn_or(self, arg: Any) -> Any:
        return any(self.value(a) for a in arg)

    def deployed(self) -> dict[str, Any]:
        resources = {}
        for logical_id, body in (self.data.get("Resources") or {}).items():
            if not isinstance(body, dict):
                continue
            condition = body.get("Condition")
            if (
                isinstance(condition, str)
                and condition in self.conditions
                and not self.condition(condition)
            ):
                continue
            resources[logical_id] = normalize(self.value(body), body.get("Type"))
        outputs = {}
        for name, body in (self.data.get("Outputs") or {}).items():
            condition = body.get("Condition")
            if isinstance(condition, str) and not self.condition(condition):
                continue
            outputs[name] = normalize(self.value(body.get("Value")), None)
        return {"Resources": resources, "Outputs": outputs}


SAM_URIS = ("CodeUri", "ContentUri", "DefinitionUri")


def normalize(value: Any, type_name: str | None) -> Any:
    """Forms a deploy cannot tell apart: `s3://b/k` in SAM, numbers and strings."""
    if isinstance(value, dict):
        out = {k: normalize(v, None) for k, v in value.items()}
        props = out.get("Properties")
        if type_name and type_name.startswith("AWS::Serverless::") and isinstance(props, dict):
            for key in SAM_URIS:
                uri = props.get(key)
                if isinstance(uri, str) and uri.startswith("s3://"):
                    bucket, _, object_key = uri[5:].partition("/")
                    props[key] = {"Bucket": bucket, "Key": object_key}
        return out
    if isinstance(value, list):
        return [normalize(v, None) for v in value]
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    return value


def load(path: Path) -> dict[str, Any]:
    return to_plain(parse(path.read_text(encoding="utf-8"), path.name).root)  # type: ignore[no-any-return]


def deployed(data: dict[str, Any], **pseudo: str) -> dict[str, Any]:
    return Resolver(data, **pseudo).deployed()


def test_resolver_sees_what_changes_a_deploy() -> None:
    data = load(HC_FIXTURES / "broken.yaml")
    changed = json.loads(json.dumps(data))
    changed["Resources"]["ProcessorFunction"]["Properties"]["Code"]["S3Key"] = "other.zip"
    assert deployed(data) != deployed(changed)
    param = json.loads(json.dumps(data))
    param["Parameters"]["CodeKey"] = {"Type": "String", "Default": "image-processor/1.4.2.zip"}
    param["Resources"]["ProcessorFunction"]["Properties"]["Code"]["S3Key"] = {"Ref": "CodeKey"}
    assert deployed(data) == deployed(param)


@pytest.fixture(scope="module")
def safe_fixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every fixture fixed with `cfnfix fix --select HC` (safe fixes only)."""
    folder = tmp_path_factory.mktemp("safe")
    targets = copies(folder, ALL_FIXTURES)
    result = run_cfnfix("fix", "--select", "HC", "--format", "json", str(folder))
    return {"document": json.loads(result.stdout), "targets": {t.name: t for t in targets}}


@pytest.mark.parametrize("source", ALL_FIXTURES, ids=lambda p: p.name)
def test_safe_fixes_deploy_the_same_resources(source: Path, safe_fixed: dict[str, Any]) -> None:
    target = safe_fixed["targets"][source.name]
    document = safe_fixed["document"]
    mine = [f for f in document["fixed"] if Path(f["file"]).name == source.name]
    assert mine, "safe fixes apply"
    left = [f for f in document["findings"] if Path(f["file"]).name == source.name]
    assert {f["fix"]["applicability"] for f in left if f["fix"]} <= {"unsafe"}
    assert deployed(load(target)) == deployed(load(source))
    if "Serverless" in target.read_text(encoding="utf-8"):
        assert sam_errors(load(target)) == []
    for pseudo in ({"region": "eu-west-3"}, {"account": "999999999999"}):
        assert deployed(load(target), **pseudo) == deployed(load(source), **pseudo)


def test_unsafe_fixes_adapt_to_the_deploying_region(unsafe_fixed: dict[str, Any]) -> None:
    """In the author's region and account (us-east-1, 111122223333) the unsafe fixes
    deploy the same; in another region or account they follow it, as intended."""
    source = HC_FIXTURES / "broken.yaml"
    fixed, original = load(unsafe_fixed["targets"][source.name]), load(source)
    assert deployed(fixed) == deployed(original)
    elsewhere = deployed(fixed, region="eu-west-3", account="999999999999")
    assert elsewhere != deployed(original, region="eu-west-3", account="999999999999")
    env = elsewhere["Resources"]["ProcessorFunction"]["Properties"]["Environment"]["Variables"]
    assert env["JOBS_QUEUE_URL"] == "https://sqs.eu-west-3.amazonaws.com/999999999999/image-jobs"
    # A zone is no region's equivalent zone (names are shuffled per account): it became
    # a parameter with the old default, which a deployment elsewhere overrides.
    subnet = elsewhere["Resources"]["WorkerSubnet"]["Properties"]
    assert subnet["AvailabilityZone"] == "us-east-1b"
    zone = fixed["Resources"]["WorkerSubnet"]["Properties"]["AvailabilityZone"]
    assert fixed["Parameters"][zone["Ref"]]["Default"] == "us-east-1b"


def test_parameters_are_reused_and_described(safe_fixed: dict[str, Any]) -> None:
    data = load(safe_fixed["targets"]["broken-sam.yaml"])
    buckets = [
        name
        for name, body in data["Parameters"].items()
        if body.get("Default") == "image-processing-artifacts"
    ]
    assert buckets == ["ImageProcessorFunctionArtifactBucket"], "one bucket, one parameter"
    api = data["Resources"]["ImageApi"]["Properties"]["DefinitionUri"]
    assert api["Bucket"] == {"Ref": "ImageProcessorFunctionArtifactBucket"}
    for name, body in data["Parameters"].items():
        if name != "Environment":
            assert body["Description"].startswith(("Replaces", "S3 bucket")), name


def test_optional_layer_alternative_on_the_seed(tmp_path: Path, lint: Any) -> None:
    for source in ALL_FIXTURES[3:]:
        template = Template.parse(Source.from_text(source.read_text(encoding="utf-8"), source.name))
        rules = hc_rules(HC001={"layer-fix": "optional-layer"})
        safe = fix_template(template, rules[:1], unsafe=False)
        assert all(a.resource != "PillowLayer" for a in safe.applied)
        outcome = fix_template(template, rules[:1], unsafe=True)
        assert not outcome.result.findings and not outcome.refused
        target = tmp_path / source.name
        target.write_text(outcome.template.text, encoding="utf-8")
        if not source.name.endswith(".json"):  # the JSON twin holds the same template
            assert lint(target) == []
        data = load(target)
        if "Serverless" in source.name or "sam" in source.name:
            assert sam_errors(data) == []
        assert data["Resources"]["PillowLayer"]["Condition"] == "HasPillowLayerArtifactBucket"
        function = data["Resources"]["ImageProcessorFunction"]["Properties"]
        assert function["Layers"] == [
            {
                "Fn::If": [
                    "HasPillowLayerArtifactBucket",
                    {"Ref": "PillowLayer"},
                    {"Ref": "AWS::NoValue"},
                ]
            }
        ]
        resolved = deployed(data)["Resources"]
        assert "PillowLayer" not in resolved
        assert resolved["ImageProcessorFunction"]["Properties"]["Layers"] == []


def test_optional_layer_is_not_offered_when_a_condition_would_break_a_reference() -> None:
    text = """
Resources:
  Layer:
    Type: AWS::Lambda::LayerVersion
    Properties:
      Content: {S3Bucket: layers, S3Key: l.zip}
  Permission:
    Type: AWS::Lambda::LayerVersionPermission
    Properties:
      LayerVersionArn: !Ref Layer
      Action: lambda:GetLayerVersion
      Principal: '*'
"""
    rules = hc_rules(HC001={"layer-fix": "optional-layer"})
    [finding] = list(rules[0].check(parse(text)))
    assert finding.fix is None


def test_many_values_in_one_intrinsic_are_fixed_in_one_pass() -> None:
    """More ARNs in one `Fn::Join` than the fix loop makes passes: one change rewrites
    them all (fixing one item per pass would leave some behind)."""
    count = MAX_ITERATIONS + 2
    items = "\n".join(f"                  - arn:aws:s3:::bucket-{i}/*" for i in range(count))
    text = f"""
Resources:
  Policy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement:
          - Effect: Allow
            Action: s3:GetObject
            Resource: !Split
              - ','
              - !Join
                - ','
                -
{items}
"""
    rules = hc_rules()
    assert len(list(rules[3].check(parse(text)))) == count
    outcome = fix_template(parse(text), rules, unsafe=False)
    assert not outcome.result.findings
    assert "arn:aws:" not in outcome.template.text


# -- the corpus --------------------------------------------------------------------------


def corpus_templates(files: list[Path]) -> Iterator[tuple[Path, Template]]:
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
            yield path, Template.parse(Source.from_text(text, path.name))
        except Exception:  # not a template cfnfix can parse: the CLI reports it
            continue


def nothing_left_to_fix(outcome: Any, unsafe: bool) -> bool:
    """A second `cfnfix fix` would change nothing: no remaining finding has a fix it
    would apply (a fix that did not remove its own finding would show up here)."""
    template = outcome.template
    return not any(allowed(f, template, unsafe) for f in outcome.result.findings)


def test_corpus_safe_fixes_keep_every_deploy_and_are_idempotent(corpus_files: list[Path]) -> None:
    rules = hc_rules()
    changed = 0
    for path, template in corpus_templates(corpus_files):
        outcome = fix_template(template, rules, unsafe=False)
        assert not outcome.result.rule_errors, (path, outcome.result.rule_errors)
        assert not outcome.refused, (path, [r.reason for r in outcome.refused])
        if not outcome.changed:
            continue
        changed += 1
        fixed = to_plain(parse(outcome.template.text, path.name).root)
        assert deployed(fixed) == deployed(to_plain(template.root)), path
        assert nothing_left_to_fix(outcome, unsafe=False), path
    assert changed > 100  # the corpus has plenty of hardcoded values


def test_corpus_unsafe_fixes_add_no_cfn_lint_errors(
    corpus_files: list[Path], tmp_path: Path, lint: Any
) -> None:
    rules = hc_rules()
    fixed_files: list[tuple[Path, Path]] = []
    sam_checked: list[Path] = []
    for path, template in corpus_templates(corpus_files):
        outcome = fix_template(template, rules, unsafe=True)
        assert not outcome.result.rule_errors, (path, outcome.result.rule_errors)
        assert not outcome.refused, (path, [r.reason for r in outcome.refused])
        if not outcome.changed:
            continue
        parse(outcome.template.text, path.name)  # re-parses
        assert nothing_left_to_fix(outcome, unsafe=True), path
        if template.is_sam and len(sam_checked) < 12:
            before = sam_errors(to_plain(template.root))
            after = sam_errors(to_plain(outcome.template.root))
            assert not after or after == before, (path, after)
            sam_checked.append(path)
        target = tmp_path / f"{len(fixed_files)}-{path.name}"
        target.write_text(outcome.template.text, encoding="utf-8")
        fixed_files.append((path, target))
    assert len(fixed_files) > 150
    # cfn-lint takes a second or more a file: lint a spread sample here (the whole
    # corpus was linted when the rules were written: no new errors).
    for original, target in fixed_files[:: len(fixed_files) // 4][:4]:
        before = collections.Counter(e.split()[0] for e in lint(original) if e.startswith("E"))
        after = collections.Counter(e.split()[0] for e in lint(target) if e.startswith("E"))
        assert after - before == collections.Counter(), (original, lint(target))


def test_case_files_cover_yaml_json_and_sam() -> None:
    for rule_id in ("HC001", "HC002", "HC003", "HC004", "HC005"):
        data = yaml.safe_load((FIXTURES / "rule_cases" / f"{rule_id}.yaml").read_text())
        cases = data["cases"]
        assert any(c.get("filename", "").endswith(".json") for c in cases), rule_id
        assert any("Serverless" in c.get("fail_str", "") for c in cases), rule_id
        assert sum("fix_str" in c for c in cases) >= 3, rule_id


def test_fixes_in_templates_with_other_macros_are_unsafe(tmp_path: Path) -> None:
    target = tmp_path / "macro.yaml"
    target.write_text(
        "Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]\n"
        "Resources:\n"
        "  Uploads:\n"
        "    Type: AWS::S3::Bucket\n"
        "    Properties:\n"
        "      BucketName: acme-uploads\n",
        encoding="utf-8",
    )
    [finding] = check_json(target)
    assert finding["rule"] == "HC005"
    assert finding["fix"]["applicability"] == "unsafe"
    safe = run_cfnfix("fix", "--select", "HC", str(target))
    assert safe.returncode == 1 and "acme-uploads" in target.read_text(encoding="utf-8")
