"""The deployment family (DP001-DP003) on the seed's stack and the cycle and race
fixtures, through the command line, with cfn-lint (E3004 circular dependencies) as the
oracle. Single-rule behaviour lives in fixtures/rule_cases/DP*.yaml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cfnfix_rules.deployment._graph import depends_on, shortest_cycle
from cfnlint.api import lint_file

from cfnfix.rule import Rule
from cfnfix.source import read_source
from cfnfix.template import Template
from cfnfix.testing import check, make_rules
from tests.conftest import FIXTURES, builtin_rules, run_cfnfix
from tests.test_security_access import assert_fixed_point, fix_copies

DEPLOYMENT = FIXTURES / "deployment"
SEED = FIXTURES / "seed"
EXPECTED: dict[Path, set[tuple[str, str]]] = {
    # The seed's bucket already depends on its permission, whose SourceArn is built from
    # the bucket's name: neither the race nor the cycle is in the seed.
    SEED / "image-processing-broken.yaml": set(),
    SEED / "image-processing-broken.json": set(),
    SEED / "image-processing-broken-sam.yaml": set(),
    DEPLOYMENT / "cycle.yaml": {("DP002", "UploadBucket")},
    DEPLOYMENT / "cycle-sam.yaml": {("DP002", "UploadBucket")},
    DEPLOYMENT / "race.yaml": {("DP001", "UploadBucket"), ("DP003", "ArchiveBucket")},
}
CYCLES = [DEPLOYMENT / "cycle.yaml", DEPLOYMENT / "cycle-sam.yaml"]


def dp_rules() -> list[Rule]:
    return make_rules([cls for rid, cls in builtin_rules().items() if rid.startswith("DP")])


def load(path: Path) -> Template:
    return Template.parse(read_source(path))


def e3004(path: Path) -> list[str]:
    return [str(m) for m in lint_file(path) if m.rule.id == "E3004"]


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda p: p.name)
def test_each_gap_is_reported_once_on_its_bucket(path: Path) -> None:
    findings = check(path.read_text(encoding="utf-8"), dp_rules(), path.name)
    assert sorted((f.rule.id, f.resource) for f in findings) == sorted(EXPECTED[path])


@pytest.mark.parametrize("path", CYCLES, ids=lambda p: p.name)
def test_cycle_fixtures_are_cycles_for_cfn_lint_and_the_message_spells_them(path: Path) -> None:
    assert e3004(path), "the fixture must be a cycle cfn-lint reports"
    [finding] = [
        f for f in check(path.read_text(encoding="utf-8"), dp_rules()) if f.rule.id == "DP002"
    ]
    cycle = shortest_cycle(load(path), "UploadBucket")
    assert cycle is not None and cycle[0].source == cycle[-1].target == "UploadBucket"
    for edge in cycle:
        assert edge.describe() in finding.message


def test_plain_cycle_names_each_edge_and_why() -> None:
    [finding] = check((DEPLOYMENT / "cycle.yaml").read_text(encoding="utf-8"), dp_rules())
    assert "UploadBucket -> ProcessorPermission (DependsOn)" in finding.message
    assert "ProcessorPermission -> UploadBucket (SourceArn: !GetAtt UploadBucket.Arn)" in (
        finding.message
    )


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return fix_copies(tmp_path_factory.mktemp("deployment"), list(EXPECTED))


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda p: p.name)
def test_fixed_fixture_passes_cfn_lint_without_cycles(fixed: dict[str, Path], path: Path) -> None:
    matches = [m for m in lint_file(fixed[path.name]) if m.rule.id[0] in "EW"]
    assert not matches, [str(m) for m in matches]
    assert not check(fixed[path.name].read_text(encoding="utf-8"), dp_rules(), path.name)


def test_fixed_plain_buckets_depend_on_their_permissions(fixed: dict[str, Path]) -> None:
    cycle = load(fixed["cycle.yaml"])
    assert depends_on(cycle, "UploadBucket", "ProcessorPermission")
    assert shortest_cycle(cycle, "UploadBucket") is None
    race = load(fixed["race.yaml"])
    assert depends_on(race, "UploadBucket", "ProcessorPermission")
    before = load(DEPLOYMENT / "race.yaml").resources
    [created] = [
        p.logical_id
        for p in race.resources_of("AWS::Lambda::Permission")
        if p.logical_id not in before
    ]
    assert depends_on(race, "ArchiveBucket", created)
    assert race.resources[created].properties["SourceAccount"] == {"Ref": "AWS::AccountId"}


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda p: p.name)
def test_second_fix_changes_nothing(fixed: dict[str, Path], path: Path) -> None:
    assert_fixed_point(fixed[path.name])


def test_safe_fixes_alone_break_the_cycles(tmp_path: Path) -> None:
    """DP001 and DP002 are safe: `cfnfix fix` without --unsafe-fixes clears E3004."""
    for source in CYCLES:
        shutil.copyfile(source, tmp_path / source.name)
    run = run_cfnfix("fix", "--select", "DP", str(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    for source in CYCLES:
        assert not e3004(tmp_path / source.name)
