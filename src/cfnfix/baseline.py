"""Baselines: adopt cfnfix on an existing repository by recording today's findings
(``--write-baseline``) and then reporting only new ones (``--baseline``).

Entries are keyed by file (relative to the baseline file), rule, resource and path from
the template root, never by line, so they survive unrelated edits. A key recorded N
times hides at most N findings.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from cfnfix.errors import ConfigError
from cfnfix.report import Diagnostic

VERSION = 1
Key = tuple[str, str, str, str]


def _relative(file: str, root: Path) -> str:
    return Path(os.path.relpath(Path(file).resolve(), root.resolve())).as_posix()


def key(diagnostic: Diagnostic, root: Path) -> Key:
    return (
        _relative(diagnostic.file, root),
        diagnostic.rule,
        diagnostic.resource or "",
        "/".join(map(str, diagnostic.path)),
    )


def write(path: Path, diagnostics: list[Diagnostic]) -> None:
    root = path.resolve().parent
    entries = sorted(
        (
            {
                "file": k[0],
                "rule": k[1],
                "resource": k[2] or None,
                "path": k[3],
                "message": d.message,
            }
            for d in diagnostics
            for k in [key(d, root)]
        ),
        key=lambda e: (e["file"], e["rule"], e["resource"] or "", e["path"], e["message"]),
    )
    document = {"version": VERSION, "tool": "cfnfix", "findings": entries}
    try:
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write baseline {path}: {exc.strerror or exc}") from None


def load(path: Path) -> Counter[Key]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"baseline {path} does not exist (create it with --write-baseline)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"baseline {path} is not readable JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise ConfigError(f"baseline {path}: not a cfnfix baseline (version {VERSION})")
    keys: Counter[Key] = Counter()
    for entry in document.get("findings", []):
        try:
            keys[(entry["file"], entry["rule"], entry["resource"] or "", entry["path"])] += 1
        except (KeyError, TypeError):
            raise ConfigError(f"baseline {path}: malformed entry {entry!r}") from None
    return keys


def new_only(diagnostics: list[Diagnostic], known: Counter[Key], root: Path) -> list[Diagnostic]:
    """The diagnostics the baseline does not account for."""
    remaining = Counter(known)
    fresh = []
    for diagnostic in diagnostics:
        k = key(diagnostic, root)
        if remaining[k] > 0:
            remaining[k] -= 1
        else:
            fresh.append(diagnostic)
    return fresh
