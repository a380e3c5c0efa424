"""Print a seeded sample of findings per rule over a corpus, for a reviewer to judge.

    python3 scripts/precision_sample.py [--corpus ../shared/corpus] [--per-rule 5]
        [--families hardcoded,tagging,dead-letter,retention,suppression] [--seed 16]

Every rule on by default in the families is sampled (all its findings when it has fewer
than --per-rule); each line gives file, line, rule, resource, path and message, so that
the verdict (true or false positive, and why) can be written next to it. The same
arguments always print the same sample.
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from pathlib import Path

from cfnfix import registry
from cfnfix.engine import run_rules
from cfnfix.errors import LoadError
from cfnfix.source import read_source
from cfnfix.template import Template

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = "hardcoded,tagging,dead-letter,retention,suppression"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--per-rule", type=int, default=5)
    parser.add_argument("--families", default=FAMILIES)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    families = set(args.families.split(","))
    rules = [
        cls()
        for cls in registry.collect().values()
        if cls.family in families and cls.default_enabled
    ]
    found: dict[str, list[str]] = defaultdict(list)
    files = sorted(
        p for p in args.corpus.rglob("*") if p.suffix in (".yaml", ".yml", ".json", ".template")
    )
    for path in files:
        try:
            template = Template.parse(read_source(path))
        except LoadError:
            continue
        for finding in run_rules(template, rules).findings:
            line = template.location(finding.path).line
            where = "/".join(map(str, finding.path))
            found[finding.rule.id].append(
                f"{path.relative_to(args.corpus)}:{line}\t{finding.resource}\t{where}\t"
                f"{finding.message}"
            )
    rng = random.Random(args.seed)
    for rule in sorted(rules, key=lambda r: r.id):
        items = found.get(rule.id, [])
        sample = sorted(rng.sample(items, min(args.per_rule, len(items))))
        print(f"## {rule.id} {rule.name}: {len(items)} findings, {len(sample)} sampled")
        for item in sample:
            print(item)
        print()


if __name__ == "__main__":
    main()
