"""Findings placed in a file: what every output format prints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, NamedTuple

from cfnfix.errors import CfnfixError
from cfnfix.records import FrozenRecord
from cfnfix.rule import Finding
from cfnfix.template import Template

if TYPE_CHECKING:
    from cfnfix.writer import Writer


class Replacement(NamedTuple):
    """One text edit of a fix, in 1-based lines and columns (columns count characters)."""

    start_line: int
    start_column: int
    end_line: int
    end_column: int
    content: str


class Diagnostic(FrozenRecord):
    __match_args__ = (
        "rule",
        "name",
        "family",
        "severity",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "resource",
        "path",
        "message",
        "fix",
        "replacements",
        "source_line",
    )
    __slots__ = __match_args__

    def __init__(
        self,
        rule: str,
        name: str,
        family: str,
        severity: str,
        file: str,
        line: int,
        column: int,
        end_line: int,
        end_column: int,
        resource: str | None,
        path: tuple[str | int, ...],
        message: str,
        fix: dict[str, str] | None,
        # The fix as text edits (for SARIF and editors); empty when it cannot be rendered.
        replacements: tuple[Replacement, ...] = (),
        source_line: str | None = None,  # the text of ``line`` (``--show-source``)
    ) -> None:
        self.rule: Final = rule
        self.name: Final = name
        self.family: Final = family
        self.severity: Final = severity
        self.file: Final = file
        self.line: Final = line
        self.column: Final = column
        self.end_line: Final = end_line
        self.end_column: Final = end_column
        self.resource: Final = resource
        self.path: Final = path
        self.message: Final = message
        self.fix: Final = fix
        self.replacements: Final = replacements
        self.source_line: Final = source_line

    @classmethod
    def of(
        cls,
        finding: Finding,
        template: Template,
        file: str,
        writer: Writer | None = None,
        with_source: bool = False,
    ) -> Diagnostic:
        """``writer`` (one per template) renders the fix as text edits when given;
        ``with_source`` keeps the text of the finding's first line."""
        location = template.location(finding.path)
        fix = None
        if finding.fix is not None:
            fix = {
                "applicability": finding.fix.applicability.value,
                "description": finding.fix.description,
            }
            if template.has_foreign_macros:
                fix["applicability"] = "unsafe"
        return cls(
            rule=finding.rule.id,
            name=finding.rule.name,
            family=finding.rule.family,
            severity=finding.effective_severity.value,
            file=file,
            line=location.line,
            column=location.column,
            end_line=location.end_line,
            end_column=location.end_column,
            resource=finding.resource,
            path=finding.path,
            message=finding.message,
            fix=fix,
            replacements=_replacements(finding, template, writer) if writer else (),
            source_line=_line_text(template, location.line) if with_source else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "name": self.name,
            "family": self.family,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "resource": self.resource,
            "path": list(self.path),
            "message": self.message,
            "fix": self.fix,
        }


def _line_text(template: Template, line: int) -> str:
    lines = template.memoize("report.lines", lambda: template.text.split("\n"))
    return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else ""


def _replacements(finding: Finding, template: Template, writer: Writer) -> tuple[Replacement, ...]:
    if finding.fix is None:
        return ()
    try:
        rendered = writer.render(list(finding.fix.changes))
    except CfnfixError:
        return ()
    result = []
    for edit in rendered.edits:
        start_line, start_column = template.line_col(edit.start)
        end_line, end_column = template.line_col(edit.end)
        result.append(Replacement(start_line, start_column, end_line, end_column, edit.replacement))
    return tuple(result)


class FileError(NamedTuple):
    """A file that could not be processed (exit code 2)."""

    file: str
    message: str
    line: int | None = None
    column: int | None = None
    # "file": not read, parsed or configured; "rule": a rule crashed on it (its other
    # findings are reported); "write": checked and fixed, but the fix could not be written.
    kind: str = "file"

    def __str__(self) -> str:
        where = f":{self.line}:{self.column}" if self.line is not None else ""
        return f"{self.file}{where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "kind": self.kind,
        }
