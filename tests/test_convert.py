"""`cfnfix convert`: YAML <-> JSON through cfn-flip, verified, with warnings for losses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from cfnfix.convert import ConvertError, convert_source, first_difference, yaml_losses
from cfnfix.errors import LoadError
from cfnfix.nodes import to_plain
from cfnfix.source import Source, read_source
from cfnfix.testing import CliResult, parse, run_cli

TOPIC_JSON = """{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Parameters": {"Name": {"Type": "String", "Default": "012345678901"}},
  "Resources": {
    "Topic": {
      "Type": "AWS::SNS::Topic",
      "Properties": {
        "TopicName": {"Fn::Sub": "${Name}-topic"},
        "DisplayName": {"Ref": "Name"},
        "FifoTopic": "yes",
        "Tags": [{"Key": "b", "Value": "1"}, {"Key": "a", "Value": "on"}]
      }
    },
    "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::GetAtt": ["Topic", "TopicName"]}}}
  },
  "Outputs": {"Arn": {"Value": {"Ref": "Topic"}}}
}
"""


def data(text: str, name: str) -> Any:
    return to_plain(parse(text, name).root)


def same_in_order(a: Any, b: Any) -> bool:
    return first_difference(a, b) is None


@pytest.fixture(scope="module")
def corpus_sample(corpus_files: list[Path]) -> list[Source]:
    """Every fifth corpus template that cfnfix reads, and all of the JSON ones."""
    sources = []
    for index, path in enumerate(corpus_files):
        if path.suffix == ".json" or index % 5 == 0:
            try:
                source = read_source(path)
                parse(source.text, path.name)
            except LoadError:
                continue
            sources.append(source)
    assert len(sources) > 60
    return sources


def test_round_trip_on_corpus_keeps_data_and_key_order(corpus_sample: list[Source]) -> None:
    refused = []
    for source in corpus_sample:
        name = source.path.name
        original = data(source.text, name)
        try:
            as_json = convert_source(source, "json").text
            as_yaml = convert_source(Source.from_text(as_json, "t.json"), "yaml").text
            back = convert_source(Source.from_text(as_yaml, "t.yaml"), "json").text
        except ConvertError:
            refused.append(name)
            continue
        json.loads(as_json)
        assert same_in_order(original, data(as_json, "t.json")), name
        assert same_in_order(original, data(as_yaml, "t.yaml")), name
        assert same_in_order(original, data(back, "t.json")), name
        assert back == as_json, name  # the conversion is stable
    assert len(refused) <= len(corpus_sample) // 50, refused  # refusals are rare


def test_json_to_yaml_uses_short_form_tags_and_keeps_meaning() -> None:
    converted = convert_source(Source.from_text(TOPIC_JSON, "t.json"), "yaml")
    assert converted.lost == ()
    text = converted.text
    for tag in (r"!Sub '\$\{Name\}-topic'", "!Ref '?Name'?", "!GetAtt '?Topic.TopicName'?"):
        assert re.search(f"(?m): {tag}$", text), tag
    assert "Fn::" not in text and '"Ref"' not in text
    # strings that YAML 1.1 would read as numbers or booleans stay strings
    plain = data(text, "t.yaml")
    assert plain["Parameters"]["Name"]["Default"] == "012345678901"
    assert plain["Resources"]["Topic"]["Properties"]["FifoTopic"] == "yes"
    assert same_in_order(json.loads(TOPIC_JSON), plain)
    assert list(plain) == ["AWSTemplateFormatVersion", "Parameters", "Resources", "Outputs"]


@pytest.mark.parametrize(
    ("text", "lost_json", "lost_yaml"),
    [
        ("Resources:  # all of them\n  T: {Type: AWS::SNS::Topic}\n", ("comments",), ("comments",)),
        ("# header\nResources:\n  T: {Type: AWS::SNS::Topic}\n", ("comments",), ("comments",)),
        (
            "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n"
            "      TopicName: a#b\n      DisplayName: 'x # y'\n"
            '      Tags: [{Key: k, Value: !Sub "#{x}"}]\n',
            (),
            ("quoting and block scalar styles",),
        ),
        (
            "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n"
            "      DisplayName: |\n        # inside a block scalar\n        text\n",
            (),
            ("quoting and block scalar styles",),
        ),
        (
            "Resources:\n  T: &t\n    Type: AWS::SNS::Topic\n  U: *t\n",
            ("anchors and aliases (expanded)",),
            ("anchor names",),
        ),
    ],
)
def test_losses_are_named_precisely(
    text: str, lost_json: tuple[str, ...], lost_yaml: tuple[str, ...]
) -> None:
    assert yaml_losses(text, "json") == lost_json
    assert yaml_losses(text, "yaml") == lost_yaml
    assert convert_source(Source.from_text(text, "t.yaml"), "json").lost == lost_json


def test_cfn_flip_mistakes_are_refused_not_written() -> None:
    # cfn-flip reads `!GetAtt [A, !Ref B]` as ["A", "B"]: a different template.
    text = "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !GetAtt [B, !Ref C]\n"
    with pytest.raises(ConvertError, match=r"would change the template at .*Fn::GetAtt/1"):
        convert_source(Source.from_text(text, "t.yaml"), "json")


def test_line_endings_and_bom_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(b"\xef\xbb\xbf" + TOPIC_JSON.replace("\n", "\r\n").encode())
    converted = convert_source(read_source(path), "yaml")
    assert "\r\n" in converted.text and "\n" not in converted.text.replace("\r\n", "")
    assert converted.encode().startswith(b"\xef\xbb\xbf")


# -- the command line ------------------------------------------------------------------


def convert(cwd: Path, *args: str) -> CliResult:
    """`cfnfix convert` in process; an unexpected exception fails the test (no traceback)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        return run_cli(["convert", *args])


def test_one_file_prints_to_stdout_and_warns_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("Resources:  # note\n  T:\n    Type: AWS::SNS::Topic\n")
    result = convert(tmp_path, "--to", "json", "t.yaml")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}
    assert result.stderr == "cfnfix: warning: t.yaml: JSON loses comments\n"
    assert (tmp_path / "t.yaml").read_text().startswith("Resources:  # note")


def test_output_file(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text(TOPIC_JSON)
    result = convert(tmp_path, "--to", "yaml", "t.json", "--output", "out.yaml")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
    assert same_in_order(
        json.loads(TOPIC_JSON), data((tmp_path / "out.yaml").read_text(), "o.yaml")
    )


def test_in_place_renames_and_keeps_template_names(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(TOPIC_JSON)
    (tmp_path / "b.template").write_text(TOPIC_JSON)
    (tmp_path / "b.template").chmod(0o640)
    result = convert(tmp_path, "--to", "yaml", "--in-place", "a.json", "b.template")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "a.json -> a.yaml\n"
    assert not (tmp_path / "a.json").exists()
    for name in ("a.yaml", "b.template"):
        text = (tmp_path / name).read_text()
        assert text.startswith("AWSTemplateFormatVersion: '2010-09-09'\n"), name
    assert (tmp_path / "b.template").stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.template"]


def test_in_place_never_overwrites_another_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(TOPIC_JSON)
    (tmp_path / "a.yaml").write_text("Resources: {}\n")
    result = convert(tmp_path, "--to", "yaml", "--in-place", "a.json")
    assert result.exit_code == 2
    assert result.stderr == "a.json: a.yaml already exists; not converted\n"
    assert (tmp_path / "a.json").read_text() == TOPIC_JSON
    assert (tmp_path / "a.yaml").read_text() == "Resources: {}\n"


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({"bad.json": '{"Resources": {'}, ["bad.json"], "bad.json:1:16: invalid JSON"),
        ({"x.yaml": "name: ci\non: push\n"}, ["x.yaml"], "x.yaml: "),
        ({}, ["missing.yaml"], "missing.yaml: no such file"),
        ({"a.json": TOPIC_JSON, "b.json": TOPIC_JSON}, ["a.json", "b.json"], "use --in-place"),
        ({"a.json": TOPIC_JSON}, ["a.json", "--in-place", "--output", "o"], "cannot be used"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, files: dict[str, str], args: list[str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = convert(tmp_path, "--to", "yaml", *args)
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)
