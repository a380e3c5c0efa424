"""The results of a whole run, in a stable order whatever order files finished in."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from cfnfix.app import FileResult
from cfnfix.report import Diagnostic, FileError


@dataclass
class RunSummary:
    results: list[FileResult]
    mode: str  # "check" | "fix"
    unsafe_fixes: bool = False
    extra_errors: list[FileError] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.results.sort(key=lambda r: r.file)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [d for r in self.results for d in r.diagnostics]

    @property
    def errors(self) -> list[FileError]:
        return [*self.extra_errors, *(e for r in self.results for e in r.errors)]

    @property
    def files_checked(self) -> int:
        return sum(1 for r in self.results if not r.skipped and not r.errors)

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
    def exit_code(self) -> int:
        if self.errors:
            return 2
        if self.diagnostics:
            return 1
        if self.mode == "diff" and self.changed_files:
            return 1
        return 0
