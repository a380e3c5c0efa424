"""Benchmark: ``cfnfix check`` against ``cfn-lint`` on the same files, in one run.

    python3 bench/run.py                 # corpus + synthetic 100/500/2,000 resources
    python3 bench/run.py --quick         # corpus + synthetic 100/500 only

Each tool runs as a fresh process over the same file list (start-up included, as in
CI). Files that cfnfix cannot load (invalid YAML, duplicate keys...) are left out for
both, because cfn-lint aborts a whole multi-file run on some of them. Reports wall
time, the cfn-lint / cfnfix ratio, and cfnfix's peak resident memory.
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gen_templates import template  # noqa: E402

ROOT = HERE.parent
CORPUS = Path(os.environ.get("CFNFIX_CORPUS", ROOT.parent / "shared" / "corpus"))


def cfn_lint_command() -> list[str]:
    beside = Path(sys.executable).parent / "cfn-lint"
    found = str(beside) if beside.exists() else shutil.which("cfn-lint")
    if found is None:
        raise SystemExit("cfn-lint is not installed: pip install cfn-lint")
    return [found]


def timed(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one run of ``command``."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    allowed = (0, 1, 2) if "cfnfix" in command else (0, 2, 4, 6, 8, 10, 12, 14)
    if code not in allowed:  # cfn-lint ORs 2 | 4 | 8 for errors, warnings, info
        raise SystemExit(f"{command[:3]} failed with exit code {code}")
    return elapsed, usage.ru_maxrss


def comparable(files: list[Path]) -> list[Path]:
    """Files both tools can process (found in a child process, so that this process stays
    small: a child's peak memory counts its parent's at the time of the fork)."""
    out = subprocess.run(
        [sys.executable, __file__, "--filter", *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
    )
    print(out.stderr, end="")
    return [Path(line) for line in out.stdout.splitlines()]


def filter_comparable(files: list[Path]) -> list[Path]:
    """cfnfix loads them and cfn-lint does not crash on them (one crash aborts a whole
    multi-file cfn-lint run)."""
    sys.path.insert(0, str(ROOT / "src"))
    from cfnfix import validate
    from cfnfix.errors import LoadError
    from cfnfix.source import read_source
    from cfnfix.template import Template

    keep = []
    for file in files:
        try:
            Template.parse(read_source(file))
            validate.lint_text(file.read_text(encoding="utf-8"))
        except LoadError:
            continue
        except Exception as exc:  # cfn-lint crashed on this file
            print(
                f"(left out {file.name}: cfn-lint crashes: {type(exc).__name__})", file=sys.stderr
            )
            continue
        keep.append(file)
    return keep


def measure(name: str, files: list[Path], repeat: int) -> dict[str, float | str | int]:
    paths = [str(f) for f in files]
    cfnfix = [timed([sys.executable, "-m", "cfnfix", "check", *paths]) for _ in range(repeat)]
    cfnlint = [timed([*cfn_lint_command(), *paths]) for _ in range(repeat)]
    fix_s = statistics.median(t for t, _ in cfnfix)
    lint_s = statistics.median(t for t, _ in cfnlint)
    return {
        "dataset": name,
        "files": len(files),
        "cfnfix_s": fix_s,
        "cfnlint_s": lint_s,
        "ratio": lint_s / fix_s,
        "cfnfix_peak_mib": max(m for _, m in cfnfix) / 1024,
        "cfnlint_peak_mib": max(m for _, m in cfnlint) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="skip the 2,000-resource template")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--sizes", type=int, nargs="*", default=None)
    parser.add_argument("--filter", nargs="+", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.filter:
        print("\n".join(map(str, filter_comparable(args.filter))))
        return
    lint = cfn_lint_command()
    rows = []
    if CORPUS.is_dir():
        files = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
        rows.append(measure("corpus", comparable(files), args.repeat))
    else:
        print(f"(corpus not found at {CORPUS}; set CFNFIX_CORPUS)")
    sizes = args.sizes or ([100, 500] if args.quick else [100, 500, 2000])
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = Path(tmp) / f"synthetic-{size}.yaml"
            path.write_text(template(size))
            rows.append(measure(f"synthetic {size} resources", [path], args.repeat))
    version = subprocess.run([*lint, "--version"], capture_output=True, text=True).stdout.split()
    print(
        f"{' '.join(version)}, Python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"median of {args.repeat} runs"
    )
    print(
        f"{'dataset':<28} {'files':>5} {'cfnfix s':>9} {'cfn-lint s':>10} {'ratio':>7} "
        f"{'cfnfix MiB':>10} {'cfn-lint MiB':>12}"
    )
    for r in rows:
        print(
            f"{r['dataset']:<28} {r['files']:>5} {r['cfnfix_s']:>9.2f} {r['cfnlint_s']:>10.2f} "
            f"{r['ratio']:>6.1f}x {r['cfnfix_peak_mib']:>10.0f} {r['cfnlint_peak_mib']:>12.0f}"
        )


if __name__ == "__main__":
    main()
