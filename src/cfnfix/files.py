"""Which files to look at: explicit files, and templates found by walking directories.

Walking respects ``.gitignore`` files as git does (inside a git work tree: every
``.gitignore`` from the repository root down, plus ``.git/info/exclude``; negation,
directory-only and anchored patterns, ``**``), unless ``respect_gitignore`` is off.
Files named explicitly are always taken, as ruff does.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any, Final, NamedTuple

from cfnfix.records import FrozenRecord

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".aws-sam", "cdk.out", ".venv", "__pycache__"}
# A template must mention one of these; other files met while walking are skipped unread.
_MARKERS = ("Resources", "AWSTemplateFormatVersion")
STDIN = "-"


class Target(FrozenRecord):
    __match_args__ = ("path", "explicit", "text")
    __slots__ = __match_args__

    def __init__(self, path: Path, explicit: bool, text: str | None = None) -> None:
        self.path: Final = path
        # Named on the command line: a non-template is an error, not skipped.
        self.explicit: Final = explicit
        self.text: Final = text  # standard input's content

    def _values(self) -> tuple[Any, ...]:  # compared and hashed without ``text``
        return (self.path, self.explicit)


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


# -- .gitignore ------------------------------------------------------------------------


def _translate_segment(segment: str) -> str:
    """One path segment of a gitignore glob as a regular expression."""
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "\\" and i + 1 < len(segment):
            out.append(re.escape(segment[i + 1]))
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = segment.find("]", i + 2 if segment[i + 1 : i + 2] in ("!", "^", "]") else i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = segment[i + 1 : end]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end + 1
                continue
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


class IgnorePattern(NamedTuple):
    regex: re.Pattern[str]
    negated: bool
    directory_only: bool

    @classmethod
    def parse(cls, line: str) -> IgnorePattern | None:
        if not line.strip() or line.startswith("#"):
            return None
        # Trailing spaces are ignored unless escaped with a backslash.
        stripped = line.rstrip(" ")
        if stripped.endswith("\\") and len(stripped) < len(line):
            stripped += " "
        line = stripped
        negated = line.startswith("!")
        if negated:
            line = line[1:]
        elif line.startswith("\\!") or line.startswith("\\#"):
            line = line[1:]
        directory_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            return None
        anchored = "/" in line
        segments = line.lstrip("/").split("/")
        body = ""
        for index, segment in enumerate(segments):
            last = index == len(segments) - 1
            if segment == "**":
                if last:  # everything inside
                    body += ".*" if index == 0 else "/.*"
                else:  # zero or more directories
                    body += "(?:.*/)?" if index == 0 else "(?:/.*)?/"
                continue
            body += _translate_segment(segment)
            if not last and segments[index + 1] != "**":
                body += "/"
        if not anchored:
            body = "(?:.*/)?" + body
        return cls(re.compile(body, re.DOTALL), negated, directory_only)

    def matches(self, relative: str, is_dir: bool) -> bool:
        if self.directory_only and not is_dir:
            return False
        return self.regex.fullmatch(relative) is not None


class IgnoreFile(NamedTuple):
    base: Path  # the directory whose paths the patterns are relative to
    patterns: tuple[IgnorePattern, ...]

    def verdict(self, path: Path, is_dir: bool) -> bool | None:
        """True ignored, False re-included by a negation, None no pattern matched."""
        try:
            relative = path.relative_to(self.base).as_posix()
        except ValueError:
            return None
        for pattern in reversed(self.patterns):  # the last matching pattern decides
            if pattern.matches(relative, is_dir):
                return not pattern.negated
        return None


Rules = tuple[IgnoreFile, ...]


@cache
def _ignore_file(file: Path, base: Path) -> IgnoreFile | None:
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    patterns = tuple(p for p in map(IgnorePattern.parse, text.splitlines()) if p is not None)
    return IgnoreFile(base, patterns) if patterns else None


@cache
def repository_root(directory: Path) -> Path | None:
    """The work tree holding ``directory`` (absolute): the nearest folder with a ``.git``."""
    for folder in (directory, *directory.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _own_rules(directory: Path, root: Path) -> tuple[IgnoreFile, ...]:
    files = []
    if directory == root:
        info = _ignore_file(root / ".git" / "info" / "exclude", root)
        if info is not None:
            files.append(info)
    own = _ignore_file(directory / ".gitignore", directory)
    if own is not None:
        files.append(own)
    return tuple(files)


class GitIgnore:
    """The ignore rules that apply while walking below one directory."""

    def __init__(self, start: Path) -> None:
        self.start = start.absolute()
        self.root = repository_root(self.start)
        self.inherited: Rules = ()
        if self.root is not None:  # the .gitignore files above the walk's start
            chain = [self.start, *self.start.parents]
            above = reversed(chain[: chain.index(self.root) + 1])
            self.inherited = tuple(f for d in above for f in _own_rules(d, self.root))

    def rules_below(self, parent: Rules, directory: Path) -> Rules:
        if self.root is None or directory == self.start:
            return parent or self.inherited
        return parent + _own_rules(directory, self.root)

    def ignored(self, rules: Rules, path: Path, is_dir: bool) -> bool:
        for rule_file in reversed(rules):  # deeper files take precedence
            verdict = rule_file.verdict(path, is_dir)
            if verdict is not None:
                return verdict
        return False


def _walk(top: Path, respect_gitignore: bool) -> Iterator[Path]:
    gitignore = GitIgnore(top) if respect_gitignore else None
    pending: list[tuple[Path, Rules]] = [(top, ())]
    while pending:
        directory, parent_rules = pending.pop()
        absolute = directory.absolute()
        rules = gitignore.rules_below(parent_rules, absolute) if gitignore else ()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        subdirectories = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
                is_link = entry.is_symlink()
            except OSError:
                continue
            if gitignore and gitignore.ignored(rules, absolute / entry.name, is_dir):
                continue
            if is_dir:
                # Like os.walk: a symbolic link to a directory is not followed.
                if entry.name not in SKIP_DIRS and not entry.name.startswith(".") and not is_link:
                    subdirectories.append((directory / entry.name, rules))
            elif entry.name.lower().endswith(TEMPLATE_SUFFIXES):
                yield directory / entry.name
        pending.extend(reversed(subdirectories))


def discover(paths: Iterable[Path], respect_gitignore: bool = True) -> Iterator[Target | PathError]:
    """Targets in a stable order, each file once; a missing path or a directory without
    templates yields a PathError."""
    seen: set[str] = set()

    def first_time(path: Path) -> bool:
        key = os.path.realpath(path)
        if key in seen:
            return False
        seen.add(key)
        return True

    for path in paths:
        if path.is_dir():
            found = False
            for file in _walk(path, respect_gitignore):
                found = True
                if _link_loop(file):
                    yield PathError(file, "symbolic link loop")
                elif first_time(file):
                    yield Target(file, explicit=False)
            if not found:
                yield PathError(path, "no template files (*.yaml, *.yml, *.json, *.template)")
        elif _link_loop(path):
            yield PathError(path, "symbolic link loop")
        elif path.exists() or path.is_symlink():
            if first_time(path):
                yield Target(path, explicit=True)
        else:
            yield PathError(path, "no such file or directory")


def _link_loop(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def may_be_template(text: str) -> bool:
    return any(marker in text for marker in _MARKERS)
