"""The results of a whole run, in a stable order whatever order files finished in.

Counts are exact: a file is *checked* when its rules ran (even if one of them crashed,
which is an error of kind ``rule``), *failed* when it could not be read, parsed or
configured, and *skipped* when it is not a template met while walking a directory.
"""

from __future__ import annotations

from collections import Counter

from cfnfix.app import FileResult
from cfnfix.records import Record
from cfnfix.report import Diagnostic, FileError

SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


class RunSummary(Record):
    __match_args__ = (
        "results",
        "mode",
        "unsafe_fixes",
        "extra_errors",
        "fail_level",
        "exit_zero",
    )
    __slots__ = __match_args__

    def __init__(
        self,
        results: list[FileResult],
        mode: str,  # "check" | "fix" | "diff"
        unsafe_fixes: bool = False,
        extra_errors: list[FileError] | None = None,  # paths that are not files
        fail_level: str = "info",  # the least severe finding that makes the run fail
        exit_zero: bool = False,  # findings alone never fail the run
    ) -> None:
        self.results = results
        self.mode = mode
        self.unsafe_fixes = unsafe_fixes
        self.extra_errors = [] if extra_errors is None else extra_errors
        self.fail_level = fail_level
        self.exit_zero = exit_zero
        self.results.sort(key=lambda r: r.file)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [d for r in self.results for d in r.diagnostics]

    @property
    def errors(self) -> list[FileError]:
        return [*self.extra_errors, *(e for r in self.results for e in r.errors)]

    def error_counts(self) -> Counter[str]:
        """Errors by kind ("file", "rule", "write")."""
        return Counter(e.kind for e in self.errors)

    @property
    def files_checked(self) -> int:
        return sum(1 for r in self.results if r.checked)

    @property
    def files_with_findings(self) -> int:
        return sum(1 for r in self.results if r.diagnostics)

    @property
    def files_skipped(self) -> int:
        return sum(1 for r in self.results if r.skipped)

    @property
    def files_failed(self) -> int:
        """Files (and named paths) that could not be processed at all."""
        failed = sum(1 for r in self.results if not r.checked and not r.skipped)
        return failed + len(self.extra_errors)

    @property
    def fixed_count(self) -> int:
        return sum(len(r.fixed) for r in self.results)

    @property
    def changed_files(self) -> int:
        return sum(1 for r in self.results if r.changed)

    def severity_counts(self) -> Counter[str]:
        return Counter(d.severity for d in self.diagnostics)

    def fixable(self) -> tuple[int, int]:
        """(safe, unsafe) fixes available among the diagnostics."""
        safe = sum(1 for d in self.diagnostics if d.fix and d.fix["applicability"] == "safe")
        unsafe = sum(1 for d in self.diagnostics if d.fix and d.fix["applicability"] == "unsafe")
        return safe, unsafe

    @property
    def failing_findings(self) -> int:
        """Findings at or above ``fail_level``."""
        limit = SEVERITY_RANK[self.fail_level]
        return sum(1 for d in self.diagnostics if SEVERITY_RANK.get(d.severity, 0) <= limit)

    @property
    def clean(self) -> bool:
        """Nothing failed, nothing was found, and nothing would change."""
        return not self.errors and not self.diagnostics and not self.would_change

    @property
    def would_change(self) -> bool:
        return self.mode == "diff" and self.changed_files > 0

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        if self.exit_zero:
            return 0
        if self.failing_findings or self.would_change:
            return 1
        return 0
