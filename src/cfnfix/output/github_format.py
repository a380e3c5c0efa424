"""``--format github``: GitHub Actions workflow commands, so findings annotate a pull request.

One ``::error``/``::warning``/``::notice`` command per finding and per file that could not
be processed, then a plain summary line (not a command). Values are escaped as the
runner expects: ``%``, CR and LF everywhere, and also ``:`` and ``,`` in properties.

GitHub shows at most 10 annotations of each level per step (and 50 per job; see the
"Limitations" of actions/toolkit's problem-matchers.md); more are dropped silently. So at
most :data:`PER_LEVEL` commands of each level are printed (files that could not be
processed first, then findings in file order), and the rest are listed as plain log lines
under a note saying how many were not annotated. Paths are relative to the repository
root, as annotations need.
"""

from __future__ import annotations

from pathlib import Path

from cfnfix.output.sarif_format import report_path, root_relative, source_root
from cfnfix.output.summary import RunSummary
from cfnfix.output.text_format import diagnostic_line, summary_line
from cfnfix.report import Diagnostic, FileError

_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}
PER_LEVEL = 10  # annotations GitHub shows per level and step


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict[str, str | int], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{name} {props}::{escape_data(message)}"


def _path(file: str, root: Path) -> str:
    return root_relative(file, root) or report_path(file)


def _finding(d: Diagnostic, root: Path) -> str:
    message = d.message + (f" ({d.resource})" if d.resource else "")
    if d.fix is not None:
        flag = "" if d.fix["applicability"] == "safe" else " --unsafe-fixes"
        message += f"\n`cfnfix fix{flag}` fixes it: {d.fix['description']}"
    properties: dict[str, str | int] = {
        "file": _path(d.file, root),
        "line": d.line,
        "col": d.column,
        "endLine": d.end_line,
        "endColumn": d.end_column,
        "title": f"{d.rule} {d.name}",
    }
    return command(_COMMANDS.get(d.severity, "warning"), properties, message)


def _error(error: FileError, root: Path) -> str:
    properties: dict[str, str | int] = {"file": _path(error.file, root)}
    if error.line is not None:
        properties["line"] = error.line
        properties["col"] = error.column or 1
    properties["title"] = "cfnfix: file not processed"
    return command("error", properties, error.message)


def render_github(run: RunSummary, color: bool = False) -> str:
    root = source_root([*(d.file for d in run.diagnostics), *(e.file for e in run.errors)])
    shown = {"error": 0, "warning": 0, "notice": 0}
    lines: list[str] = []
    rest: list[str] = []

    def add(name: str, line: str, plain: str) -> None:
        if shown[name] < PER_LEVEL:
            shown[name] += 1
            lines.append(line)
        else:
            rest.append(plain)

    for error in run.errors:
        add("error", _error(error, root), str(error))
    for d in run.diagnostics:
        add(_COMMANDS.get(d.severity, "warning"), _finding(d, root), diagnostic_line(d, False))
    if rest:
        lines.append(
            f"{len(rest)} more not annotated (GitHub shows at most {PER_LEVEL} annotations "
            "of each level per step):"
        )
        lines.extend(rest)
    lines.append(summary_line(run))
    return "\n".join(lines) + "\n"
