"""apply_change on a loaded template: the expected data a fix is verified against."""

from __future__ import annotations

import pytest

from cfnfix.changes import AppendItem, ChangeError, RemoveKey, ReplaceValue, SetKey, apply_change
from cfnfix.nodes import MapNode, SeqNode, to_plain
from cfnfix.testing import parse

TEMPLATE = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      Tags:
        - Key: team
          Value: a
  Topic:
    Type: AWS::SNS::Topic
"""


def test_changes_copy_what_they_modify_and_leave_the_template() -> None:
    template = parse(TEMPLATE)
    before = to_plain(template.root)
    data = dict(template.root)
    apply_change(data, SetKey(("Resources", "Queue", "Properties"), "DelaySeconds", 5))
    apply_change(data, AppendItem(("Resources", "Queue", "Properties", "Tags"), {"Key": "b"}))
    apply_change(data, ReplaceValue(("Resources", "Queue", "Properties", "Tags", 0, "Value"), "c"))
    apply_change(data, RemoveKey(("Resources", "Queue"), "Type"))
    assert to_plain(template.root) == before  # the loaded template is untouched
    queue = data["Resources"]["Queue"]
    assert not isinstance(queue, MapNode) and not isinstance(queue["Properties"]["Tags"], SeqNode)
    assert data["Resources"]["Topic"] is template.root["Resources"]["Topic"]  # shared
    assert queue == {
        "Properties": {
            "Tags": [{"Key": "team", "Value": "c"}, {"Key": "b"}],
            "DelaySeconds": 5,
        }
    }


def test_a_change_that_does_not_fit_is_refused() -> None:
    data = dict(parse(TEMPLATE).root)
    with pytest.raises(ChangeError):
        apply_change(data, ReplaceValue(("Resources", "Queue", "Properties", "Tags", 5), "x"))
    with pytest.raises(ChangeError):
        apply_change(data, ReplaceValue(("Resources", "Nothing"), "x"))
