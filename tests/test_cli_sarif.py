"""SARIF fit for code scanning: repository-relative URIs that do not depend on where
cfnfix ran, and fingerprints that never match a finding in another file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import ROOT, run_cfnfix

SARIF_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
LOG_GROUP = (
    "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: app\n"
)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for folder in ("stacks/a", "stacks/b"):
        (root / folder).mkdir(parents=True)
        (root / folder / "t.yaml").write_text(LOG_GROUP)  # the same template twice
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def sarif(cwd: Path, *paths: str) -> dict[str, Any]:
    result = run_cfnfix("check", "--select", "RT001", "--format", "sarif", *paths, cwd=cwd)
    assert result.returncode == 1, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_uris_are_relative_to_the_repository_root_wherever_cfnfix_runs(repository: Path) -> None:
    from_root = sarif(repository, "stacks")
    from_subdir = sarif(repository / "stacks" / "a", ".", "../b")
    from_outside = sarif(repository.parent, "repo/stacks")
    for document in (from_root, from_subdir, from_outside):
        run = document["runs"][0]
        assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": repository.as_uri() + "/"}}
        locations = sorted(
            (r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]),
            key=lambda location: location["uri"],
        )
        assert locations == [
            {"uri": "stacks/a/t.yaml", "uriBaseId": "%SRCROOT%"},
            {"uri": "stacks/b/t.yaml", "uriBaseId": "%SRCROOT%"},
        ]
    fingerprints = [
        sorted(json.dumps(r["partialFingerprints"]) for r in document["runs"][0]["results"])
        for document in (from_root, from_subdir, from_outside)
    ]
    assert fingerprints[0] == fingerprints[1] == fingerprints[2]  # stable across runs
    first, second = fingerprints[0]
    assert first != second  # the same finding in another file is another result


def test_sarif_with_repository_root_validates_against_the_schema(repository: Path) -> None:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"the SARIF 2.1.0 schema is not at {SARIF_SCHEMA}")
    schema = json.loads(SARIF_SCHEMA.read_text())
    (repository / "stacks" / "broken.yaml").write_text("Resources: [\n")
    result = run_cfnfix("check", "--format", "sarif", "stacks", cwd=repository)
    assert result.returncode == 2
    document = json.loads(result.stdout)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(document), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    [notification] = document["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    location = notification["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "stacks/broken.yaml", "uriBaseId": "%SRCROOT%"}


def test_github_annotations_name_files_from_the_repository_root(repository: Path) -> None:
    result = run_cfnfix(
        "check", "--select", "RT001", "--format", "github", ".", cwd=repository / "stacks" / "a"
    )
    assert result.stdout.startswith("::warning file=stacks/a/t.yaml,line=2,")
