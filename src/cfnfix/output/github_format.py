"""``--format github``: GitHub Actions workflow commands, so findings annotate a pull request.

One ``::error``/``::warning``/``::notice`` command per finding and per file that could not
be processed, then a plain summary line (not a command). Values are escaped as the
runner expects: ``%``, CR and LF everywhere, and also ``:`` and ``,`` in properties.
"""

from __future__ import annotations

from cfnfix.output.sarif_format import report_path
from cfnfix.output.summary import RunSummary
from cfnfix.output.text_format import summary_line
from cfnfix.report import Diagnostic, FileError

_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict[str, str | int], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{name} {props}::{escape_data(message)}"


def _finding(d: Diagnostic) -> str:
    message = d.message + (f" ({d.resource})" if d.resource else "")
    if d.fix is not None:
        flag = "" if d.fix["applicability"] == "safe" else " --unsafe-fixes"
        message += f"\n`cfnfix fix{flag}` fixes it: {d.fix['description']}"
    properties: dict[str, str | int] = {
        "file": report_path(d.file),
        "line": d.line,
        "col": d.column,
        "endLine": d.end_line,
        "endColumn": d.end_column,
        "title": f"{d.rule} {d.name}",
    }
    return command(_COMMANDS.get(d.severity, "warning"), properties, message)


def _error(error: FileError) -> str:
    properties: dict[str, str | int] = {"file": report_path(error.file)}
    if error.line is not None:
        properties["line"] = error.line
        properties["col"] = error.column or 1
    properties["title"] = "cfnfix: file not processed"
    return command("error", properties, error.message)


def render_github(run: RunSummary, color: bool = False) -> str:
    lines = [_error(e) for e in run.errors]
    lines.extend(_finding(d) for d in run.diagnostics)
    lines.append(summary_line(run))
    return "\n".join(lines) + "\n"
