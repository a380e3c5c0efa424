"""The default, human-readable format: ``path:line:col: ID [severity] message (Resource)``."""

from __future__ import annotations

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


def summary_line(run: RunSummary) -> str:
    counts = run.severity_counts()
    total = len(run.diagnostics)
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
        files = _plural(run.files_checked, "file")
        if run.mode == "check":
            parts.append(f"Found {_plural(total, 'finding')} ({detail}) in {files}.")
        else:
            verb = "remains" if total == 1 else "remain"
            parts.append(f"{_plural(total, 'finding')} {verb} ({detail}) in {files}.")
        safe, unsafe = run.fixable()
        if run.mode == "check" and (safe or unsafe):
            hint = f"{safe} fixable with `cfnfix fix` [*]"
            if unsafe:
                hint += f", {unsafe} more with `cfnfix fix --unsafe-fixes`"
            parts.append(hint + ".")
        elif unsafe and not run.unsafe_fixes:
            parts.append(f"{unsafe} more fixable with `--unsafe-fixes`.")
    else:
        parts.append(f"All checks passed ({_plural(run.files_checked, 'file')}).")
    if run.errors:
        parts.append(f"{_plural(len(run.errors), 'file')} could not be processed.")
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
    lines.extend(diagnostic_line(d, color) for d in run.diagnostics)
    lines.append(summary_line(run))
    return "\n".join(lines) + "\n"
