"""Which files to look at: explicit files, and templates found by walking directories."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".aws-sam", "cdk.out", ".venv", "__pycache__"}
# A template must mention one of these; other files met while walking are skipped unread.
_MARKERS = ("Resources", "AWSTemplateFormatVersion")


@dataclass(frozen=True)
class Target:
    path: Path
    explicit: bool  # named on the command line: a non-template is an error, not skipped


class PathError(Exception):
    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def excluded(path: Path, patterns: Iterable[str], root: Path) -> bool:
    try:
        relative = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        relative = path.as_posix()
    return any(
        fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.name, pattern)
        for pattern in patterns
    )


def discover(paths: Iterable[Path]) -> Iterator[Target | PathError]:
    """Targets in a stable order; a missing path or empty directory yields a PathError."""
    for path in paths:
        if path.is_dir():
            found = False
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                for name in sorted(files):
                    if name.lower().endswith(TEMPLATE_SUFFIXES):
                        found = True
                        yield Target(Path(root) / name, explicit=False)
            if not found:
                yield PathError(path, "no template files (*.yaml, *.yml, *.json, *.template)")
        elif path.exists() or path.is_symlink():
            yield Target(path, explicit=True)
        else:
            yield PathError(path, "no such file or directory")


def may_be_template(text: str) -> bool:
    return any(marker in text for marker in _MARKERS)
