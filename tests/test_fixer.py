"""The fixer refuses a fix whose result does not verify, and applies the others."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cfnfix import fixer
from cfnfix.changes import SetKey
from cfnfix.rule import Finding, Fix, Rule
from cfnfix.template import Template
from cfnfix.testing import make_rules, parse
from cfnfix.writer import RenderedFix, Writer


@pytest.fixture(autouse=True, params=["model kept", "fingerprint"])
def verification(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs with fixes verified as a small template's are (its model kept while
    the result is parsed) and as a large one's (a fingerprint of the intended data, the
    model gone before the parse)."""
    if request.param == "fingerprint":
        monkeypatch.setattr(fixer, "FINGERPRINT_ABOVE", 0)


class NameTopics(Rule):
    id = "ZZ801"
    name = "name-topics"
    family = "test"
    summary = what = why = "Every topic gets a display name."

    def check(self, template: Template) -> Iterator[Finding]:
        for resource in template.resources_of("AWS::SNS::Topic"):
            if "DisplayName" not in resource.properties:
                change = SetKey(resource.prop_path(), "DisplayName", "named")
                yield self.finding(resource.prop_path(), "no name", fix=Fix.safe("name", change))


def _topics(*names: str) -> str:
    body = "".join(
        f"  {n}:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: {n.lower()}\n"
        for n in names
    )
    return "Resources:\n" + body


@pytest.fixture
def broken_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer renders the fixes of topics named Bad* wrongly (a value that is not the
    intended one), as a writer bug would: the result re-parses, but fails verification."""
    render = Writer.render

    def wrong_for_bad(self: Writer, changes: list[SetKey]) -> RenderedFix:
        rendered = render(self, changes)
        if changes[0].path[1].startswith("Bad"):
            rendered.edits = [
                e._replace(replacement=e.replacement.replace("named", "other"))
                for e in rendered.edits
            ]
        return rendered

    monkeypatch.setattr(Writer, "render", wrong_for_bad)


@pytest.mark.usefixtures("broken_writer")
def test_a_fix_that_fails_verification_is_refused_and_the_others_apply() -> None:
    outcome = fixer.fix_template(parse(_topics("Good", "Bad")), make_rules([NameTopics]), False)
    assert [a.resource for a in outcome.applied] == ["Good"]
    assert outcome.template.root["Resources"]["Good"]["Properties"]["DisplayName"] == "named"
    assert "DisplayName" not in outcome.template.root["Resources"]["Bad"]["Properties"]
    assert [(r.finding.resource, r.reason) for r in outcome.refused] == [
        ("Bad", "the result would not hold exactly the intended change")
    ]


@pytest.mark.usefixtures("broken_writer")
def test_a_batch_whose_every_fix_fails_leaves_the_template_as_it_was() -> None:
    template = parse(_topics("Bad", "Bad2"))
    outcome = fixer.fix_template(template, make_rules([NameTopics]), False)
    assert not outcome.changed and outcome.template.text == template.text
    assert sorted(r.finding.resource or "" for r in outcome.refused) == ["Bad", "Bad2"]


def test_a_template_holding_nan_is_verified_as_it_was() -> None:
    # PyYAML reads every .nan as one float object, equal only to itself: no fingerprint
    # can tell that, so such data is compared with == (the fix verifies, as before).
    template = parse(_topics("Good") + "Outputs:\n  Odd:\n    Value: .nan\n")
    outcome = fixer.fix_template(template, make_rules([NameTopics]), False)
    assert [a.resource for a in outcome.applied] == ["Good"]


def test_a_fixed_template_is_unloaded_unless_kept_and_still_usable() -> None:
    rules = make_rules([NameTopics])
    template = parse(_topics("One", "Two"))
    model = template.root
    fixer.fix_template(template, rules, False, keep=True)
    assert template.root is model
    outcome = fixer.fix_template(template, rules, False)
    assert outcome.changed
    assert template.root is not model and template.root == model  # parsed again
    assert [r.logical_id for r in template.resources_of("AWS::SNS::Topic")] == ["One", "Two"]
