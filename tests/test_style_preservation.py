"""Fixes keep the file's forms (issue 16): after `fix` and `fix --unsafe-fixes` over the
corpus, every node whose value a fix did not change has the same style as before (scalar
style and quotes, flow or block, tag, key quoting), no block scalar is flattened, and no
short-form tag (`!Sub`) is rewritten in long form (`Fn::Sub:`).

The corpus is fixed once per session, in two processes.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from cfnfix import registry
from cfnfix.errors import LoadError
from cfnfix.fixer import fix_template
from cfnfix.intrinsics import SHORT_TAGS
from cfnfix.source import read_source
from cfnfix.template import Template

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _canon(node: yaml.Node, memo: dict[int, Any]) -> Any:
    """The data a node holds, tags included (so `!Sub x` differs from `x`)."""
    key = id(node)
    if key not in memo:
        memo[key] = None  # an alias cycle reads as no data
        if isinstance(node, yaml.ScalarNode):
            memo[key] = (node.tag, node.value)
        elif isinstance(node, yaml.SequenceNode):
            memo[key] = (node.tag, tuple(_canon(item, memo) for item in node.value))
        else:
            assert isinstance(node, yaml.MappingNode)
            memo[key] = (
                node.tag,
                tuple((_canon(k, memo), _canon(v, memo)) for k, v in node.value),
            )
    return memo[key]


def _style(node: yaml.Node) -> tuple[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        return ("scalar", node.style)
    return ("collection", node.flow_style)


def _children(node: yaml.Node) -> dict[Any, tuple[yaml.Node | None, yaml.Node]]:
    """Children by key (mapping key text or index), with the key node for mappings."""
    if isinstance(node, yaml.SequenceNode):
        return {i: (None, item) for i, item in enumerate(node.value)}
    if isinstance(node, yaml.MappingNode):
        return {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    return {}


def style_changes(before: str, after: str) -> list[str]:
    """Where ``after`` writes an untouched node differently from ``before``."""
    old_root = yaml.compose(before, Loader=_Loader)
    new_root = yaml.compose(after, Loader=_Loader)
    old_memo: dict[int, Any] = {}
    new_memo: dict[int, Any] = {}
    problems: list[str] = []
    seen: set[int] = set()
    stack: list[tuple[str, yaml.Node, yaml.Node]] = [("", old_root, new_root)]
    while stack:
        where, old, new = stack.pop()
        if id(old) in seen:  # an alias: checked where it is defined
            continue
        seen.add(id(old))
        line = f"line {old.start_mark.line + 1} ({where or '/'})"
        if _canon(old, old_memo) == _canon(new, new_memo):
            if _style(old) != _style(new) or old.tag != new.tag:
                problems.append(f"{line}: {_style(old)} {old.tag} -> {_style(new)} {new.tag}")
                continue
        else:
            long_name = SHORT_TAGS.get(old.tag)
            rewritten = isinstance(new, yaml.MappingNode) and new.tag != old.tag
            if long_name and rewritten and [k.value for k, _ in new.value] == [long_name]:
                problems.append(f"{line}: {old.tag} rewritten as {long_name}:")
            block = isinstance(old, yaml.ScalarNode) and old.style in ("|", ">")
            if block and (not isinstance(new, yaml.ScalarNode) or new.style != old.style):
                problems.append(f"{line}: block scalar {old.style} flattened")
            if type(old) is not type(new) or old.tag != new.tag:
                continue  # the edited value itself: replaced whole
            if isinstance(old, yaml.ScalarNode):
                continue
            # An empty `{}` or `[]` in block context may become a block collection.
            if _style(old) != _style(new) and old.value:
                problems.append(f"{line}: flow/block style of an edited collection changed")
        old_children, new_children = _children(old), _children(new)
        for key, (old_key, child) in old_children.items():
            if key not in new_children:
                continue
            new_key, new_child = new_children[key]
            if old_key is not None and new_key is not None and old_key.style != new_key.style:
                problems.append(f"{line}: key {key!r} quoting changed")
            stack.append((f"{where}/{key}", child, new_child))
    return problems


def _fix_files(paths: list[Path]) -> list[tuple[str, str, list[str]]]:
    """(file, mode, problems) for every YAML file of ``paths`` that a fix changed."""
    rules = [cls() for cls in registry.collect().values() if cls.default_enabled]
    results = []
    for path in paths:
        try:
            template = Template.parse(read_source(path))
        except LoadError:
            continue
        for unsafe in (False, True):
            fixed = fix_template(template, rules, unsafe).template.text
            if fixed != template.text:
                mode = "unsafe" if unsafe else "safe"
                results.append((path.name, mode, style_changes(template.text, fixed)))
    return results


@pytest.fixture(scope="module")
def fixed_corpus(corpus_files: list[Path]) -> list[tuple[str, str, list[str]]]:
    files = sorted(p for p in corpus_files if p.suffix in (".yaml", ".yml", ".template"))
    chunks = [files[i::8] for i in range(8)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        return [item for chunk in pool.map(_fix_files, chunks) for item in chunk]


def test_untouched_nodes_keep_their_style_after_fixing_the_corpus(
    fixed_corpus: list[tuple[str, str, list[str]]],
) -> None:
    assert len(fixed_corpus) > 100  # the corpus gets fixed, so the check means something
    bad = {f"{name} ({mode})": problems[:3] for name, mode, problems in fixed_corpus if problems}
    assert not bad, bad


def test_the_checker_sees_style_changes() -> None:
    before = (
        "A: 'x'\nB: !Sub '${AWS::Region}'\nC:\n  - a\nD: |\n  one\n  two\n"
        '"E": 1\nF: !Sub "arn:aws:s3:::b"\n'
    )
    after = (
        'A: "x"\nB:\n  Fn::Sub: "${AWS::Region}"\nC: [a]\nD: "one\\ntwo\\n"\n'
        "E: 1\nF:\n  Fn::Sub: arn:${AWS::Partition}:s3:::b\n"
    )
    problems = "\n".join(style_changes(before, after))
    for expected in ("/A", "/B", "/C", "/D", "key 'E' quoting", "!Sub rewritten as Fn::Sub"):
        assert expected in problems, (expected, problems)
