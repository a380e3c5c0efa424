from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cfnfix import registry
from cfnfix.rule import Rule

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CORPUS = Path(os.environ.get("CFNFIX_CORPUS", ROOT.parent / "shared" / "corpus"))


def builtin_rules() -> dict[str, type[Rule]]:
    return registry.collect()


@pytest.fixture(scope="session")
def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip(f"the template corpus is not at {CORPUS} (set CFNFIX_CORPUS to its folder)")
    files = sorted(
        p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml", ".json", ".template")
    )
    assert files, f"no templates under {CORPUS}"
    return files


def run_cfnfix(
    *args: str, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a subprocess (exit codes, stderr, no tracebacks)."""
    return subprocess.run(
        [sys.executable, "-m", "cfnfix", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"},
    )
