"""The security family's storage and encryption rules (SE001-SE009) on the seed's stack
(YAML, JSON, SAM) and the storage fixtures, through the command line, with cfn-lint as the
oracle; plus a bounded run over the corpus.

Single-rule behaviour lives in fixtures/rule_cases/SE00*.yaml.
"""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file

from cfnfix import validate
from cfnfix.errors import LoadError
from cfnfix.nodes import to_plain
from cfnfix.rule import Rule
from cfnfix.source import read_source
from cfnfix.template import Template
from cfnfix.testing import check, fix, make_rules, parse
from tests.conftest import FIXTURES, builtin_rules, run_cfnfix

SEED = FIXTURES / "seed"
SEED_FILES = [
    SEED / "image-processing-broken.yaml",
    SEED / "image-processing-broken.json",
    SEED / "image-processing-broken-sam.yaml",
]
BUCKETS = FIXTURES / "security" / "storage-buckets.yaml"
TOPICS = FIXTURES / "security" / "storage-topics.yaml"
SAM = FIXTURES / "security" / "storage-sam.yaml"
FIXTURE_FILES = [*SEED_FILES, BUCKETS, TOPICS, SAM]
STORAGE_IDS = [f"SE00{n}" for n in range(1, 10)]
SELECT = ",".join(STORAGE_IDS)  # by id: SE007 and SE008 are opt-in

# Every storage/encryption gap of the seed's stack, as (rule, resource), each once.
SEED_GAPS = Counter(
    {
        ("SE001", "UploadBucket"): 1,
        ("SE001", "ThumbnailBucket"): 1,
        ("SE002", "UploadBucket"): 1,
        ("SE002", "ThumbnailBucket"): 1,
        ("SE003", "UploadBucket"): 1,
        ("SE003", "ThumbnailBucket"): 1,
        ("SE005", "AlarmTopic"): 1,
        ("SE006", "ImageMetadataTable"): 1,
        ("SE008", "ImageProcessorFunction"): 1,
    }
)


def storage_rules() -> list[Rule]:
    return make_rules([builtin_rules()[rule_id] for rule_id in STORAGE_IDS])


def findings_of(path: Path, *args: str) -> list[dict[str, Any]]:
    result = run_cfnfix("check", "--select", SELECT, "--format", "json", *args, str(path))
    assert result.returncode in (0, 1), result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return findings


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The seed files and the storage fixtures after `cfnfix fix --unsafe-fixes` with every
    rule (`--select ALL`: the opt-in ones too)."""
    folder = tmp_path_factory.mktemp("security_storage")
    result = {}
    for source in FIXTURE_FILES:
        target = folder / source.name
        shutil.copyfile(source, target)
        result[source.name] = target
    run = run_cfnfix("fix", "--unsafe-fixes", "--select", "ALL", str(folder))
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode in (0, 1), run.stdout + run.stderr
    return result


@pytest.mark.parametrize("source", SEED_FILES, ids=lambda p: p.name)
def test_every_gap_of_the_seed_is_reported_once(source: Path) -> None:
    found = Counter((f["rule"], f["resource"]) for f in findings_of(source))
    assert found == SEED_GAPS


def test_default_selection_leaves_the_opt_in_rules_out() -> None:
    result = run_cfnfix("check", "--select", "SE", "--format", "json", str(SEED_FILES[0]))
    rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
    assert "SE008" not in rules and "SE001" in rules


@pytest.mark.parametrize("source", FIXTURE_FILES, ids=lambda p: p.name)
def test_fixed_files_keep_only_unfixable_storage_findings(
    fixed: dict[str, Path], source: Path
) -> None:
    template = Template.parse(read_source(fixed[source.name]))
    left = check(template.text, storage_rules(), source.name)
    assert all(f.fix is None for f in left), [(f.rule.id, f.resource) for f in left]
    # What stays: environment variables with no key of the template to encrypt them, and
    # log groups with no key that lets CloudWatch Logs in (both opt-in, informational).
    assert {f.rule.id for f in left} <= {"SE007", "SE008"}


@pytest.mark.parametrize("source", FIXTURE_FILES, ids=lambda p: p.name)
def test_fixed_files_pass_cfn_lint(fixed: dict[str, Path], source: Path) -> None:
    matches = lint_file(fixed[source.name])
    assert not matches, [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches]


@pytest.mark.parametrize("source", FIXTURE_FILES, ids=lambda p: p.name)
def test_second_fix_changes_nothing(fixed: dict[str, Path], source: Path) -> None:
    before = fixed[source.name].read_text(encoding="utf-8")
    path = str(fixed[source.name])
    again = run_cfnfix("fix", "--unsafe-fixes", "--select", "ALL", "--format", "json", path)
    assert json.loads(again.stdout)["summary"]["fixed"] == 0
    assert fixed[source.name].read_text(encoding="utf-8") == before


@pytest.mark.parametrize("source", SEED_FILES, ids=lambda p: p.name)
def test_seed_fix_encrypts_and_guards_the_stack(fixed: dict[str, Path], source: Path) -> None:
    plain = to_plain(parse(fixed[source.name].read_text(encoding="utf-8"), source.name).root)
    resources = plain["Resources"]
    for bucket in ("UploadBucket", "ThumbnailBucket"):
        props = resources[bucket]["Properties"]
        assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
        [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
        [policy] = [
            r for r in resources.values()
            if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket}
        ]  # fmt: skip
        [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # The alarm topic gets a customer-managed key CloudWatch may use, never alias/aws/sns.
    topic = resources["AlarmTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": ["AlarmTopicKey", "Arn"]}
    statements = resources["AlarmTopicKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert {"Service": "cloudwatch.amazonaws.com"} in [s["Principal"] for s in statements]


def test_created_resources_satisfy_every_rule(fixed: dict[str, Path]) -> None:
    """The bucket policies and keys the storage fixes create are born compliant (tags,
    policies): no rule at all, opt-in ones included, reports anything on them."""
    every = make_rules(builtin_rules().values())
    for name in ("image-processing-broken.yaml", TOPICS.name):
        text = fixed[name].read_text(encoding="utf-8")
        new = parse(text, name).resources
        created = {
            rid
            for rid in set(new) - set(parse(_source(name), name).resources)
            if new[rid].type in ("AWS::S3::BucketPolicy", "AWS::KMS::Key")
        }
        assert created
        findings = [f for f in check(text, every, name) if f.resource in created]
        assert not findings, [(f.rule.id, f.resource, f.message) for f in findings]


def _source(name: str) -> str:
    return next(p for p in FIXTURE_FILES if p.name == name).read_text("utf-8")


def test_buckets_meant_to_be_public_and_log_buckets() -> None:
    found = {(f["rule"], f["resource"]) for f in findings_of(BUCKETS)}
    public = {"WebsiteBucket", "DownloadBucket"}
    assert {r for rule, r in found if rule == "SE001"} == {"UploadBucket", "AccessLogBucket"}
    # A website speaks HTTP: no TLS-only policy for it. The others get one.
    assert {r for rule, r in found if rule == "SE003"} == {
        "UploadBucket",
        "AccessLogBucket",
        "DownloadBucket",
    }
    encryption = {f["resource"]: f["fix"] for f in findings_of(BUCKETS) if f["rule"] == "SE002"}
    assert set(encryption) == {"UploadBucket", "AccessLogBucket", *public}
    # The stack's key (the archive bucket's) for the private upload bucket only: the log
    # bucket and the public ones stay on SSE-S3, which is what S3 does already (safe).
    assert encryption["UploadBucket"]["applicability"] == "unsafe"
    assert "EncryptionKey" in encryption["UploadBucket"]["description"]
    for bucket in ("AccessLogBucket", *public):
        assert encryption[bucket]["applicability"] == "safe", bucket
        assert "AES256" in encryption[bucket]["description"], bucket


def test_alarm_topics_under_the_aws_managed_key_are_errors() -> None:
    found = findings_of(TOPICS)
    errors = {f["resource"]: f for f in found if f["rule"] == "SE009"}
    assert set(errors) == {"AlarmTopic", "OpsTopic", "LegacyTopic"}
    assert "policy of key LegacyKey does not let cloudwatch" in errors["LegacyTopic"]["message"]
    assert all(f["severity"] == "error" for f in errors.values())
    assert "ErrorAlarm, StackHealth" in errors["AlarmTopic"]["message"]
    # The template's key already lets CloudWatch in: it is reused, no new key.
    assert "EncryptionKey" in errors["AlarmTopic"]["fix"]["description"]
    severities = {(f["rule"], f["resource"]): f["severity"] for f in found}
    assert severities[("SE004", "WorkQueue")] == "warning"  # turned off
    assert severities[("SE004", "RetryQueue")] == "info"  # not stated
    assert ("SE005", "UploadEventsTopic") in severities
    assert ("SE005", "AuditTopic") not in severities and ("SE009", "AuditTopic") not in severities


def test_topic_fix_grants_the_publishing_service(fixed: dict[str, Path]) -> None:
    plain = to_plain(parse(fixed[TOPICS.name].read_text(encoding="utf-8"), TOPICS.name).root)
    resources = plain["Resources"]
    key = resources["UploadEventsTopic"]["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    principals = [s["Principal"] for s in resources[key]["Properties"]["KeyPolicy"]["Statement"]]
    assert {"Service": "s3.amazonaws.com"} in principals
    statements = resources["LegacyKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert {"Service": "cloudwatch.amazonaws.com"} in [s["Principal"] for s in statements]
    # Only the !If branch that named alias/aws/sns changed (the condition stays in use).
    key = {"Fn::GetAtt": ["EncryptionKey", "Arn"]}
    assert resources["OpsTopic"]["Properties"]["KmsMasterKeyId"] == {"Fn::If": ["IsProd", key, key]}


def test_sam_globals_count_and_keys_are_picked_by_kind(fixed: dict[str, Path]) -> None:
    found = {(f["rule"], f["resource"]): f["fix"] for f in findings_of(SAM)}
    # Globals.SimpleTable states the encryption; Globals.Function gives the environment.
    assert set(found) == {("SE008", "WriterFunction"), ("SE006", "ImageTable")}
    # The functions' key for a function; no table uses it, so not for the table.
    assert "EncryptionKey" in found[("SE008", "WriterFunction")]["description"]
    assert "aws/dynamodb" in found[("SE006", "ImageTable")]["description"]
    plain = to_plain(parse(fixed[SAM.name].read_text(encoding="utf-8"), SAM.name).root)
    writer = plain["Resources"]["WriterFunction"]["Properties"]
    assert writer["KmsKeyArn"] == {"Fn::GetAtt": ["EncryptionKey", "Arn"]}


# -- the corpus ------------------------------------------------------------------------------


def _lint(pair: tuple[str, str, str]) -> tuple[str, list[str]]:
    name, before, after = pair
    try:
        errors = validate.new_errors(before, after)
    except Exception:  # cfn-lint itself crashes on a few real files
        return name, []
    return name, [f"{e.rule} line {e.line}: {e.message}" for e in errors]


@pytest.mark.skipif(not validate.available(), reason="cfn-lint is not installed")
def test_corpus_fixes_reparse_are_idempotent_and_add_no_cfn_lint_errors(
    corpus_files: list[Path],
) -> None:
    rules = storage_rules()
    counts: Counter[str] = Counter()
    changed = []
    for path in corpus_files:
        try:
            template = Template.parse(read_source(path))
        except LoadError:
            continue  # files cfnfix reports as unreadable are not this family's concern
        counts.update(f.rule.id for f in check(template.text, rules, path.name))
        for unsafe in (False, True):
            outcome = fix(template.text, rules, unsafe=unsafe, name=path.name)
            assert not outcome.refused, (path.name, [r.reason for r in outcome.refused])
            if not outcome.applied:
                assert outcome.template.text == template.text, path.name
                continue
            parse(outcome.template.text, path.name)
            again = fix(outcome.template.text, rules, unsafe=unsafe, name=path.name)
            assert not again.applied, (path.name, [a.rule.id for a in again.applied])
            if unsafe:
                changed.append((path.name, template.text, outcome.template.text))
    # The corpus has dozens of buckets, queues, topics and tables that state nothing.
    assert all(counts[rule_id] >= 20 for rule_id in ("SE001", "SE002", "SE003", "SE004"))
    assert len(changed) > 100
    sample = random.Random(11).sample(changed, 12)  # cfn-lint is slow: a seeded sample
    with ProcessPoolExecutor(max_workers=2) as pool:
        new = {name: errors for name, errors in pool.map(_lint, sample) if errors}
    assert not new, f"fixes introduced cfn-lint errors: {new}"
