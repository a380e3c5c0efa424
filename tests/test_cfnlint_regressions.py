"""Cases where a fix once added a cfn-lint error (issue 12.4), each kept as a fixture."""

from __future__ import annotations

import pytest

from cfnfix import registry, validate
from cfnfix.fixer import fix_template
from cfnfix.source import Source
from cfnfix.template import Template
from tests.conftest import FIXTURES

pytestmark = pytest.mark.skipif(not validate.available(), reason="cfn-lint is not installed")
MALFORMED = (FIXTURES / "regressions" / "e1028-malformed-parameters.yaml").read_text()


def _fix(text: str) -> tuple[str, list[str]]:
    rules = [registry.collect()["HC001"]()]
    outcome = fix_template(Template.parse(Source.from_text(text, "t.yaml")), rules, unsafe=True)
    remaining = [f.rule.id for f in outcome.result.findings]
    return outcome.template.text, remaining


def test_no_condition_where_cfn_lint_cannot_see_conditions() -> None:
    """cfn-lint drops every condition when an ``AllowedValues`` is not a list: the `!If`
    HC001 used to add was reported as E1028. Now the finding stays, without that fix."""
    fixed, remaining = _fix(MALFORMED)
    assert fixed == MALFORMED and remaining == ["HC001"]
    assert validate.new_errors(MALFORMED, fixed) == []


def test_the_same_template_with_a_valid_parameters_section_is_fixed() -> None:
    valid = MALFORMED.replace("AllowedValues: vpc-1", "AllowedValues: [vpc-1]")
    fixed, remaining = _fix(valid)
    assert "!If [HasPipelineTemplateUrl" in fixed and remaining == []
    assert validate.new_errors(valid, fixed) == []
