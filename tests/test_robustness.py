"""Mutated real templates (a line deleted, duplicated, emptied, or its value swapped for a
list or a number) must never crash a rule or the fixer: damaged input is what a linter
meets mid-edit, in a pre-commit hook."""

from __future__ import annotations

import random
from pathlib import Path

from cfnfix import registry
from cfnfix.engine import run_rules
from cfnfix.errors import LoadError
from cfnfix.fixer import fix_template
from cfnfix.source import Source
from cfnfix.template import Template

MUTATIONS = 400


def _mutate(text: str, rnd: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    i = rnd.randrange(len(lines))
    key = lines[i].split(":")[0]
    op = rnd.choice(["delete", "duplicate", "empty", "list", "number"])
    if op == "delete":
        del lines[i]
    elif op == "duplicate":
        lines.insert(i, lines[i])
    elif ":" in lines[i]:
        lines[i] = key + {"empty": ":\n", "list": ": []\n", "number": ": 12\n"}[op]
    return "".join(lines)


def test_mutated_corpus_templates_never_crash(corpus_files: list[Path]) -> None:
    rules = [cls() for cls in registry.collect().values()]
    yaml_files = [p for p in corpus_files if p.suffix in (".yaml", ".yml")]
    rnd = random.Random(20261125)
    checked = 0
    for _ in range(MUTATIONS):
        text = rnd.choice(yaml_files).read_text(encoding="utf-8")
        if text.count("\n") < 5:
            continue
        try:
            template = Template.parse(Source.from_text(_mutate(text, rnd), "t.yaml"))
        except LoadError:
            continue  # a clean load error is the right answer
        checked += 1
        result = run_rules(template, rules)
        assert not result.rule_errors, [(e.rule_id, e.message) for e in result.rule_errors]
        fix_template(template, rules, unsafe=True)  # must not raise
    assert checked > MUTATIONS // 2
