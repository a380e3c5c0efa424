"""The shared writer: minimal edits in the file's own style, or a refusal."""

from __future__ import annotations

import pytest

from cfnfix.changes import AppendItem, RemoveItem, RemoveKey, ReplaceValue, SetKey, add_parameter
from cfnfix.errors import FixError
from cfnfix.intrinsics import GetAtt, If, Ref, Sub
from cfnfix.testing import apply_changes

PROPS = ("Resources", "Q", "Properties")


def test_crlf_line_endings_kept() -> None:
    text = "Resources:\r\n  Q:\r\n    Type: AWS::SQS::Queue\r\n    Properties:\r\n      A: 1\r\n"
    out = apply_changes(text, [SetKey(PROPS, "B", 2)])
    assert out == text + "      B: 2\r\n"


def test_bom_kept_and_final_newline_state_kept() -> None:
    text = "\ufeffResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      A: 1"
    out = apply_changes(text, [SetKey(PROPS, "B", 2)])
    # the in-memory text has no BOM (it is re-added on write); no final newline added
    assert out == text[1:] + "\n      B: 2"


def test_list_indent_styles_mixed_in_one_file() -> None:
    text = """\
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      Flush:
      - a
      Indented:
        - b
"""
    out = apply_changes(
        text,
        [AppendItem((*PROPS, "Flush"), "c"), AppendItem((*PROPS, "Indented"), "d")],
    )
    assert out == text.replace("      - a\n", "      - a\n      - c\n") + "        - d\n"


def test_new_list_uses_the_files_dominant_dash_offset() -> None:
    text = """\
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      L:
      - a
"""
    out = apply_changes(text, [SetKey(PROPS, "New", [{"Key": "k", "Value": "v"}])])
    assert out.endswith("      New:\n      - Key: k\n        Value: v\n")


def test_flow_mappings_and_lists() -> None:
    text = "Resources:\n  Q: {Type: AWS::SQS::Queue, Properties: {A: [1, 2]}}\n"
    out = apply_changes(text, [SetKey(PROPS, "B", Ref("X")), AppendItem((*PROPS, "A"), 3)])
    assert (
        out == "Resources:\n  Q: {Type: AWS::SQS::Queue, Properties: {A: [1, 2, 3], B: !Ref X}}\n"
    )


def test_comments_everywhere_are_kept() -> None:
    text = """\
# top
Resources:  # section
  Q:
    Type: AWS::SQS::Queue
    Properties:
      Items:
        - a  # after nested list item
        # after nested list
      # between keys
      Other: x
    # end of resource
# end of file
"""
    out = apply_changes(text, [SetKey(PROPS, "New", 1), AppendItem((*PROPS, "Items"), "b")])
    expected = text.replace(
        "        - a  # after nested list item\n",
        "        - a  # after nested list item\n        - b\n",
    )
    expected = expected.replace("      Other: x\n", "      Other: x\n      New: 1\n")
    assert out == expected


@pytest.mark.parametrize("indicator", ["|", ">-", "|2"])
def test_block_scalar_at_end_of_file_without_final_newline(indicator: str) -> None:
    text = f"Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      Doc: {indicator}\n        line one\n        line two"
    out = apply_changes(text, [SetKey(PROPS, "B", 1)])
    assert out.endswith("        line two\n      B: 1")
    # `|` gains a strip indicator so the value keeps having no final line break
    if indicator == "|":
        assert "Doc: |-\n" in out


def test_quoted_look_alikes_stay_strings() -> None:
    text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      A: 'yes'\n"
    out = apply_changes(
        text,
        [
            SetKey(PROPS, k, v)
            for k, v in [
                ("B", "yes"),
                ("C", "0123"),
                ("D", "true"),
                ("E", "1e3"),
                ("F", "null"),
                ("G", "a: b"),
                ("H", ""),
            ]
        ],
    )
    assert out.endswith(
        "      A: 'yes'\n      B: 'yes'\n      C: '0123'\n      D: 'true'\n      E: '1e3'\n"
        "      F: 'null'\n      G: 'a: b'\n      H: ''\n"
    )


def test_double_quote_preference_followed() -> None:
    text = 'Resources:\n  Q:\n    Type: "AWS::SQS::Queue"\n    Properties:\n      A: "x"\n'
    out = apply_changes(text, [SetKey(PROPS, "B", "true")])
    assert out.endswith('      B: "true"\n')


def test_short_form_tags_followed_and_long_form_files_get_long_form() -> None:
    short = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      A: !Ref X\n"
    out = apply_changes(
        short, [SetKey(PROPS, "B", If("C", GetAtt("R", "Arn"), Sub("x-${AWS::Region}")))]
    )
    assert out.endswith("      B: !If [C, !GetAtt R.Arn, !Sub 'x-${AWS::Region}']\n")
    long = (
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      A:\n        Ref: X\n"
    )
    out = apply_changes(long, [SetKey(PROPS, "B", Ref("Y"))])
    assert out.endswith("      B:\n        Ref: Y\n")


def test_fix_inside_aliased_node_is_refused() -> None:
    text = """\
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties: &props
      A: 1
  R:
    Type: AWS::SQS::Queue
    Properties: *props
"""
    with pytest.raises(FixError, match="anchored"):
        apply_changes(text, [SetKey(PROPS, "B", 2)])
    with pytest.raises(FixError, match="anchored"):
        apply_changes(text, [SetKey(("Resources", "R", "Properties"), "B", 2)])


def test_fix_next_to_alias_is_spliced_after_it() -> None:
    text = "X: &a 1\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      A: *a\n"
    out = apply_changes(text, [SetKey(PROPS, "B", 2)])
    assert out == text + "      B: 2\n"


def test_new_section_goes_before_resources_above_its_comments() -> None:
    text = "AWSTemplateFormatVersion: '2010-09-09'\n\n# the resources\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    out = apply_changes(text, [add_parameter("P", {"Type": "String", "Default": "x"})])
    assert out == (
        "AWSTemplateFormatVersion: '2010-09-09'\n\nParameters:\n  P:\n    Type: String\n"
        "    Default: x\n\n# the resources\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    )


def test_nested_creation_in_one_fix_merges() -> None:
    text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    out = apply_changes(
        text,
        [SetKey(PROPS, "A", 1), SetKey((*PROPS, "B"), "C", 2), AppendItem((*PROPS, "L"), "x")],
    )
    assert (
        out == text + "    Properties:\n      A: 1\n      B:\n        C: 2\n      L:\n        - x\n"
    )


def test_replace_and_remove() -> None:
    text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      A: arn:aws:x  # keep\n      L:\n        - a\n        - b\n      Z: 1\n"
    out = apply_changes(
        text,
        [
            ReplaceValue((*PROPS, "A"), Sub("arn:${AWS::Partition}:x")),
            RemoveItem((*PROPS, "L"), 0),
            RemoveKey(PROPS, "Z"),
        ],
    )
    assert (
        out
        == "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      A: !Sub 'arn:${AWS::Partition}:x'  # keep\n      L:\n        - b\n"
    )


@pytest.mark.parametrize("indent", [2, 4])
def test_json_indent_and_inline_arrays(indent: int) -> None:
    pad = " " * indent
    text = (
        "{\n"
        f'{pad}"Resources": {{\n'
        f'{pad * 2}"Q": {{\n'
        f'{pad * 3}"Type": "AWS::SQS::Queue",\n'
        f'{pad * 3}"Properties": {{\n'
        f'{pad * 4}"L": ["a", "b"]\n'
        f"{pad * 3}}}\n"
        f"{pad * 2}}}\n"
        f"{pad}}}\n"
        "}\n"
    )
    out = apply_changes(
        text,
        [AppendItem((*PROPS, "L"), "c"), SetKey(PROPS, "T", [{"Key": "k", "Value": "v"}])],
        name="t.json",
    )
    assert f'{pad * 4}"L": ["a", "b", "c"],\n' in out
    assert (
        f'{pad * 4}"T": [\n{pad * 5}{{\n{pad * 6}"Key": "k",\n{pad * 6}"Value": "v"\n{pad * 5}}}\n{pad * 4}]\n'
        in out
    )


def test_json_compact_separators_followed() -> None:
    text = '{"Resources":{"Q":{"Type":"AWS::SQS::Queue","Properties":{"A":1}}}}'
    out = apply_changes(text, [SetKey(PROPS, "B", 2)], name="t.json")
    assert out == '{"Resources":{"Q":{"Type":"AWS::SQS::Queue","Properties":{"A":1, "B":2}}}}'


def test_intrinsic_target_is_refused() -> None:
    text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: !If [C, {A: 1}, {A: 2}]\n"
    with pytest.raises(FixError, match="intrinsic function"):
        apply_changes(text, [SetKey(PROPS, "B", 2)])


def test_keep_chomped_block_scalar_is_refused() -> None:
    text = (
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      D: |+\n        x\n\n"
    )
    with pytest.raises(FixError):
        apply_changes(text, [SetKey(PROPS, "B", 2)])


def test_dash_alone_on_its_line() -> None:
    text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      L:\n       -\n        A: 1\n"
    out = apply_changes(text, [AppendItem((*PROPS, "L"), {"A": 2, "B": 3})])
    assert out == text + "       - A: 2\n         B: 3\n"


def test_remove_item_whose_dash_is_alone_on_its_line() -> None:
    text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      L:\n       -\n        A: 1\n       -\n        A: 2\n"
    out = apply_changes(text, [RemoveItem((*PROPS, "L"), 0)])
    assert (
        out
        == "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      L:\n       -\n        A: 2\n"
    )


# -- issue 16: diffs a reviewer accepts -------------------------------------------------

MACHINE = ("Resources", "M", "Properties", "DefinitionString")
DEFINITION = """\
Resources:
  M:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      DefinitionString: |
        {
          "StartAt": "A",
          "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": true}}
        }
      RoleArn: !GetAtt Role.Arn
"""


def test_block_scalar_is_edited_inside_the_block() -> None:
    old = '"arn:aws:states:::sqs:sendMessage"'
    new = '"arn:${AWS::Partition}:states:::sqs:sendMessage"'
    value = DEFINITION.split("|\n", 1)[1].split("      RoleArn")[0]
    text_value = "\n".join(line[8:] for line in value.splitlines()) + "\n"
    out = apply_changes(DEFINITION, [ReplaceValue(MACHINE, Sub(text_value.replace(old, new)))])
    assert out == DEFINITION.replace("DefinitionString: |", "DefinitionString: !Sub |").replace(
        old, new
    )


def test_block_scalar_text_change_keeps_block_and_chomping() -> None:
    text = "Resources:\n  Q:\n    Type: X\n    Properties:\n      S: |-\n        one\n        two\n      T: 1\n"
    out = apply_changes(text, [ReplaceValue((*PROPS, "S"), "one\nTWO")])
    assert out == text.replace("        two", "        TWO")


def test_folded_block_scalar_is_edited_inside_a_line_or_refused() -> None:
    text = "Resources:\n  Q:\n    Type: X\n    Properties:\n      S: >\n        one arn:aws:x\n        two\n"
    out = apply_changes(text, [ReplaceValue((*PROPS, "S"), "one arn:aws-cn:x two\n")])
    assert out == text.replace("arn:aws:x", "arn:aws-cn:x")
    with pytest.raises(FixError, match="block scalar"):
        apply_changes(text, [ReplaceValue((*PROPS, "S"), "one arn:aws:x\ntwo\n")])


def test_one_join_element_is_edited_alone_in_a_block_list() -> None:
    text = """\
Resources:
  Q:
    Type: X
    Properties:
      Resource:
        Fn::Join:
          - ''
          - - 'arn:aws:s3:::'
            - !Ref Bucket
            - "/*"
"""
    new = {"Fn::Join": ["", [Sub("arn:${AWS::Partition}:s3:::"), Ref("Bucket"), "/*"]]}
    out = apply_changes(text, [ReplaceValue((*PROPS, "Resource"), new)])
    assert out == text.replace("- 'arn:aws:s3:::'", "- !Sub 'arn:${AWS::Partition}:s3:::'")


def test_short_sub_tag_and_quotes_are_kept_in_a_long_form_file() -> None:
    text = """\
Resources:
  Q:
    Type: X
    Properties:
      A: {"Fn::GetAtt": [R, Arn]}
      B: {"Ref": "P"}
      C: !Sub "arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:q"
      D: 'arn:aws:sns:us-east-1:111122223333:t'
"""
    out = apply_changes(
        text,
        [
            ReplaceValue(
                (*PROPS, "C"), Sub("arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:q")
            ),
            ReplaceValue((*PROPS, "D"), "arn:aws:sns:us-east-1:111122223333:topic"),
        ],
    )
    assert '      C: !Sub "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:q"\n' in out
    assert "      D: 'arn:aws:sns:us-east-1:111122223333:topic'\n" in out


def test_quoted_key_files_get_quoted_keys_and_values() -> None:
    text = """\
"Resources":
  "Q":
    "Type": "AWS::SQS::Queue"
    "Properties":
      "QueueName": "jobs"
      "KmsMasterKeyId": "alias/aws/sqs"
      "DelaySeconds": "5"
      "VisibilityTimeout": "30"
"""
    out = apply_changes(text, [SetKey(PROPS, "Tags", [{"Key": "team", "Value": "images"}])])
    assert out == text + '      "Tags":\n        - "Key": "team"\n          "Value": "images"\n'


def test_new_resource_goes_above_a_column_zero_banner_of_the_next_one() -> None:
    text = """\
Resources:
  A:
    Type: AWS::SQS::Queue

##############################
# B: the queue of the workers
##############################
  B:
    Type: AWS::SQS::Queue
"""
    out = apply_changes(
        text, [SetKey(("Resources",), "N", {"Type": "AWS::SNS::Topic"}, before="B")]
    )
    assert out == text.replace("\n##", "\n  N:\n    Type: AWS::SNS::Topic\n\n##", 1)


def test_long_entry_into_an_empty_flow_mapping_goes_block() -> None:
    text = "Resources:\n  Q:\n    Type: X\n    Properties: {}\n"
    rules = [{"Id": "AbortIncompleteMultipartUploads", "Status": "Enabled", "Days": 7}]
    out = apply_changes(text, [SetKey(PROPS, "LifecycleConfiguration", {"Rules": rules})])
    assert out == (
        "Resources:\n  Q:\n    Type: X\n    Properties:\n      LifecycleConfiguration:\n"
        "        Rules:\n          - Id: AbortIncompleteMultipartUploads\n"
        "            Status: Enabled\n            Days: 7\n"
    )
    short = apply_changes(text, [SetKey(PROPS, "A", 1)])
    assert short == text.replace("{}", "{A: 1}")


def test_blank_line_between_entries_is_kept_when_the_last_has_a_comment() -> None:
    text = "Resources:\n  A:\n    Type: X\n\n  # the consumer\n  B:\n    Type: Y\n"
    out = apply_changes(text, [SetKey(("Resources",), "C", {"Type": "Z"})])
    assert out == text + "\n  C:\n    Type: Z\n"
