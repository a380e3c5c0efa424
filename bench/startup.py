"""Start-up of ``cfnfix check`` on a one-resource template.

    python3 bench/startup.py [--runs N]

Prints the median (and minimum) wall time and child CPU time of N runs of the console
script, of the bare interpreter (``python -c pass``, which includes ``site`` and any
``.pth`` files of the environment) in the same environment, and a breakdown of one
start-up by phase: imports by area, rule loading and the first file.

Bytecode is cached (as after an installation) in a temporary PYTHONPYCACHEPREFIX, even
when PYTHONDONTWRITEBYTECODE is set; one warm-up run precedes each measured series.
Runs of the commands are interleaved, so a load on the machine hits them alike.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = (
    "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n"
    "    Properties:\n      RetentionInDays: 30\n"
)

# One start-up, phase by phase (rule modules are imported by importlib.import_module,
# which ``python -X importtime`` does not report).
PHASES = """
import sys, time
from pathlib import Path
marks = [("start", time.perf_counter())]
def mark(name):
    marks.append((name, time.perf_counter()))
import argparse
mark("argparse")
import yaml
mark("yaml")
import cfnfix.cli
mark("cfnfix.cli")
import cfnfix.app
mark("cfnfix.app (engine, model, loaders)")
from cfnfix import registry
registry.collect()
mark("rule loading")
from cfnfix.app import Options, process
from cfnfix.files import Target
process(Target(Path(sys.argv[1]), True), Options())
mark("first file")
process(Target(Path(sys.argv[1]), True), Options())
mark("same file again")
for (_, before), (name, after) in zip(marks, marks[1:]):
    print(f"{(after - before) * 1000:8.1f} ms  {name}")
"""


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) milliseconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall * 1000, cpu * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    script = Path(sys.executable).with_name("cfnfix")
    cfnfix = [str(script)] if script.exists() else [sys.executable, "-m", "cfnfix"]
    with tempfile.TemporaryDirectory() as work:
        template = Path(work, "one.yaml")
        template.write_text(TEMPLATE, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(work, "pycache"))
        env["NO_COLOR"] = "1"
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "cfnfix check one.yaml": [*cfnfix, "check", str(template)],
        }
        for command in commands.values():
            _timed(command, env)  # warm-up: writes the bytecode cache
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(_timed(command, env))
        print(f"{args.runs} runs each ({' '.join(cfnfix)})")
        for name, samples in times.items():
            walls = [wall for wall, _ in samples]
            cpus = [cpu for _, cpu in samples]
            print(
                f"  {name:<22} wall median {statistics.median(walls):6.1f} ms "
                f"(min {min(walls):6.1f}), cpu median {statistics.median(cpus):6.1f} ms "
                f"(min {min(cpus):6.1f})"
            )
        print("one start-up by phase:")
        phases = subprocess.run(
            [sys.executable, "-c", PHASES, str(template)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        sys.stdout.write(phases.stdout)


if __name__ == "__main__":
    main()
