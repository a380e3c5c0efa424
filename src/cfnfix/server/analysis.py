"""Checking and fixing one editor buffer in memory, with the CLI's machinery.

No LSP here: offsets are characters of the buffer's text (which may start with a BOM,
unlike cfnfix's own text), so :mod:`cfnfix.server.positions` can place them. Every edit
offered is verified the way ``cfnfix fix`` verifies its own: the result must re-parse
to exactly the template the change intends (:func:`cfnfix.fixer.apply_batch`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnfix import app
from cfnfix.changes import AppendItem
from cfnfix.config import Config, find_config
from cfnfix.engine import Overrides, run_rules
from cfnfix.errors import CfnfixError, ConfigError, LoadError, NotATemplate
from cfnfix.files import excluded, may_be_template
from cfnfix.fixer import allowed, apply_batch, fix_template
from cfnfix.nodes import MapNode, SeqNode, get_path
from cfnfix.rule import Finding, Fix, Rule
from cfnfix.source import BOM, Source
from cfnfix.template import Template, load_template
from cfnfix.writer import TextEdit, Writer, apply_edits


@dataclass(frozen=True)
class ClientSettings:
    """What the client may set (initializationOptions, workspace/didChangeConfiguration).

    ``select`` and ``ignore`` override the configuration file's, as the CLI's flags do;
    ``unsafe_fixes`` makes "fix all" apply unsafe fixes too.
    """

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool = False

    @classmethod
    def from_json(cls, data: Any) -> tuple[ClientSettings, list[str]]:
        """Settings from the client's JSON (flat, or under a ``cfnfix`` key), and problems."""
        problems: list[str] = []
        if isinstance(data, Mapping) and isinstance(data.get("cfnfix"), Mapping):
            data = data["cfnfix"]
        if data is None:
            return cls(), problems
        if not isinstance(data, Mapping):
            return cls(), ["cfnfix settings must be an object"]
        lists: dict[str, tuple[str, ...]] = {}
        for key in ("select", "ignore"):
            value = data.get(key, [])
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"cfnfix setting {key!r} must be a list of rule selectors")
                value = []
            lists[key] = tuple(v.strip() for v in value if v.strip())
        unsafe = data.get("unsafeFixes", data.get("unsafe-fixes", False))
        if not isinstance(unsafe, bool):
            problems.append("cfnfix setting 'unsafeFixes' must be true or false")
            unsafe = False
        known = {"select", "ignore", "unsafeFixes", "unsafe-fixes"}
        problems.extend(f"unknown cfnfix setting {key!r}" for key in data if key not in known)
        return cls(lists["select"], lists["ignore"], unsafe), problems


@dataclass(frozen=True)
class Problem:
    """Something to show that is no rule's finding: a parse or configuration error."""

    message: str
    start: int = 0  # character offsets in the buffer
    end: int = 0


@dataclass(frozen=True)
class Item:
    """A finding placed in the buffer."""

    finding: Finding
    start: int
    end: int
    safe: bool  # its fix (if any) is applied by "fix all" without unsafe fixes


@dataclass(frozen=True)
class Action:
    """A verified edit of the buffer: replace ``text[start:end]`` for each edit."""

    title: str
    edits: tuple[TextEdit, ...]
    preferred: bool = False


@dataclass
class Analysis:
    """The state of one buffer version: its findings, and the edits that can be made."""

    text: str  # the buffer, as the client has it (BOM included)
    config: Config | None = None
    rules: tuple[Rule, ...] = ()
    template: Template | None = None
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unsafe: bool = False
    _writer: Writer | None = field(default=None, repr=False)

    @property
    def shift(self) -> int:
        """How many characters precede cfnfix's text in the buffer (a BOM)."""
        return 1 if self.text.startswith(BOM) else 0

    @property
    def writer(self) -> Writer:
        assert self.template is not None
        if self._writer is None:
            self._writer = Writer(self.template)
        return self._writer

    def _buffer_edits(self, edits: Sequence[TextEdit]) -> tuple[TextEdit, ...]:
        shift = self.shift
        return tuple(
            TextEdit(e.start + shift, e.end + shift, e.replacement, e.depth, e.idempotent)
            for e in edits
        )

    def at(self, start: int, end: int) -> list[Item]:
        """Items whose span meets ``[start, end]`` (a cursor is an empty range)."""
        return [i for i in self.items if i.start <= end and start <= i.end]

    def _edits(self, finding: Finding, verify: bool) -> tuple[TextEdit, ...] | None:
        """The fix of ``finding`` as buffer edits; ``None`` if the writer cannot render it
        or (``verify``) its result would not re-parse to exactly the intended template."""
        if finding.fix is None or self.template is None:
            return None
        try:
            rendered = self.writer.render(list(finding.fix.changes))
        except CfnfixError:
            return None
        if verify:
            new, _ = apply_batch(self.template, [(finding, rendered.edits)])
            if new is None:
                return None
        return self._buffer_edits(rendered.edits)

    def quick_fix(self, item: Item, verify: bool = True) -> Action | None:
        """The finding's own fix; ``None`` when it has none or it is refused. Unverified
        (``verify=False``) only to offer it: the edit sent is always verified."""
        fix = item.finding.fix
        edits = self._edits(item.finding, verify)
        if fix is None or edits is None:
            return None
        label = "" if item.safe else " (unsafe fix)"
        title = f"{item.finding.rule.id}: {fix.description}{label}"
        return Action(title, edits, preferred=item.safe)

    def suppression(self, item: Item, verify: bool = True) -> Action | None:
        """A ``Metadata.cfnfix.ignore`` entry for the finding's rule, on its resource (or
        the template), verified like a fix. The reason is left for the user to write:
        until then SP002 reports the entry, pointing at it."""
        template = self.template
        if template is None:
            return None
        finding = item.finding
        if finding.resource is not None and finding.resource in template.resources:
            base: tuple[str | int, ...] = ("Resources", finding.resource, "Metadata")
            scope = finding.resource
        else:
            base, scope = ("Metadata",), "this template"
        path = (*base, "cfnfix", "ignore")
        if _existing(template.root, path) is False:  # something else is there: leave it
            return None
        change = AppendItem(path, {"id": finding.rule.id, "reason": ""})
        suppress = Finding(
            finding.rule, finding.path, finding.message, finding.resource, Fix.safe("", change)
        )
        edits = self._edits(suppress, verify)
        if edits is None:
            return None
        return Action(f"Suppress {finding.rule.id} for {scope} (then write the reason)", edits)

    def can_fix_all(self) -> bool:
        """Whether "fix all" has anything to try (cheap: nothing is rendered)."""
        template = self.template
        return template is not None and any(
            allowed(i.finding, template, self.unsafe) for i in self.items
        )

    def fix_all(self) -> str | None:
        """The buffer after every allowed fix, to a fixed point; ``None`` if none applies."""
        if self.template is None or not self.can_fix_all():
            return None
        outcome = fix_template(self.template, self.rules, self.unsafe, keep=True)
        if not outcome.changed:
            return None
        return self.text[: self.shift] + outcome.template.text


def _existing(root: MapNode, path: tuple[str | int, ...]) -> bool | None:
    """``True``: a list is there; ``None``: the path (or part of it) is missing, and can
    be created; ``False``: a value of another kind is in the way."""
    for depth in range(1, len(path) + 1):
        try:
            value = get_path(root, path[:depth])
        except (KeyError, IndexError, TypeError):
            return None
        last = depth == len(path)
        if last:
            return isinstance(value, SeqNode)
        if not isinstance(value, MapNode):
            return False
    return None


def config_for(path: Path | None, folder: Path | None) -> Config:
    """The CLI's discovery: the nearest ``.cfnfix.toml`` / ``[tool.cfnfix]`` upward from the
    document's directory (an unsaved document: from its workspace folder)."""
    directory = path.parent if path is not None else folder or Path.cwd()
    return find_config(directory.resolve())


def analyze(
    text: str,
    name: str,
    settings: ClientSettings,
    path: Path | None = None,
    folder: Path | None = None,
) -> Analysis:
    """Check a buffer. ``name`` decides YAML or JSON (by suffix, then by content);
    ``path`` is the file on disk, when it is one. Never raises for bad input."""
    analysis = Analysis(text, unsafe=settings.unsafe_fixes)
    try:
        config = config_for(path, folder)
        overrides = Overrides(select=settings.select, ignore=settings.ignore)
        analysis.config = config
        analysis.rules = app.rules_for(config, overrides)
    except ConfigError as exc:
        analysis.problems.append(Problem(f"configuration error: {exc}"))
        return analysis
    if path is not None and excluded(path, config.exclude, config.root):
        return analysis
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > config.max_file_size:
        analysis.problems.append(
            Problem(
                f"file too large ({size:,} bytes; the limit is {config.max_file_size:,}, "
                "set max-file-size to raise it)"
            )
        )
        return analysis
    if "\0" in text:
        analysis.problems.append(Problem("binary file (contains NUL bytes)"))
        return analysis
    if not may_be_template(text):
        return analysis
    try:
        template = load_template(app.with_limits(Source.from_text(text, name), config))
    except NotATemplate:
        return analysis
    except LoadError as exc:
        analysis.problems.append(_load_problem(text, exc))
        return analysis
    analysis.template = template
    result = run_rules(template, analysis.rules)
    analysis.problems.extend(
        Problem(f"internal error in rule {e.rule_id}: {e.message}") for e in result.rule_errors
    )
    line_starts = _line_starts(text)
    shift = analysis.shift
    for finding in result.findings:
        loc = template.location(finding.path)
        start = _offset(line_starts, loc.line, loc.column, shift)
        end = max(start, _offset(line_starts, loc.end_line, loc.end_column, shift))
        safe = allowed(finding, template, unsafe=False)
        analysis.items.append(Item(finding, start, end, safe))
    return analysis


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)]


def _offset(starts: list[int], line: int, column: int, shift: int) -> int:
    """A buffer offset from cfnfix's 1-based line and column (of the BOM-less text)."""
    index = max(0, min(line - 1, len(starts) - 1))
    return starts[index] + max(column - 1, 0) + (shift if index == 0 else 0)


def _load_problem(text: str, exc: LoadError) -> Problem:
    """A parse error at its position (to the end of its line), or on the first line."""
    starts = _line_starts(text)
    if exc.line is None:
        end = text.find("\n")
        return Problem(exc.message, 0, len(text) if end == -1 else end)
    shift = 1 if text.startswith(BOM) else 0
    start = min(_offset(starts, exc.line, exc.column or 1, shift), len(text))
    line_end = text.find("\n", start)
    end = len(text) if line_end == -1 else line_end
    if end > start and text[end - 1] == "\r":
        end -= 1
    return Problem(exc.message, start, end)


_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


def diff_edits(old: str, new: str) -> list[TextEdit]:
    """Minimal line-wise edits turning ``old`` into ``new`` (checked to do exactly that)."""
    import difflib

    old_lines = _LINE.findall(old)  # each with its "\n": they add up to the text
    new_lines = _LINE.findall(new)
    starts = [0]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    edits = [
        TextEdit(starts[i1], starts[i2], "".join(new_lines[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]
    if apply_edits(old, edits) != new:  # pragma: no cover - the lines add up to the texts
        return [TextEdit(0, len(old), new)]
    return edits
