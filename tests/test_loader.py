"""Loading templates: every short-form tag, exact spans, YAML 1.1 values, JSON."""

from __future__ import annotations

import pytest
import yaml

from cfnfix import yaml_loader
from cfnfix.errors import LoadError, NotATemplate
from cfnfix.nodes import MapNode, OpaqueNode, SeqNode, opaque_tags
from cfnfix.testing import parse

ALL_TAGS = """\
Conditions:
  A: !Equals [!Ref AWS::Region, us-east-1]
  B: !And [!Condition A, !Or [!Condition A, !Not [!Condition A]]]
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      Ref: !Ref P
      Sub: !Sub '${AWS::StackName}-q'
      GetAttDot: !GetAtt R.Arn
      GetAttNested: !GetAtt R.Endpoint.Address
      GetAttList: !GetAtt [R, Arn]
      If: !If [A, 1, 2]
      Join: !Join ['', [a, b]]
      Select: !Select [0, !GetAZs '']
      Split: !Split [',', 'a,b']
      FindInMap: !FindInMap [M, K, V]
      Base64: !Base64 text
      Cidr: !Cidr [10.0.0.0/16, 2, 8]
      Import: !ImportValue Shared
      Transform: !Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}
"""


def test_every_short_form_tag_in_long_form() -> None:
    t = parse(ALL_TAGS)
    props = t.resources["Q"].properties
    assert props["Ref"] == {"Ref": "P"}
    assert props["Sub"] == {"Fn::Sub": "${AWS::StackName}-q"}
    assert props["GetAttDot"] == {"Fn::GetAtt": ["R", "Arn"]}
    assert props["GetAttNested"] == {"Fn::GetAtt": ["R", "Endpoint.Address"]}
    assert props["GetAttList"] == {"Fn::GetAtt": ["R", "Arn"]}
    assert props["If"] == {"Fn::If": ["A", 1, 2]}
    assert props["Join"] == {"Fn::Join": ["", ["a", "b"]]}
    assert props["Select"] == {"Fn::Select": [0, {"Fn::GetAZs": ""}]}
    assert props["Split"] == {"Fn::Split": [",", "a,b"]}
    assert props["FindInMap"] == {"Fn::FindInMap": ["M", "K", "V"]}
    assert props["Base64"] == {"Fn::Base64": "text"}
    assert props["Cidr"] == {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}
    assert props["Import"] == {"Fn::ImportValue": "Shared"}
    assert props["Transform"]["Fn::Transform"]["Name"] == "AWS::Include"
    assert t.conditions["B"] == {
        "Fn::And": [
            {"Condition": "A"},
            {"Fn::Or": [{"Condition": "A"}, {"Fn::Not": [{"Condition": "A"}]}]},
        ]
    }
    assert isinstance(props["Ref"], MapNode) and props["Ref"].short_tag == "!Ref"


def test_spans_lines_columns_and_offsets() -> None:
    t = parse(ALL_TAGS)
    path = ("Resources", "Q", "Properties", "Sub")
    assert t.source_text(path) == "!Sub '${AWS::StackName}-q'"
    loc = t.location(path)
    assert (loc.line, loc.column, loc.end_line) == (9, 7, 9)
    assert loc.end_column == 7 + len("Sub: !Sub '${AWS::StackName}-q'")
    start, end = t.span(path)
    assert ALL_TAGS[start:end] == "!Sub '${AWS::StackName}-q'"
    # a block mapping value points at its key's line
    assert t.location(("Resources", "Q")).line == 5


def test_yaml_1_1_values_and_account_ids_from_source() -> None:
    t = parse(
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n"
        "      A: yes\n      B: 'yes'\n      C: 012345678901\n      D: 0755\n      E: 1:20\n"
        "      F: 2010-09-09\n      G: ~\n      H: !!int '12'\n"
    )
    p = t.resources["Q"].properties
    assert p["A"] is True and p["B"] == "yes"
    assert p["C"] == "012345678901"  # a string under YAML 1.1 (not octal: it has 8s and 9s)
    assert p["D"] == 0o755 and p["E"] == 80
    assert p["F"] == "2010-09-09" and p["G"] is None and p["H"] == 12
    assert t.source_text(("Resources", "Q", "Properties", "C")) == "012345678901"


def test_json_template_with_spans() -> None:
    text = '{\n  "Resources": {\n    "Q": {"Type": "AWS::SQS::Queue", "Properties": {"A": [1, 2.5, true, null]}}\n  }\n}\n'
    t = parse(text, "t.json")
    assert t.resources["Q"].properties["A"] == [1, 2.5, True, None]
    assert t.source_text(("Resources", "Q", "Properties", "A", 1)) == "2.5"
    assert t.location(("Resources", "Q")).line == 3
    assert isinstance(t.resources["Q"].properties["A"], SeqNode)


def test_sam_globals_merge() -> None:
    t = parse(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Globals:\n  Function:\n    Runtime: python3.12\n    Tags: {a: '1'}\n    Layers: [g]\n"
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Tags: {b: '2'}\n      Layers: [own]\n      Runtime: python3.13\n"
    )
    assert t.is_sam
    merged = t.effective_properties(t.resources["F"])
    assert merged["Tags"] == {"a": "1", "b": "2"}
    assert merged["Layers"] == ["g", "own"]
    assert merged["Runtime"] == "python3.13"
    assert t.globals_section_for(t.resources["F"]) == "Function"


def test_reference_helpers() -> None:
    t = parse(
        "Parameters:\n  P: {Type: String}\nResources:\n  R:\n    Type: AWS::SNS::Topic\n"
        "  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n"
        "      A: !Ref P\n      B: !GetAtt R.TopicName\n      C: !Sub '${R}-${AWS::Region}-${!Literal}-${X}'\n"
        "      D: !Sub ['${v}', {v: !Ref P}]\n"
    )
    p = t.resources["Q"].properties
    assert t.resolve_ref(p["A"]).kind == "parameter"
    resource, attribute = t.resolve_getatt(p["B"])
    assert (resource.logical_id, attribute) == ("R", "TopicName")
    assert [(x.kind, x.name) for x in t.sub_targets(p["C"])] == [
        ("resource", "R"),
        ("pseudo", "AWS::Region"),
        ("unknown", "X"),
    ]
    assert t.sub_targets(p["D"]) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "the document is a list"),
        ("just text\n", "the document is a scalar"),
        ("Foo: 1\n", "no Resources section"),
    ],
)
def test_not_a_template(text: str, message: str) -> None:
    with pytest.raises(NotATemplate, match=message):
        parse(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Resources:\n  A: 1\n  A: 2\n", "duplicate key 'A' \\(first defined on line 2\\)"),
        (
            "Resources:\n  Q: !!python/object:os.system x\n",
            "unsupported YAML tag '!!python/object:os.system'",
        ),
        ("Resources:\n  Q: !!set {a: null}\n", "unsupported YAML tag '!!set'"),
        ("Resources: [\n", "invalid YAML"),
        ("", "empty document"),
        ("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n", "the Resources section is empty"),
        (
            "a: &a [1]\n"
            + "".join(
                f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
                for p, c in zip("abcdefghi", "bcdefghij", strict=True)
            )
            + "Resources: *j\n",
            "alias bomb",
        ),
        ("[" * 10000 + "]" * 10000, "nesting deeper"),
    ],
)
def test_bad_yaml(text: str, message: str) -> None:
    with pytest.raises(LoadError, match=message):
        parse(text)


def test_libyaml_nesting_limit_reads_as_nesting_too_deep(monkeypatch: pytest.MonkeyPatch) -> None:
    """libyaml 0.2.6+ (PyYAML 6.0.4 wheels) refuses 1,000 levels while scanning ahead, before
    the model reaches max_depth: its error says what the limit says, with the position."""

    class Refusing:
        def __init__(self, text: str) -> None:
            pass

        def get_event(self) -> None:
            mark = yaml.Mark("t.yaml", 1010, 0, 1010, None, None)  # type: ignore[no-untyped-call]
            problem = "exceeded maximum nesting depth"
            raise yaml.parser.ParserError(None, None, problem, mark)  # type: ignore[no-untyped-call]

        def dispose(self) -> None:
            pass

    monkeypatch.setattr(yaml_loader, "_Loader", Refusing)
    with pytest.raises(LoadError, match="nesting deeper than 400 levels") as caught:
        parse("a: " + "[" * 1200 + "]" * 1200 + "\n")
    assert (caught.value.line, caught.value.column) == (1, 1011)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"Resources": {"A": 1, "A": 2}}', "duplicate key 'A'"),
        ('{"Resources": {', "unexpected end of file"),
        ('{"Resources": {}} x', "extra data"),
        ('{"Resources": [1,]}', "expected a value"),
    ],
)
def test_bad_json(text: str, message: str) -> None:
    with pytest.raises(LoadError, match=message):
        parse(text, "t.json")


def test_unknown_tags_are_opaque_values() -> None:
    template = parse(
        "Resources:\n"
        "  Mod:\n"
        "    Type: !Rain::Module ./bucket.yaml\n"
        "  B:\n"
        "    Type: AWS::S3::Bucket\n"
        "    Metadata: {Doc: !Rain::Embed notes.txt, Other: !Rain::Embed notes.txt}\n"
        "    Properties:\n"
        "      Tags: !Rain::Tags\n"
        "        - {Key: a, Value: b}\n"
    )
    resources = template.root["Resources"]
    module_type = resources["Mod"]["Type"]
    assert isinstance(module_type, OpaqueNode) and not isinstance(module_type, (str, dict))
    assert (module_type.tag, module_type.text) == ("!Rain::Module", "./bucket.yaml")
    metadata = resources["B"]["Metadata"]
    assert metadata["Doc"] == metadata["Other"] and metadata["Doc"] != "notes.txt"
    assert resources["B"]["Properties"]["Tags"].text == "- {Key: a, Value: b}"
    assert opaque_tags(template.root) == ("!Rain::Module", "!Rain::Embed", "!Rain::Tags")
    assert list(template.resources) == ["B"]  # a resource whose type is opaque is not one
    assert opaque_tags(parse("Resources: {Q: {Type: AWS::SQS::Queue}}\n").root) == ()


def test_an_unloaded_template_parses_its_source_again() -> None:
    template = parse("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    model, resources = template.root, template.resources
    template.unload()
    assert template.root is not model and template.root == model
    assert template.resources is not resources and template.resources == resources
