"""Processing one file end to end: read, parse, check or fix, write. No printing here."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from cfnfix.collector import paused
from cfnfix.config import Config, find_config, parse_config
from cfnfix.engine import Overrides, instantiate, run_rules
from cfnfix.errors import ConfigError, LoadError, NotATemplate
from cfnfix.files import Target, excluded, may_be_template
from cfnfix.nodes import opaque_tags
from cfnfix.records import Record
from cfnfix.report import Diagnostic, FileError
from cfnfix.rule import Rule
from cfnfix.source import Source, read_source, write_atomic
from cfnfix.template import Template

if TYPE_CHECKING:  # the fixer and the writer are imported only when a run needs them
    from cfnfix.fixer import FixOutcome
    from cfnfix.writer import Writer


class Options(NamedTuple):
    """Everything a run decides once, for every file."""

    overrides: Overrides = Overrides()
    config_file: Path | None = None
    fix: bool = False
    unsafe_fixes: bool = False
    diff: bool = False
    with_edits: bool = False  # render each finding's fix as text edits (SARIF needs them)
    quiet_non_templates: bool = False  # skip non-templates silently even when named
    validate: bool = False  # refuse fixes that introduce cfn-lint errors
    with_source: bool = False  # keep each finding's line of text (`--show-source`)


class FixRecord(NamedTuple):
    rule: str
    line: int
    resource: str | None
    description: str


class FileResult(Record):
    __match_args__ = (
        "file",
        "diagnostics",
        "errors",
        "fixed",
        "refused",
        "diff",
        "skipped",
        "changed",
        "checked",
        "output",
    )
    __slots__ = __match_args__

    def __init__(
        self,
        file: str,
        diagnostics: list[Diagnostic] | None = None,
        errors: list[FileError] | None = None,
        fixed: list[FixRecord] | None = None,
        refused: list[str] | None = None,
        diff: str = "",
        skipped: bool = False,  # not a template, met while walking a directory
        changed: bool = False,
        checked: bool = False,  # parsed and checked (its rules ran, even if one failed)
        output: str | None = None,  # the fixed text of standard input (`cfnfix fix -`)
    ) -> None:
        self.file = file
        self.diagnostics = [] if diagnostics is None else diagnostics
        self.errors = [] if errors is None else errors
        self.fixed = [] if fixed is None else fixed
        self.refused = [] if refused is None else refused
        self.diff = diff
        self.skipped = skipped
        self.changed = changed
        self.checked = checked
        self.output = output


@cache
def _explicit_config(path: Path) -> Config:
    config = parse_config(path)
    if config is None:
        raise ConfigError(f"{path}: no [tool.cfnfix] section")
    return config


def config_for(path: Path, options: Options) -> Config:
    if options.config_file is not None:
        return _explicit_config(options.config_file.resolve())
    try:
        directory = path.resolve().parent
    except (OSError, RuntimeError):  # a symbolic link loop: reported when it is read
        directory = path.absolute().parent
    return find_config(directory)


@cache
def rules_for(config: Config, overrides: Overrides) -> tuple[Rule, ...]:
    return tuple(instantiate(config, overrides))


def validated_fix(
    template: Template, rules: tuple[Rule, ...], unsafe: bool, outcome: FixOutcome
) -> tuple[FixOutcome, list[str]]:
    """Drop the fixes of every rule whose fixes introduce a cfn-lint error."""
    from cfnfix import validate
    from cfnfix.fixer import fix_template

    refusals: list[str] = []
    excluded: set[str] = set()
    while outcome.changed:
        errors = validate.new_errors(template.text, outcome.template.text)
        if not errors:
            break
        applied = sorted({a.rule.id for a in outcome.applied})
        culprits = []
        for rule_id in applied:
            alone = fix_template(template, [r for r in rules if r.id == rule_id], unsafe, keep=True)
            own = validate.new_errors(template.text, alone.template.text)
            if own:
                culprits.append(rule_id)
                first = own[0]
                refusals.append(
                    f"{rule_id}: fixes not written: they would introduce cfn-lint "
                    f"{first.rule} ({first.message})"
                )
        if not culprits:  # only the combination fails: keep none of them
            culprits = applied
            first = errors[0]
            refusals.append(
                f"{', '.join(applied)}: fixes not written: together they would introduce "
                f"cfn-lint {first.rule} ({first.message})"
            )
        excluded.update(culprits)
        outcome = fix_template(
            template, [r for r in rules if r.id not in excluded], unsafe, keep=True
        )
    if excluded:  # report the excluded rules' findings too
        outcome.result = run_rules(outcome.template, rules)
    return outcome, refusals


def process(target: Target, options: Options) -> FileResult:
    """Check or fix one file; never raises (a cfnfix bug becomes a file error)."""
    try:
        with paused():  # parsing, rules and fixes: see cfnfix.collector
            return _process(target, options)
    except Exception as exc:
        if os.environ.get("CFNFIX_DEBUG"):
            raise
        return FileResult(
            str(target.path),
            errors=[
                FileError(
                    str(target.path),
                    f"internal error: {type(exc).__name__}: {exc} (CFNFIX_DEBUG=1 shows more)",
                )
            ],
        )


def _writer(template: Template) -> Writer:
    from cfnfix.writer import Writer

    return Writer(template)


def _cfn_lint_available() -> bool:
    from cfnfix import validate

    return validate.available()


def with_limits(source: Source, config: Config) -> Source:
    """``source``, to be parsed under ``config``'s nesting-depth and alias limits (the CLI
    and the language server both read through this)."""
    return source.replace(
        max_depth=config.max_nesting_depth, max_alias_nodes=config.max_alias_nodes
    )


def _read(target: Target, max_bytes: int) -> Source:
    if target.text is None:
        return read_source(target.path, max_bytes)
    if len(target.text) > max_bytes:
        raise LoadError(f"standard input too large (the limit is {max_bytes:,} bytes)")
    if "\0" in target.text:
        raise LoadError("binary input (contains NUL bytes)")
    return Source.from_text(target.text, str(target.path))


def _original_diagnostics(
    template: Template, rules: tuple[Rule, ...], outcome: FixOutcome, name: str, options: Options
) -> list[Diagnostic]:
    """What remains after the fixes, placed on the lines of the file as it is on disk.

    A finding of the original that is still there after the fixes keeps its original
    location (and its fix, rendered against the original text); a finding that only the
    fixed text has points at its path's deepest part that exists in the original."""
    remaining: dict[tuple[str, tuple[str | int, ...], str], int] = {}
    for finding in outcome.result.findings:
        key = (finding.rule.id, finding.path, finding.message)
        remaining[key] = remaining.get(key, 0) + 1
    placed = []
    writer = _writer(template) if options.with_edits else None
    source = options.with_source
    for finding in run_rules(template, rules).findings:
        key = (finding.rule.id, finding.path, finding.message)
        if remaining.get(key, 0) > 0:
            remaining[key] -= 1
            placed.append(Diagnostic.of(finding, template, name, writer, source))
    for finding in outcome.result.findings:
        key = (finding.rule.id, finding.path, finding.message)
        if remaining.get(key, 0) > 0:
            remaining[key] -= 1
            placed.append(Diagnostic.of(finding, template, name, None, source))
    placed.sort(key=lambda d: (d.line, d.column, d.rule, "/".join(map(str, d.path)), d.message))
    return placed


def _process(target: Target, options: Options) -> FileResult:
    name = str(target.path)
    result = FileResult(name)
    try:
        config = config_for(target.path, options)
        if excluded(target.path, config.exclude, config.root):
            result.skipped = True
            return result
        rules = rules_for(config, options.overrides)
        source = with_limits(_read(target, config.max_file_size), config)
        lenient = not target.explicit or options.quiet_non_templates
        if lenient and not may_be_template(source.text):
            result.skipped = True
            return result
        template = Template.parse(source)
    except NotATemplate as exc:
        if target.explicit and not options.quiet_non_templates:
            result.errors.append(FileError(name, exc.message, exc.line, exc.column))
        else:
            result.skipped = True
        return result
    except LoadError as exc:
        result.errors.append(FileError(name, exc.message, exc.line, exc.column))
        return result
    except ConfigError as exc:
        result.errors.append(FileError(name, f"configuration error: {exc}"))
        return result

    if tags := opaque_tags(template.root):  # a notice, not an error
        result.refused.append(
            "note: kept as opaque values, not checked inside and never fixed: " + ", ".join(tags)
        )
    if not options.fix:
        checked = run_rules(template, rules)
        final = template
    else:
        from cfnfix.fixer import fix_template

        # The original's model goes once the fixer is done with it (see fix_template),
        # unless the diff's findings or the validation use it afterwards.
        keep = options.diff or options.validate
        outcome = fix_template(template, rules, options.unsafe_fixes, keep=keep)
        if options.validate and outcome.changed and _cfn_lint_available():
            outcome, refusals = validated_fix(template, rules, options.unsafe_fixes, outcome)
            result.refused.extend(refusals)
        checked, final = outcome.result, outcome.template
        result.fixed = [
            FixRecord(a.rule.id, a.line, a.resource, a.description) for a in outcome.applied
        ]
        result.refused.extend(
            f"{r.finding.rule.id} {r.finding.resource or ''}: fix refused: {r.reason}"
            for r in outcome.refused
        )
        if outcome.changed:
            result.changed = True
            if options.diff:
                import difflib

                result.diff = "".join(
                    difflib.unified_diff(
                        source.text.splitlines(keepends=True),
                        final.text.splitlines(keepends=True),
                        fromfile=f"a/{name}",
                        tofile=f"b/{name}",
                    )
                )
            elif target.text is None:
                try:
                    write_atomic(target.path, final.text, source)
                except LoadError as exc:
                    result.errors.append(FileError(name, exc.message, kind="write"))
                    final = template
                    checked = run_rules(template, rules)
                    result.changed = False
                    result.fixed = []
    result.checked = True
    if target.text is not None and options.fix and not options.diff:
        result.output = source.encode(final.text).decode("utf-8")
    if options.diff and result.changed:
        result.diagnostics = _original_diagnostics(template, rules, outcome, name, options)
    else:
        writer = _writer(final) if options.with_edits else None  # style detected once per file
        result.diagnostics = [
            Diagnostic.of(f, final, name, writer, options.with_source) for f in checked.findings
        ]
    result.errors.extend(
        FileError(name, f"internal error in rule {e.rule_id}: {e.message}", kind="rule")
        for e in checked.rule_errors
    )
    return result
