"""Rules meet intrinsics wherever a plain value could be (issue 15.1).

Every value of a real template may be written as ``!Sub``, ``!Ref`` or ``!If`` instead of
a literal: ``PolicyName: !Sub "${AWS::StackName}-send"``, ``Tags: !If [...]``. Each corpus
template is loaded, and its values are replaced, a group at a time, by intrinsic forms
(in the loaded model, with the replaced value's span, so findings still have locations);
every rule must then run without raising. ``CFNFIX_MUTATIONS=all`` replaces one value at a
time (slow: thousands of runs per file).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cfnfix import registry
from cfnfix.engine import run_rules
from cfnfix.errors import LoadError
from cfnfix.fixer import fix_template
from cfnfix.nodes import MapNode, SeqNode, walk
from cfnfix.rule import Finding, Rule
from cfnfix.source import Source, read_source
from cfnfix.template import Template
from tests.conftest import FIXTURES

GROUPS = 3  # values are mutated in this many interleaved groups per file and form
FIXED_FILES = 25  # of the corpus, also fixed (with unsafe fixes) after mutation
REGRESSIONS = FIXTURES / "regressions"

Form = Callable[[Any, tuple[int, int]], MapNode]


def _wrap(name: str, tag: str, arg: Any, span: tuple[int, int]) -> MapNode:
    node = MapNode(*span)
    node.short_tag = tag
    node.add(name, arg, (span[0], span[0]), span)
    return node


def _seq(items: list[Any], span: tuple[int, int]) -> SeqNode:
    seq = SeqNode(*span, flow=True)
    for item in items:
        seq.add(item, span)
    return seq


def _sub(value: Any, span: tuple[int, int]) -> MapNode:
    return _wrap("Fn::Sub", "!Sub", f"${{AWS::StackName}}-{value}", span)


def _sub_list(value: Any, span: tuple[int, int]) -> MapNode:
    variables = MapNode(*span)
    variables.add("Name", _wrap("Ref", "!Ref", "AWS::Region", span), span, span)
    return _wrap("Fn::Sub", "!Sub", _seq([f"{value}-${{Name}}", variables], span), span)


def _ref(value: Any, span: tuple[int, int]) -> MapNode:
    return _wrap("Ref", "!Ref", str(value) if isinstance(value, str) else "AWS::Region", span)


def _if(value: Any, span: tuple[int, int]) -> MapNode:
    no_value = _wrap("Ref", "!Ref", "AWS::NoValue", span)
    return _wrap("Fn::If", "!If", _seq(["IsProduction", value, no_value], span), span)


FORMS: dict[str, Form] = {"sub": _sub, "sub-list": _sub_list, "ref": _ref, "if": _if}
CONTAINER_FORMS: dict[str, Form] = {"if": _if}  # a whole list or map behind a condition


def _targets(root: MapNode) -> list[tuple[MapNode | SeqNode, str | int, bool]]:
    """(parent, key, is_container) for every value the mutations may replace."""
    found: list[tuple[MapNode | SeqNode, str | int, bool]] = []
    for _, node in walk(root):
        if isinstance(node, MapNode):
            if node.short_tag is not None or (
                len(node) == 1 and next(iter(node)).startswith("Fn::")
            ):
                continue  # inside an intrinsic already: its arguments have their own shapes
            found.extend((node, key, isinstance(v, (dict, list))) for key, v in node.items())
        elif isinstance(node, SeqNode):
            found.extend((node, i, isinstance(v, (dict, list))) for i, v in enumerate(node))
    return [t for t in found if t[0] is not root]


def _mutated(text: str, name: str, form: str, group: int, groups: int) -> Template | None:
    """The template with every ``groups``-th replaceable value (from ``group``) as ``form``."""
    template = Template.parse(Source.from_text(text, name))
    replaced = 0
    for index, (parent, key, container) in enumerate(_targets(template.root)):
        if index % groups != group:
            continue
        forms = CONTAINER_FORMS if container else FORMS
        if form not in forms:
            continue
        span = parent.value_span(key) if isinstance(parent, MapNode) else parent.item_span(key)  # type: ignore[index]
        parent[key] = forms[form](parent[key], span)  # type: ignore[index]
        replaced += 1
    return template if replaced else None


def _rule_errors(template: Template, rules: list[Rule]) -> list[str]:
    return [f"{e.rule_id}: {e.message}" for e in run_rules(template, rules).rule_errors]


@pytest.fixture(scope="module")
def every_rule() -> list[Rule]:
    return [cls() for cls in registry.collect().values()]


def _texts(corpus_files: list[Path]) -> list[tuple[str, str]]:
    texts = [
        (p.name, p.read_text(encoding="utf-8")) for p in sorted(REGRESSIONS.glob("intrinsic-*"))
    ]
    for path in corpus_files:
        try:
            Template.parse(read_source(path))
        except LoadError:
            continue
        texts.append((path.name, path.read_text(encoding="utf-8")))
    return texts


def test_rules_never_crash_on_intrinsic_values(
    corpus_files: list[Path], every_rule: list[Rule]
) -> None:
    groups = 1_000_000 if os.environ.get("CFNFIX_MUTATIONS") == "all" else GROUPS
    failures: dict[str, set[str]] = {}
    runs = 0
    for name, text in _texts(corpus_files):
        count = len(_targets(Template.parse(Source.from_text(text, name)).root))
        for form in FORMS:
            for group in range(min(groups, count)):
                template = _mutated(text, name, form, group, min(groups, count))
                if template is None:
                    continue
                runs += 1
                for error in _rule_errors(template, every_rule):
                    failures.setdefault(error, set()).add(f"{name} ({form}, group {group})")
    assert runs > 1000
    report = {error: sorted(where)[:3] for error, where in failures.items()}
    assert not failures, f"rules crashed on intrinsic values in {runs} runs: {report}"


def test_fixing_after_intrinsic_mutation_never_crashes(
    corpus_files: list[Path], every_rule: list[Rule]
) -> None:
    texts = _texts(corpus_files)
    chosen = random.Random(15).sample(texts, min(FIXED_FILES, len(texts)))
    for name, text in chosen:
        for form in FORMS:
            template = _mutated(text, name, form, 0, GROUPS)
            if template is None:
                continue
            # A fix must not raise; what it refuses is its own business.
            outcome = fix_template(template, every_rule, unsafe=True)
            errors = [f"{e.rule_id}: {e.message}" for e in outcome.result.rule_errors]
            assert not errors, (name, form, errors)


@pytest.mark.parametrize("path", sorted(REGRESSIONS.glob("intrinsic-*")), ids=lambda p: p.name)
def test_regression_fixtures(path: Path, every_rule: list[Rule]) -> None:
    """Intrinsics that crashed a rule, kept as files (the issue's inline policy named
    with ``!Sub`` on an async function, a bucket policy statement's ``Sid: !Sub``)."""
    template = Template.parse(Source.from_text(path.read_text(encoding="utf-8"), "t.yaml"))
    assert _rule_errors(template, every_rule) == []


class _Crashing(Rule):
    id = "ZZ901"
    name = "always-crashes"
    family = "test"
    summary = what = why = "Raises on every template."

    def check(self, template: Template) -> Iterator[Finding]:
        raise TypeError("unhashable type: 'MapNode'")


def test_debug_shows_a_rule_errors_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    template = Template.parse(Source.from_text("Resources: {Q: {Type: AWS::SQS::Queue}}\n"))
    monkeypatch.delenv("CFNFIX_DEBUG", raising=False)
    assert _rule_errors(template, [_Crashing()]) == ["ZZ901: TypeError: unhashable type: 'MapNode'"]
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("CFNFIX_DEBUG", "1")
    assert len(_rule_errors(template, [_Crashing()])) == 1
    err = capsys.readouterr().err
    assert "rule ZZ901 failed on template.yaml" in err
    assert "Traceback (most recent call last)" in err and 'raise TypeError("unhashable' in err
