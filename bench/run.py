"""Benchmark: cfnfix against cfn-lint (and checkov, when installed) on the same files, in
one run, with the performance targets checked.

    python3 bench/run.py                  # start-up, corpus, synthetic 500/2,000/5,000, fix
    python3 bench/run.py --quick          # start-up, corpus, synthetic 500 only
    python3 bench/run.py --markdown       # the table as Markdown, for the README
    python3 bench/run.py --startup-only   # start-up only (installed copy and this one)

Each tool runs as a fresh process over the same file list (start-up included, as in CI);
every cfnfix rule that is on by default runs. Files that cfnfix cannot load (invalid
YAML, duplicate keys...) are left out for every tool, because cfn-lint aborts a whole
multi-file run on some of them. `fix` is timed as `cfnfix fix --unsafe-fixes` on a fresh
copy of the same files (the other tools cannot fix, so it has no ratio).

Start-up is measured twice: as a user installs cfnfix (this checkout's wheel in a fresh
virtual environment, dependencies from the package index; the target is judged on it)
and in this development environment, each beside its bare interpreter (`python -c pass`).

Targets (issue 12): start-up under 150 ms; corpus check at least 50x faster than
cfn-lint; check time linear in resources (5,000 within 11x of 500); `fix` of 2,000
resources under 3 s; peak memory under 10x the template's size plus 60 MB.
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
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gen_templates import template  # noqa: E402

ROOT = HERE.parent
CORPUS = Path(os.environ.get("CFNFIX_CORPUS", ROOT.parent / "shared" / "corpus"))
MIB = 1024 * 1024
ONE_RESOURCE = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 30
"""


def installed(name: str) -> list[str] | None:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    return [found] if found else None


def cfnfix_command() -> list[str]:
    return installed("cfnfix") or [sys.executable, "-m", "cfnfix"]


@dataclass
class Run:
    seconds: float
    peak_mib: float


# Every tool runs with its bytecode cached, as after a normal install: a machine with
# PYTHONDONTWRITEBYTECODE set would otherwise recompile every module on every run (that
# doubles cfnfix's start-up). The cache goes to a temporary folder, not the checkout.
PYCACHE = tempfile.mkdtemp(prefix="cfnfix-bench-pyc-")  # removed when main() ends
ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPYCACHEPREFIX": PYCACHE,
}


def timed(command: list[str], allowed: tuple[int, ...], no_traceback: bool = False) -> Run:
    """Wall time and peak resident memory of one run of ``command``. A run that exits
    with an unexpected code stops the benchmark; so does, with ``no_traceback`` (cfnfix's
    runs: cfnfix never prints one), a Python traceback: a crash such as a failed import
    exits 1 like a check with findings, and would time nothing."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        errors.seek(0)
        crashed = no_traceback and b"Traceback (most recent call last)" in errors.read()
    code = os.waitstatus_to_exitcode(status)
    if code not in allowed or crashed:
        what = "crashed" if crashed else f"failed with exit code {code}"
        raise SystemExit(f"{' '.join(command[:3])} ... {what}")
    return Run(elapsed, usage.ru_maxrss / 1024)


def median(runs: list[Run]) -> Run:
    return Run(statistics.median(r.seconds for r in runs), max(r.peak_mib for r in runs))


# cfnfix exits 0/1 (nothing found / findings); cfn-lint ORs 2 | 4 | 8 (error, warning,
# info); checkov exits 1 when a check fails.
CFNFIX_OK = (0, 1)
CFNLINT_OK = (0, 2, 4, 6, 8, 10, 12, 14)
CHECKOV_OK = (0, 1)


def run_other(name: str, command: list[str], paths: list[str]) -> Run:
    """One timed run of another tool (cfn-lint or checkov) over ``paths``."""
    if name == "checkov":
        return timed([*command, "--quiet", "--compact", "-f", *paths], CHECKOV_OK)
    return timed([*command, *paths], CFNLINT_OK)


def memory_budget_mib(row: Row) -> float:
    """The target: peak memory under 10x the template's size plus 60 MB."""
    return 10 * row.size_mib + 60


def comparable(files: list[Path]) -> list[Path]:
    """Files every tool can process (found in a child process, so that this process stays
    small: a child's peak memory counts its parent's at the time of the fork)."""
    out = subprocess.run(
        [sys.executable, __file__, "--filter", *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
    )
    print(out.stderr, end="", file=sys.stderr)
    return [Path(line) for line in out.stdout.splitlines()]


def filter_comparable(files: list[Path]) -> list[Path]:
    """cfnfix loads them and cfn-lint does not crash on them."""
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


@dataclass
class Row:
    dataset: str
    files: list[Path]
    size_mib: float
    check: Run
    fix: Run | None = None
    tools: dict[str, Run] = field(default_factory=dict)


def measure(
    dataset: str,
    files: list[Path],
    repeat: int,
    others: dict[str, list[str]],
    fix: bool,
    other_repeat: int,
) -> Row:
    paths = [str(f) for f in files]
    print(f"measuring {dataset} ({len(files)} files)...", file=sys.stderr)
    check = median(
        [
            timed([*cfnfix_command(), "check", *paths], CFNFIX_OK, no_traceback=True)
            for _ in range(repeat)
        ]
    )
    row = Row(dataset, files, sum(f.stat().st_size for f in files) / MIB, check)
    for name, command in others.items():
        row.tools[name] = median([run_other(name, command, paths) for _ in range(other_repeat)])
    if fix:
        runs = []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as tmp:
                copies = []
                for i, file in enumerate(files):
                    copy = Path(tmp) / f"{i:04d}-{file.name}"
                    shutil.copyfile(file, copy)
                    copies.append(str(copy))
                runs.append(
                    timed(
                        [*cfnfix_command(), "fix", "--unsafe-fixes", *copies],
                        CFNFIX_OK,
                        no_traceback=True,
                    )
                )
        row.fix = median(runs)
    return row


@dataclass
class Startup:
    """Start-up (a one-resource check) of one installation, beside its bare interpreter."""

    where: str
    check: Run
    interpreter: Run


def startup(command: list[str], python: str, where: str, repeat: int) -> Startup:
    """Median of ``repeat`` interleaved runs of the check and of ``python -c pass``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "one.yaml"
        path.write_text(ONE_RESOURCE)
        timed(
            [*command, "check", str(path)], CFNFIX_OK, no_traceback=True
        )  # warm the file and bytecode caches
        checks, bare = [], []
        for _ in range(repeat):
            checks.append(timed([*command, "check", str(path)], CFNFIX_OK, no_traceback=True))
            bare.append(timed([python, "-c", "pass"], (0,)))
        return Startup(where, median(checks), median(bare))


def installed_copy(tmp: Path) -> tuple[list[str], str]:
    """cfnfix as a user installs it: this checkout's wheel in a fresh virtual environment
    (dependencies from the package index), as `pipx install` does. The development
    environment's start-up also pays for its editable-install finder and whatever other
    ``.pth`` files its site-packages hold; a fresh environment runs none of them."""
    wheels = tmp / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*build, "-w", str(wheels), str(ROOT)], check=True)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    wheel = next(wheels.glob("cfnfix-*.whl"))
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], check=True
    )
    return [str(venv / "bin" / "cfnfix")], str(venv / "bin" / "python")


def verdicts(rows: dict[str, Row], starts: list[Startup]) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for each target whose data was measured. Start-up is
    judged on the first installation measured (the user's, when it could be made)."""
    start = starts[0]
    out = [
        (
            f"start-up under 150 ms ({start.where})",
            f"{start.check.seconds * 1000:.0f} ms",
            start.check.seconds < 0.150,
        )
    ]
    corpus = rows.get("corpus")
    if corpus and "cfn-lint" in corpus.tools:
        ratio = corpus.tools["cfn-lint"].seconds / corpus.check.seconds
        out.append(("corpus check at least 50x faster than cfn-lint", f"{ratio:.1f}x", ratio >= 50))
    small, large = rows.get("synthetic 500"), rows.get("synthetic 5000")
    if small and large:
        growth = large.check.seconds / small.check.seconds
        out.append(("5,000 resources within 11x of 500", f"{growth:.1f}x", growth <= 11))
    mid = rows.get("synthetic 2000")
    if mid and mid.fix:
        out.append(
            ("fix of 2,000 resources under 3 s", f"{mid.fix.seconds:.2f} s", mid.fix.seconds < 3)
        )
    # Each single template, checked and fixed, against its own budget.
    for row in rows.values():
        if len(row.files) != 1:
            continue
        budget = memory_budget_mib(row)
        for verb, run in (("check", row.check), ("fix", row.fix)):
            if run is not None:
                out.append(
                    (
                        f"peak memory under 10x size + 60 MB: {verb} {row.dataset}",
                        f"{run.peak_mib:.0f} of {budget:.0f} MiB",
                        run.peak_mib < budget,
                    )
                )
    return out


def render(rows: dict[str, Row], starts: list[Startup], repeats: str, markdown: bool) -> str:
    names = sorted({name for row in rows.values() for name in row.tools})
    head = ["dataset", "files", "MiB", "cfnfix check", *names, *[f"{n} ratio" for n in names]]
    head += ["cfnfix peak", "cfnfix fix", "fix peak"]
    table = []
    for row in rows.values():
        cells = [
            row.dataset,
            str(len(row.files)),
            f"{row.size_mib:.2f}",
            f"{row.check.seconds:.2f} s",
        ]
        cells += [f"{row.tools[n].seconds:.2f} s" if n in row.tools else "-" for n in names]
        cells += [
            f"{row.tools[n].seconds / row.check.seconds:.1f}x" if n in row.tools else "-"
            for n in names
        ]
        cells += [f"{row.check.peak_mib:.0f} MiB"]
        cells += (
            [f"{row.fix.seconds:.2f} s", f"{row.fix.peak_mib:.0f} MiB"] if row.fix else ["-", "-"]
        )
        table.append(cells)
    lines = [f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, {repeats}"]
    lines += [
        f"start-up (one-resource check), {s.where}: {s.check.seconds * 1000:.0f} ms, "
        f"{s.check.peak_mib:.0f} MiB (python -c pass there: {s.interpreter.seconds * 1000:.0f} ms)"
        for s in starts
    ]
    lines.append("")
    if markdown:
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
        lines += ["| " + " | ".join(cells) + " |" for cells in table]
        lines += ["", "| target | measured | met |", "|---|---:|---|"]
        lines += [
            f"| {t} | {m} | {'yes' if ok else '**no**'} |" for t, m, ok in verdicts(rows, starts)
        ]
    else:
        widths = [max(len(c[i]) for c in [head, *table]) for i in range(len(head))]
        for cells in [head, *table]:
            lines.append(
                "  ".join(
                    c.rjust(w) if i else c.ljust(w)
                    for i, (c, w) in enumerate(zip(cells, widths, strict=True))
                )
            )
        lines.append("")
        lines += [f"{'met' if ok else 'NOT MET'}: {t}: {m}" for t, m, ok in verdicts(rows, starts)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="synthetic 500 only")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument(
        "--other-repeat",
        type=int,
        default=None,
        help="runs per measurement of the other tools (default: --repeat; cfn-lint is slow)",
    )
    parser.add_argument("--startup-repeat", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="*", default=None)
    parser.add_argument("--no-corpus", action="store_true")
    parser.add_argument("--no-fix", action="store_true", help="do not time cfnfix fix")
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="measure start-up only in this environment (no fresh virtual environment)",
    )
    parser.add_argument("--startup-only", action="store_true", help="measure start-up only")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--filter", nargs="+", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        run(args)
    finally:
        shutil.rmtree(PYCACHE, ignore_errors=True)


def startups(install: bool, repeat: int) -> list[Startup]:
    """Start-up as a user installs cfnfix (unless ``install`` is off), then here."""
    starts = []
    if install:
        print("installing this checkout's wheel in a fresh virtual environment...", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="cfnfix-bench-venv-") as venv:
            command, python = installed_copy(Path(venv))
            starts.append(startup(command, python, "installed from the wheel", repeat))
    starts.append(startup(cfnfix_command(), sys.executable, "development install", repeat))
    return starts


def run(args: argparse.Namespace) -> None:
    if args.filter:
        print("\n".join(map(str, filter_comparable(args.filter))))
        return
    other_repeat = args.other_repeat or args.repeat
    repeats = f"median of {args.repeat} runs of cfnfix, {other_repeat} of the other tools"
    if args.startup_only:
        starts = startups(not args.no_install, args.startup_repeat)
        print(render({}, starts, repeats, args.markdown))
        return
    lint = installed("cfn-lint")
    if lint is None:
        raise SystemExit("cfn-lint is not installed: pip install cfn-lint")
    others = {"cfn-lint": lint}
    checkov = installed("checkov")
    if checkov:
        others["checkov"] = checkov
    # One untimed run of each tool first, so every measurement finds bytecode cached.
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.yaml"
        warm.write_text(ONE_RESOURCE)
        timed(
            [*cfnfix_command(), "fix", "--unsafe-fixes", "--diff", str(warm)],
            CFNFIX_OK,
            no_traceback=True,
        )
        for name, command in others.items():
            run_other(name, command, [str(warm)])
    starts = startups(not args.no_install, args.startup_repeat)
    rows: dict[str, Row] = {}
    if CORPUS.is_dir() and not args.no_corpus:
        found = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
        rows["corpus"] = measure(
            "corpus", comparable(found), args.repeat, others, not args.no_fix, other_repeat
        )
    elif not args.no_corpus:
        print(f"(corpus not found at {CORPUS}; set CFNFIX_CORPUS)", file=sys.stderr)
    sizes = args.sizes or ([500] if args.quick else [500, 2000, 5000])
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = Path(tmp) / f"synthetic-{size}.yaml"
            path.write_text(template(size))
            name = f"synthetic {size}"
            rows[name] = measure(name, [path], args.repeat, others, not args.no_fix, other_repeat)
    version = subprocess.run([*lint, "--version"], capture_output=True, text=True).stdout.strip()
    print(version)
    print(render(rows, starts, repeats, args.markdown))


if __name__ == "__main__":
    main()
