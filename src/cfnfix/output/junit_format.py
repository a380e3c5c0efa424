"""``--format junit``: JUnit XML, for CI systems that show test reports (GitLab, Jenkins).

``<testsuites>`` holds one ``<testsuite>`` per file; each finding is a ``<testcase>``
with a ``<failure>``, a file without findings is one passing test case, and a file that
could not be processed is a test case with an ``<error>``. Files skipped as not being
templates do not appear.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from cfnfix.output.summary import RunSummary
from cfnfix.output.text_format import diagnostic_line
from cfnfix.report import Diagnostic, FileError

# Characters XML 1.0 cannot carry at all, even escaped.
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _element(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def _case_name(d: Diagnostic) -> str:
    where = "/".join(str(key) for key in d.path) or "template"
    return f"{d.rule} {d.name} at {where}"


def _failure_text(d: Diagnostic) -> str:
    text = diagnostic_line(d, color=False)
    if d.fix is not None:
        text += f"\nfix ({d.fix['applicability']}): {d.fix['description']}"
    return text


def _add_suite(
    root: ET.Element, file: str, diagnostics: list[Diagnostic], errors: list[FileError]
) -> tuple[int, int, int]:
    suite = _element(root, "testsuite", name=file)
    for d in diagnostics:
        case = _element(
            suite, "testcase", classname=file, name=_case_name(d), file=file, line=str(d.line)
        )
        _element(case, "failure", _failure_text(d), message=d.message, type=d.rule)
    for error in errors:
        case = _element(suite, "testcase", classname=file, name="read and parse", file=file)
        if error.line is not None:
            case.set("line", str(error.line))
        _element(case, "error", str(error), message=error.message, type="FileError")
    tests = len(diagnostics) + len(errors)
    if not tests:
        _element(suite, "testcase", classname=file, name="all checks", file=file)
        tests = 1
    suite.set("tests", str(tests))
    suite.set("failures", str(len(diagnostics)))
    suite.set("errors", str(len(errors)))
    suite.set("skipped", "0")
    return tests, len(diagnostics), len(errors)


def render_junit(run: RunSummary, color: bool = False) -> str:
    diagnostics: dict[str, list[Diagnostic]] = defaultdict(list)
    errors: dict[str, list[FileError]] = defaultdict(list)
    files = {result.file for result in run.results if not result.skipped}
    for d in run.diagnostics:
        diagnostics[d.file].append(d)
    for error in run.errors:
        errors[error.file].append(error)
    files.update(errors)
    root = ET.Element("testsuites", {"name": "cfnfix"})
    totals = [0, 0, 0]
    for file in sorted(files):
        counts = _add_suite(root, file, diagnostics[file], errors[file])
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    root.set("tests", str(totals[0]))
    root.set("failures", str(totals[1]))
    root.set("errors", str(totals[2]))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
