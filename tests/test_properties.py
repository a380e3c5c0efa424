"""Property-based tests: generated templates in generated formatting, fixed with every
rule and unsafe fixes (issue 12.1).

For each example: the fix never raises; the result re-parses; every comment survives;
each step changes only the lines its edits touch; a second fix changes nothing; and every
fixable finding left is one whose fix was refused for a principled reason.

The example count comes from a Hypothesis profile: ``ci`` (the default, bounded and
derandomized) or ``thorough`` (``CFNFIX_HYPOTHESIS_PROFILE=thorough``, thousands of
random examples). Examples that once failed are kept in ``fixtures/regressions/`` (as
files, run by :func:`test_regression_fixture`) and as ``@example``s.
"""

from __future__ import annotations

import dataclasses
import os
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings

from cfnfix import fixer, registry
from cfnfix.fixer import FixOutcome, fix_template
from cfnfix.nodes import to_plain
from cfnfix.rule import Rule
from cfnfix.source import Source
from cfnfix.template import Template
from cfnfix.writer import TextEdit
from tests.conftest import FIXTURES
from tests.strategies import Fn, Style, _plain, getatt, ref, render, styles, sub, templates

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",
    max_examples=3000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile(os.environ.get("CFNFIX_HYPOTHESIS_PROFILE", "ci"))
REGRESSIONS = sorted((FIXTURES / "regressions").glob("property-*"))
RULES: list[Rule] = [cls() for cls in registry.collect().values()]


def _touched_lines(text: str, edits: list[TextEdit]) -> set[int]:
    """0-based numbers of the lines of ``text`` that ``edits`` change or insert into."""
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def line_of(offset: int) -> int:
        low, high = 0, len(starts) - 1
        while low < high:
            mid = (low + high + 1) // 2
            if starts[mid] <= offset:
                low = mid
            else:
                high = mid - 1
        return low

    touched: set[int] = set()
    for edit in edits:
        first = line_of(edit.start)
        last = line_of(max(edit.start, edit.end - 1)) if edit.end > edit.start else first
        if edit.end == edit.start and edit.start in starts:
            continue  # whole lines inserted between two lines touch neither
        touched.update(range(first, last + 1))
    return touched


def _only_edited_lines_changed(outcome: FixOutcome) -> None:
    """Each step's result is its text with the edits spliced in, and nothing else: every
    line no edit touches is found, byte for byte, where the edits before it moved it."""
    assert outcome.steps is not None, "fix with record_steps=True"
    texts = [text for text, _ in outcome.steps] + [outcome.template.text]
    for (before, edits), after in zip(outcome.steps, texts[1:], strict=True):
        touched = _touched_lines(before, edits)
        ordered = sorted(edits, key=lambda e: (e.start, e.end))
        shift, k, offset = 0, 0, 0
        for number, line in enumerate(before.splitlines(keepends=True)):
            while k < len(ordered) and ordered[k].end <= offset and ordered[k].start < offset + 1:
                shift += len(ordered[k].replacement) - (ordered[k].end - ordered[k].start)
                k += 1
            if number not in touched:
                moved = after[offset + shift : offset + shift + len(line)]
                assert moved == line, (number, line, moved)
            offset += len(line)


def check_fix_properties(text: str, name: str, comments: list[str]) -> FixOutcome:
    template = Template.parse(Source.from_text(text, name))
    outcome = fix_template(template, RULES, unsafe=True, record_steps=True)
    fixed = outcome.template.text
    again = Template.parse(Source.from_text(outcome.template.source.encode(fixed).decode(), name))
    assert to_plain(again.root) == to_plain(outcome.template.root)
    for ident in comments:  # no generated suppression comment: none may be removed
        assert f"# {ident}" in fixed, f"comment {ident} lost"
    _only_edited_lines_changed(outcome)
    assert outcome.template.source.bom == template.source.bom
    if template.source.newline == "\r\n":
        assert fixed.count("\n") == fixed.count("\r\n"), "a bare LF in a CRLF file"
    if text and not text.endswith("\n"):
        assert outcome.changed or not fixed.endswith("\n")
    second = fix_template(outcome.template, RULES, unsafe=True)
    assert not second.applied, [(a.rule.id, a.description) for a in second.applied]
    assert not outcome.result.rule_errors, [
        (e.rule_id, e.message) for e in outcome.result.rule_errors
    ]
    refused = {(r.finding.rule.id, r.finding.path) for r in outcome.refused}
    for finding in outcome.result.findings:
        if finding.fix is not None:
            assert (finding.rule.id, finding.path) in refused, (
                f"{finding.rule.id} at {finding.path} is fixable and was neither fixed nor refused"
            )
    for r in outcome.refused:
        assert "would not" not in r.reason, (r.finding.rule.id, r.reason)
    return outcome


_SEED_TEMPLATE: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "Role0": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
                "Policies": [{"PolicyName": sub("${AWS::StackName}-send"), "PolicyDocument": {}}],
            },
        },
        "Fn1": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.12",
                "Handler": "index.handler",
                "Role": getatt("Role0", "Arn"),
                "Code": {"S3Bucket": sub("${AWS::Region}-lambda-code"), "S3Key": "f.zip"},
            },
        },
        "Perm2": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": ref("Fn1"),
                "Action": "lambda:InvokeFunction",
                "Principal": "s3.amazonaws.com",
            },
        },
        "Bucket3": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "NotificationConfiguration": {
                    "LambdaConfigurations": [
                        {"Event": "s3:ObjectCreated:*", "Function": getatt("Fn1", "Arn")}
                    ]
                }
            },
        },
        "Logs4": {"Type": "AWS::Logs::LogGroup"},
    },
    "Conditions": {"IsProd": Fn("Fn::Equals", ["a", "b"])},
}


def _verification(fingerprinted: bool) -> AbstractContextManager[object]:
    """Fixes verified as a small template's are (its model kept while the result is
    parsed) or, with ``fingerprinted``, as a large one's (a fingerprint of the intended
    data; the model goes before the parse)."""
    return mock.patch.object(fixer, "FINGERPRINT_ABOVE", 0) if fingerprinted else nullcontext()


@pytest.mark.parametrize("fingerprinted", [False, True], ids=["model kept", "fingerprint"])
@PROFILE
@given(templates(), styles())
@example(_SEED_TEMPLATE, Style(indent=4, indent_sequences=False, comments=0.6, crlf=True, bom=True))
@example(_SEED_TEMPLATE, Style(final_newline=False, flow=1.0, quote="double", short_tags=False))
@example(_SEED_TEMPLATE, Style(json=True, indent=1, crlf=True, final_newline=False))
def test_fixing_generated_templates(
    fingerprinted: bool, template: dict[str, Any], style: Style
) -> None:
    style = dataclasses.replace(style, comment_ids=[])  # an example is drawn for each
    text = render(template, style)
    name = "t.json" if style.json else "t.yaml"
    loaded = Template.parse(Source.from_text(text, name))
    assert to_plain(loaded.root) == _plain(template), "the renderer wrote something else"
    with _verification(fingerprinted):
        check_fix_properties(text, name, style.comment_ids)


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.name for p in REGRESSIONS])
def test_regression_fixture(path: Path) -> None:
    """Generated examples that once failed, kept as files."""
    text = path.read_bytes().decode("utf-8")
    comments = [line.split("# ", 1)[1].split()[0] for line in text.splitlines() if "# c" in line]
    check_fix_properties(text, path.name.removeprefix("property-"), comments)
