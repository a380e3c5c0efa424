"""Benchmark: ``cfnfix check`` on 2,000 templates (corpus copies) with --jobs 1 and 2.

    python3 bench/jobs.py [--files 2000] [--repeat 3]

Prints the wall time of each and the speed-up, and checks that both runs print exactly
the same output.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("CFNFIX_CORPUS", ROOT.parent / "shared" / "corpus"))


def run(jobs: int, folder: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cfnfix",
            "check",
            "--jobs",
            str(jobs),
            "--format",
            "json",
            str(folder),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1, 2):
        raise SystemExit(f"cfnfix failed: {proc.stderr[-500:]}")
    return elapsed, proc.stdout + proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sources = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
    if not sources:
        raise SystemExit(f"no corpus at {CORPUS} (set CFNFIX_CORPUS)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(args.files):
            source = sources[i % len(sources)]
            shutil.copy(source, folder / f"{i:05d}-{source.name}")
        timings: dict[int, list[float]] = {1: [], 2: []}
        outputs: dict[int, str] = {}
        for _ in range(args.repeat):
            for jobs in (1, 2):
                elapsed, output = run(jobs, folder)
                timings[jobs].append(elapsed)
                outputs[jobs] = output
    one, two = statistics.median(timings[1]), statistics.median(timings[2])
    print(f"{args.files} templates, {os.cpu_count()} cores, median of {args.repeat} runs")
    print(f"--jobs 1: {one:.2f} s   --jobs 2: {two:.2f} s   speed-up {one / two:.2f}x")
    print("identical output:", outputs[1] == outputs[2])
    if outputs[1] != outputs[2]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
