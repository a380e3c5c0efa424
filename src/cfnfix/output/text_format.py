"""The default, human-readable format: ``path:line:col: ID [severity] message (Resource)``."""

from __future__ import annotations

import re

from cfnfix.output.summary import RunSummary
from cfnfix.report import Diagnostic

_COLORS = {"error": "red", "warning": "yellow", "info": "blue"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def diagnostic_line(d: Diagnostic, color: bool) -> str:
    resource = f" ({d.resource})" if d.resource else ""
    fixable = " [*]" if d.fix and d.fix["applicability"] == "safe" else ""
    if not color:
        return (
            f"{d.file}:{d.line}:{d.column}: {d.rule} [{d.severity}] {d.message}{resource}{fixable}"
        )
    from rich.markup import escape

    sev = _COLORS.get(d.severity, "white")
    marker = "[cyan] \\[*][/]" if fixable else ""
    severity = "\\[" + d.severity + "]"
    return (
        f"[bold]{escape(d.file)}[/]:{d.line}:{d.column}: [bold {sev}]{d.rule}[/] "
        f"[{sev}]{severity}[/] {escape(d.message)}[dim]{escape(resource)}[/]{marker}"
    )


def _errors_part(run: RunSummary) -> list[str]:
    kinds = run.error_counts()
    parts = []
    if run.files_failed:
        parts.append(f"{_plural(run.files_failed, 'file')} could not be processed.")
    if kinds["rule"]:
        parts.append(f"{_plural(kinds['rule'], 'rule error')} (a rule crashed; see above).")
    if kinds["write"]:
        parts.append(f"{_plural(kinds['write'], 'file')} could not be written.")
    return parts


def summary_line(run: RunSummary) -> str:
    """One line with exact counts; "All checks passed" only when nothing failed, nothing
    was found and (``fix --diff``) nothing would change."""
    counts = run.severity_counts()
    total = len(run.diagnostics)
    checked = run.files_checked
    parts = []
    if run.mode in ("fix", "diff") and run.fixed_count:
        verb = "Would fix" if run.mode == "diff" else "Fixed"
        parts.append(
            f"{verb} {_plural(run.fixed_count, 'finding')} in {_plural(run.changed_files, 'file')}."
        )
    if total:
        detail = ", ".join(
            f"{counts[s]} info" if s == "info" else _plural(counts[s], s)
            for s in ("error", "warning", "info")
            if counts.get(s)
        )
        files = _plural(run.files_with_findings, "file")
        if run.files_with_findings != checked:
            files += f" ({checked} checked)"
        if run.mode == "check":
            parts.append(f"Found {_plural(total, 'finding')} ({detail}) in {files}.")
        else:
            verb = "remains" if total == 1 else "remain"
            if run.mode == "diff":
                verb = "would remain"
            parts.append(f"{_plural(total, 'finding')} {verb} ({detail}) in {files}.")
        safe, unsafe = run.fixable()
        if run.mode == "check" and (safe or unsafe):
            hint = f"{safe} fixable with `cfnfix fix` [*]"
            if unsafe:
                hint += f", {unsafe} more with `cfnfix fix --unsafe-fixes`"
            parts.append(hint + ".")
        elif unsafe and not run.unsafe_fixes:
            parts.append(f"{unsafe} more fixable with `--unsafe-fixes`.")
    elif run.clean and not (run.mode == "fix" and run.fixed_count):
        parts.append(f"All checks passed ({_plural(checked, 'file')}).")
    elif run.mode == "diff" and run.would_change:
        parts.append(f"No findings would remain ({_plural(checked, 'file')} checked).")
    elif run.mode == "fix" and not run.errors:
        parts.append(f"No findings remain ({_plural(checked, 'file')} checked).")
    else:
        parts.append(f"No findings in {_plural(checked, 'file')} checked.")
    parts.extend(_errors_part(run))
    return " ".join(parts)


def statistics_table(run: RunSummary) -> str:
    """Findings per rule, most frequent first (``--statistics``)."""
    counts: dict[tuple[str, str], int] = {}
    fixable: dict[str, bool] = {}
    for d in run.diagnostics:
        counts[(d.rule, d.name)] = counts.get((d.rule, d.name), 0) + 1
        fixable[d.rule] = fixable.get(d.rule, False) or bool(d.fix)
    if not counts:
        return ""
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0]))
    width = max(len(str(n)) for n in counts.values())
    lines = [
        f"{n:>{width}}  {rule}  {'[*]' if fixable[rule] else '   '}  {name}"
        for (rule, name), n in rows
    ]
    return "\n".join(lines) + "\n"


def statistics_json(run: RunSummary) -> str:
    """``--statistics --format json``: one object per rule, most frequent first."""
    import json

    names: dict[str, str] = {}
    counts: dict[str, int] = {}
    fixable: dict[str, int] = {}
    for d in run.diagnostics:
        names[d.rule] = d.name
        counts[d.rule] = counts.get(d.rule, 0) + 1
        fixable[d.rule] = fixable.get(d.rule, 0) + (1 if d.fix else 0)
    rows = [
        {"rule": rule, "name": names[rule], "count": n, "fixable": fixable[rule]}
        for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return json.dumps(rows, indent=2) + "\n"


def source_snippet(d: Diagnostic, color: bool) -> list[str]:
    """The finding's line with a caret under it, as ruff shows it (``--show-source``)."""
    if d.source_line is None:
        return []
    text = d.source_line.expandtabs(1)
    number = str(d.line)
    gutter = " " * len(number)
    start = max(d.column, 1)
    if d.end_line == d.line:
        width = max(1, min(d.end_column, len(text) + 1) - start)
    else:  # a block that goes on below: underline its first token (its key)
        token = re.match(r"[^\s:]+|\S+", text[start - 1 :])
        width = len(token.group()) if token else 1
    caret = " " * (start - 1) + "^" * width
    if color:
        from rich.markup import escape

        return [
            f"[blue]{gutter} |[/]",
            f"[blue]{number} |[/] {escape(text)}",
            f"[blue]{gutter} |[/] [bold red]{caret}[/]",
            "",
        ]
    return [f"{gutter} |", f"{number} | {text}", f"{gutter} | {caret}", ""]


def render_text(run: RunSummary, color: bool = False) -> str:
    lines = []
    for result in run.results:
        for fix in result.fixed:
            where = f" ({fix.resource})" if fix.resource else ""
            verb = "would fix" if run.mode == "diff" else "fixed"
            lines.append(f"{result.file}:{fix.line}: {verb} {fix.rule}{where}: {fix.description}")
        lines.extend(f"{result.file}: {note}" for note in result.refused)
        if result.diff:
            lines.append(result.diff.rstrip("\n"))
    for d in run.diagnostics:
        lines.append(diagnostic_line(d, color))
        lines.extend(source_snippet(d, color))
    lines.append(summary_line(run))
    return "\n".join(lines) + "\n"
