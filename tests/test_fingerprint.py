"""A fingerprint is shared by two values exactly when ``==`` finds them equal."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfnfix import fingerprint as fingerprints
from cfnfix.fingerprint import Unsupported, fingerprint
from cfnfix.nodes import MapNode, OpaqueNode, SeqNode, to_plain
from cfnfix.source import Source
from cfnfix.template import Template

# Few distinct scalars, so that drawn values are often equal: numbers of each type that
# == mixes up (True == 1 == 1.0), strings that look like them, an opaque value.
NUMBERS = [0, 1, 2, -1, -2, 10**20, True, False, 0.0, -0.0, 1.0, 2.5, 1e20, math.inf]
STRINGS = ["", "1", "1.0", "True", "None", "a", "b", "a,b", "'", '"', "\\", "\0", "é"]
SCALARS = st.sampled_from(
    [*NUMBERS, *STRINGS, None, OpaqueNode("!X", "a", 0, 1), OpaqueNode("!X", "b", 0, 1)]
)
KEYS = st.sampled_from(["a", "b", "c", "1", "", "{", "a,b"])


def _map_node(items: dict[str, Any]) -> MapNode:
    node = MapNode()
    for key, value in reversed(items.items()):  # another key order than the dict's
        node.add(key, value, (0, 0), (0, 0))
    return node


def _seq_node(items: list[Any]) -> SeqNode:
    node = SeqNode()
    for item in items:
        node.add(item, (0, 0))
    return node


def _values(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.dictionaries(KEYS, children, max_size=4),
        st.dictionaries(KEYS, children, max_size=4).map(_map_node),
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(_seq_node),
        st.lists(children, max_size=3).map(tuple),
    )


VALUES = st.recursive(SCALARS, _values, max_leaves=12)


@settings(max_examples=2000, deadline=None)
@given(VALUES, VALUES)
def test_fingerprints_are_equal_exactly_when_the_values_are(a: Any, b: Any) -> None:
    assert (fingerprint(a) == fingerprint(b)) == (a == b)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_a_value_and_its_plain_copy_share_a_fingerprint(value: Any) -> None:
    assert fingerprint(value) == fingerprint(to_plain(value))


def test_equal_numbers_of_every_type_share_a_fingerprint() -> None:
    assert fingerprint([True, 1, 1.0]) == fingerprint([1.0, True, 1])
    assert fingerprint({"a": 0}) == fingerprint({"a": -0.0}) == fingerprint({"a": False})
    assert fingerprint(10**20) == fingerprint(1e20)
    assert fingerprint(2**53 + 1) != fingerprint(float(2**53 + 1))  # not equal as numbers
    assert fingerprint([1]) != fingerprint((1,)) != fingerprint("1")


@pytest.mark.parametrize(
    "value",
    [math.nan, [1, {"a": math.nan}], {1: "a"}, {"a": 1, 2: "b"}, {"a": {1, 2}}, b"a", 1j],
    ids=["nan", "nested nan", "int key", "mixed keys", "set", "bytes", "complex"],
)
def test_what_a_fingerprint_cannot_follow_is_refused(value: Any) -> None:
    with pytest.raises(Unsupported):
        fingerprint(value)


def test_a_template_and_its_parse_again_share_a_fingerprint() -> None:
    text = "".join(
        f"  R{i}:\n    Type: AWS::SNS::Topic\n    Properties:\n"
        f"      TopicName: !Sub '${{AWS::StackName}}-{i}'\n      Tags: [{{Key: k, Value: {i}}}]\n"
        for i in range(1000)  # more tokens than are hashed at a time
    )
    source = Source.from_text("Resources:\n" + text)
    first, second = Template.parse(source), Template.parse(source)
    assert first.root is not second.root
    assert fingerprint(first.root) == fingerprint(second.root)
    second.root["Resources"]["R999"]["Properties"]["Tags"][0]["Value"] = 998
    assert fingerprint(first.root) != fingerprint(second.root)


def test_the_encoding_is_hashed_a_chunk_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    value = {"a": [["x"] * 50, {"b": "y" * 10}], "c": list(range(100))}
    whole = fingerprint(value)
    monkeypatch.setattr(fingerprints, "_CHUNK", 3)
    assert fingerprint(value) == whole
