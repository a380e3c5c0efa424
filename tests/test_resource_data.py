"""Tests for the generated resource-type data and its runtime loader."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cfnfix.resource_data import TypeInfo, known_types, schema_source, type_info

REPO_ROOT = Path(__file__).resolve().parent.parent
GENERATOR = REPO_ROOT / "scripts" / "gen_resource_data.py"
DATA_FILE = REPO_ROOT / "src" / "cfnfix" / "data" / "resource_types.json"


def _info(type_name: str) -> TypeInfo:
    info = type_info(type_name)
    assert info is not None, f"{type_name} missing from resource data"
    return info


def test_generated_file_is_up_to_date() -> None:
    if importlib.util.find_spec("cfnlint") is None:
        pytest.skip("cfn-lint is not installed; it is needed only to regenerate the data")
    recorded = json.loads(DATA_FILE.read_text("utf-8"))["meta"]["cfn_lint_version"]
    installed = importlib.metadata.version("cfn-lint")
    if installed != recorded:
        pytest.skip(
            f"data generated from cfn-lint {recorded}, installed {installed}: "
            "run scripts/gen_resource_data.py to refresh it"
        )
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_data_file_is_small_and_deterministic_layout() -> None:
    text = DATA_FILE.read_text("utf-8")
    assert len(text.encode()) < 1_000_000
    type_lines = [line.rstrip(",") for line in text.splitlines() if line.startswith('"AWS::')]
    names = [next(iter(json.loads("{" + line + "}"))) for line in type_lines]
    assert names == sorted(names)
    assert len(names) == len(json.loads(text)["types"])  # one line per type


def test_s3_bucket() -> None:
    info = _info("AWS::S3::Bucket")
    assert info.taggable
    assert info.tag_path == ("Tags",)
    assert info.tag_shape == "list"
    assert info.stateful
    assert not info.supports_snapshot
    assert info.deletion_policies == ("Delete", "Retain", "RetainExceptOnCreate")


def test_map_shaped_tags() -> None:
    for name in ("AWS::SSM::Parameter", "AWS::EKS::Nodegroup", "AWS::Batch::JobDefinition"):
        info = _info(name)
        assert info.taggable, name
        assert info.tag_shape == "map", name


def test_cognito_user_pool_tags() -> None:
    info = _info("AWS::Cognito::UserPool")
    assert info.tag_path == ("UserPoolTags",)
    assert info.tag_shape == "map"
    assert info.stateful


def test_json_shaped_tags() -> None:
    for name in ("AWS::Glue::Job", "AWS::Glue::Crawler", "AWS::MWAA::Environment"):
        assert _info(name).tag_shape == "json", name


def test_nested_tag_path() -> None:
    info = _info("AWS::EC2::CapacityReservation")
    assert info.tag_path == ("TagSpecifications", "*", "Tags")
    assert info.tag_shape == "list"
    assert info.tags_create_only


def test_autoscaling_group_requires_propagate_at_launch() -> None:
    info = _info("AWS::AutoScaling::AutoScalingGroup")
    assert info.tag_shape == "list"
    assert info.tag_item_required == ("PropagateAtLaunch",)
    assert _info("AWS::S3::Bucket").tag_item_required == ()


@pytest.mark.parametrize(
    "name",
    [
        "AWS::Lambda::Permission",
        "AWS::Lambda::LayerVersion",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::SNS::Subscription",
    ],
)
def test_not_taggable(name: str) -> None:
    info = _info(name)
    assert not info.taggable
    assert info.tag_shape is None


def test_rds_instance_supports_snapshot() -> None:
    info = _info("AWS::RDS::DBInstance")
    assert info.stateful
    assert info.supports_snapshot
    assert "Snapshot" in info.deletion_policies
    assert not _info("AWS::DynamoDB::Table").supports_snapshot


def test_tags_without_tagging_metadata_are_taggable() -> None:
    for name in ("AWS::CodeBuild::Project", "AWS::ApiGatewayV2::Stage"):
        assert _info(name).taggable, name


def test_sam_types() -> None:
    function = _info("AWS::Serverless::Function")
    assert function.taggable
    assert function.tag_shape == "map"
    assert not function.stateful
    assert not _info("AWS::Serverless::LayerVersion").taggable
    assert not _info("AWS::Serverless::Connector").taggable
    table = _info("AWS::Serverless::SimpleTable")
    assert table.stateful
    assert table.tag_shape == "map"


@pytest.mark.parametrize(
    "name", ["Custom::Thing", "AWS::S3::Buckett", "My::Third::Party", "aws::s3::bucket", ""]
)
def test_unknown_type(name: str) -> None:
    assert type_info(name) is None


def test_schema_source_and_known_types() -> None:
    assert schema_source().startswith("cfn-lint ")
    assert "provider schemas" in schema_source()
    names = known_types()
    assert "AWS::S3::Bucket" in names
    assert "AWS::Serverless::Function" in names
    assert len(names) > 1000


def test_every_entry_is_valid() -> None:
    # Entries are read when their type is first asked about: check them all here.
    assert all(type_info(name) is not None for name in known_types())
