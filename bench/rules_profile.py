"""Per-rule time, in process: where the rules spend their time on the corpus and on
synthetic templates (parsing and writing are left out).

    python3 bench/rules_profile.py                    # corpus, synthetic 500 and 2,000
    python3 bench/rules_profile.py --sizes 2000 5000 --repeat 5
    python3 bench/rules_profile.py --top 15 --no-corpus

Every rule runs (``--select ALL``), in the engine's order, on a freshly parsed template
each repeat, so indexes a rule memoizes are charged to the first rule that asks for them,
as in a real run. Each figure is CPU seconds (less disturbed than wall time on a busy
machine), the minimum over the repeats. The last line times ``registry.collect()``
(importing every rule module) in a fresh process.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gen_templates import template as synthetic  # noqa: E402

from cfnfix import registry, suppressions  # noqa: E402
from cfnfix.errors import LoadError  # noqa: E402
from cfnfix.rule import Rule  # noqa: E402
from cfnfix.settings import Settings  # noqa: E402
from cfnfix.source import Source, read_source  # noqa: E402
from cfnfix.template import Template  # noqa: E402

CORPUS = Path(os.environ.get("CFNFIX_CORPUS", HERE.parent.parent / "shared" / "corpus"))
SUFFIXES = {".yaml", ".yml", ".json", ".template"}
REVIEW = "(review)"


def corpus_sources() -> list[Source]:
    sources = []
    for path in sorted(CORPUS.rglob("*")):
        if path.suffix in SUFFIXES and path.is_file():
            try:
                source = read_source(path)
                Template.parse(source)
            except LoadError:
                continue
            sources.append(source)
    return sources


def all_rules() -> list[Rule]:
    available = registry.collect()
    chosen = registry.select(available, ["ALL"], [])
    return [rule(None, Settings()) for rule in chosen]


def time_once(sources: Iterable[Source], rules: list[Rule]) -> dict[str, float]:
    """Seconds per rule id (and for the review pass) over ``sources``, one pass."""
    spent = dict.fromkeys([rule.id for rule in rules] + [REVIEW], 0.0)
    clock = time.process_time
    for source in sources:
        template = Template.parse(source)
        for rule in rules:
            start = clock()
            with contextlib.suppress(Exception):  # the engine reports these; time counts
                list(rule.check(template))
            spent[rule.id] += clock() - start
        start = clock()
        written = suppressions.collect(template)
        for rule in rules:
            with contextlib.suppress(Exception):
                list(rule.review(template, written, rules))
        spent[REVIEW] += clock() - start
    return spent


def profile(sources: list[Source], rules: list[Rule], repeat: int) -> dict[str, float]:
    best: dict[str, float] = {}
    for _ in range(repeat):
        for key, seconds in time_once(sources, rules).items():
            best[key] = min(best.get(key, seconds), seconds)
    return best


def collect_seconds(repeat: int) -> float:
    """``registry.collect()`` (importing every rule module) in a fresh process, with
    bytecode cached as after an install (in a temporary folder, not the checkout)."""
    code = (
        "import time; from cfnfix import registry; s = time.perf_counter(); "
        "registry.collect(); print(time.perf_counter() - s)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="cfnfix-pyc-") as pycache:
        env["PYTHONPYCACHEPREFIX"] = pycache
        command = [sys.executable, "-c", code]
        runs = [
            float(subprocess.run(command, capture_output=True, text=True, env=env).stdout)
            for _ in range(repeat + 1)  # the first run writes the bytecode
        ]
    return min(runs[1:])


def report(columns: dict[str, dict[str, float]], top: int) -> None:
    names = list(columns)
    keys = sorted(
        {key for column in columns.values() for key in column},
        key=lambda key: -max(column.get(key, 0.0) for column in columns.values()),
    )
    print(f"{'rule':<10}" + "".join(f"{name:>12}" for name in names))
    for key in keys[:top] if top else keys:
        print(f"{key:<10}" + "".join(f"{columns[name].get(key, 0.0):12.4f}" for name in names))
    print(f"{'total':<10}" + "".join(f"{sum(columns[name].values()):12.4f}" for name in names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[500, 2000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--top", type=int, default=0, help="show only the N slowest rules")
    parser.add_argument("--no-corpus", action="store_true")
    args = parser.parse_args()
    rules = all_rules()
    columns: dict[str, dict[str, float]] = {}
    if not args.no_corpus and CORPUS.is_dir():
        columns["corpus"] = profile(corpus_sources(), rules, args.repeat)
    for size in args.sizes:
        source = Source.from_text(synthetic(size), f"s{size}.yaml")
        columns[f"s{size}"] = profile([source], rules, args.repeat)
    report(columns, args.top)
    print(f"registry.collect() in a fresh process: {collect_seconds(args.repeat) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
