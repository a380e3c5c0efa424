"""The sarif, junit and github output formats, on real corpus templates, and --output."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cfnfix import registry
from cfnfix.app import FileResult, Options, process
from cfnfix.files import Target
from cfnfix.output import FORMATS, RunSummary
from cfnfix.output.github_format import render_github
from cfnfix.output.junit_format import render_junit
from cfnfix.output.sarif_format import RULES_DOC_URL, is_builtin, render_sarif, rule_anchor
from cfnfix.report import Diagnostic, FileError
from cfnfix.rule import Rule
from cfnfix.testing import CliResult, parse, run_cli
from tests.conftest import CORPUS, ROOT, run_cfnfix

SARIF_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
SAMPLE_SIZE = 20
LOG_GROUP = (
    "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: app\n"
)


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> RunSummary:
    """~20 corpus templates with findings, one without, and one that cannot be parsed.

    Paths are relative to the corpus (the working directory while rendering), as a CI
    job names them relative to its checkout.
    """
    if not CORPUS.is_dir():
        pytest.skip(f"the template corpus is not at {CORPUS} (set CFNFIX_CORPUS to its folder)")
    files = sorted(
        p.relative_to(CORPUS).as_posix()
        for p in CORPUS.rglob("*")
        if p.suffix in (".yaml", ".yml", ".json", ".template")
    )
    options = Options(with_edits=True)
    with_findings: list[FileResult] = []
    clean: list[FileResult] = []
    broken: list[FileResult] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(CORPUS)
        for name in files[::5]:
            result = process(Target(Path(name), explicit=True), options)
            if result.errors:
                broken.append(result)
            elif result.diagnostics and len(with_findings) < SAMPLE_SIZE:
                with_findings.append(result)
            elif not result.diagnostics:
                clean.append(result)
    assert len(with_findings) == SAMPLE_SIZE and clean and broken
    return RunSummary([*with_findings, clean[0], broken[0]], "check")


def render(run: RunSummary, fmt: str) -> str:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(CORPUS)
        return FORMATS[fmt](run, False)


# -- SARIF -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif(corpus_run: RunSummary) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render(corpus_run, "sarif"))
    return document


def test_sarif_validates_against_the_official_schema(sarif: dict[str, Any]) -> None:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"the SARIF 2.1.0 schema is not at {SARIF_SCHEMA}")
    schema = json.loads(SARIF_SCHEMA.read_text())
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(sarif), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def test_sarif_rules_carry_documentation_and_stable_help_uris(sarif: dict[str, Any]) -> None:
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["name"] == "cfnfix" and driver["version"] and driver["informationUri"]
    rules = {rule["id"]: rule for rule in driver["rules"]}
    builtin = registry.collect()
    assert set(builtin) <= set(rules)
    docs = (ROOT / "docs" / "rules.md").read_text()
    for rule_id, cls in builtin.items():
        rule = rules[rule_id]
        assert rule["name"] == cls.name
        assert rule["shortDescription"]["text"] == cls.summary
        assert rule["help"]["markdown"] == cls.documentation() == rule["help"]["text"]
        assert rule["fullDescription"]["text"]
        if is_builtin(cls):
            assert rule["helpUri"] == f"{RULES_DOC_URL}#{rule_anchor(rule_id)}"
            assert f'<a id="{rule_anchor(rule_id)}"></a>' in docs
        else:  # a third-party plugin: docs/rules.md does not document it
            assert "helpUri" not in rule
        expected = {"error": "error", "warning": "warning", "info": "note"}[cls.severity.value]
        assert rule["defaultConfiguration"]["level"] == expected


def test_sarif_results_match_the_findings(corpus_run: RunSummary, sarif: dict[str, Any]) -> None:
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert len(results) == len(corpus_run.diagnostics) > SAMPLE_SIZE
    assert run["columnKind"] == "unicodeCodePoints"
    for result, d in zip(results, corpus_run.diagnostics, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == d.rule
        assert (
            result["level"] == {"error": "error", "warning": "warning", "info": "note"}[d.severity]
        )
        assert result["message"]["text"] == d.message
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": d.file, "uriBaseId": "%SRCROOT%"}
        assert "\\" not in d.file and not d.file.startswith("/")
        assert physical["region"] == {
            "startLine": d.line,
            "startColumn": d.column,
            "endLine": d.end_line,
            "endColumn": d.end_column,
        }
        names = [logical["fullyQualifiedName"] for logical in location.get("logicalLocations", [])]
        if d.resource:
            assert names[0] == f"Resources/{d.resource}"
        if len(d.path) > 2:
            assert names[-1] == "/".join(str(key) for key in d.path)
    fingerprints = Counter(json.dumps(r["partialFingerprints"]) for r in results)
    assert len(fingerprints) > len(results) * 0.9  # distinct findings, distinct keys


def _offset(text: str, line: int, column: int) -> int:
    starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
    return starts[line - 1] + column - 1


def apply_replacements(text: str, replacements: list[dict[str, Any]]) -> str:
    spans = []
    for replacement in replacements:
        region = replacement["deletedRegion"]
        start = _offset(text, region["startLine"], region["startColumn"])
        end = _offset(text, region["endLine"], region["endColumn"])
        spans.append((start, end, replacement["insertedContent"]["text"]))
    for start, end, content in sorted(spans, reverse=True):
        text = text[:start] + content + text[end:]
    return text


def test_sarif_fixes_are_replacements_that_remove_their_finding(
    corpus_run: RunSummary, sarif: dict[str, Any]
) -> None:
    rules = registry.collect()
    results = sarif["runs"][0]["results"]
    fixed = 0
    for result, d in zip(results, corpus_run.diagnostics, strict=True):
        if "fixes" not in result:
            assert d.fix is None or not d.replacements
            continue
        [fix] = result["fixes"]
        assert d.fix is not None and fix["description"]["text"].startswith(d.fix["description"])
        [change] = fix["artifactChanges"]
        assert change["artifactLocation"]["uri"] == d.file
        original = (CORPUS / d.file).read_text(encoding="utf-8-sig")
        patched = apply_replacements(original, change["replacements"])
        template = parse(patched, d.file)  # raises if the fix does not parse
        again = [(f.path, f.message) for f in rules[d.rule]().check(template) if f.path == d.path]
        assert (d.path, d.message) not in again, (d.file, d.rule, d.path)
        fixed += 1
    assert fixed >= SAMPLE_SIZE  # most findings in the sample have a fix


def test_sarif_reports_file_errors_as_notifications(
    corpus_run: RunSummary, sarif: dict[str, Any]
) -> None:
    [invocation] = sarif["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False and invocation["exitCode"] == 2
    notifications = invocation["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notifications] == [e.message for e in corpus_run.errors]
    location = notifications[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == corpus_run.errors[0].file


class PluginRule(Rule):
    id = "ZQ001"
    name = "plugin-rule"
    family = "plugin"
    summary = "A third-party rule"
    what = why = "Loaded from a rules directory, not an entry point."


def test_sarif_describes_rules_from_outside_the_registry() -> None:
    plugin = diagnostic("m", rule="ZQ001", name="plugin-rule", severity="info")
    unknown = diagnostic("m", rule="QQ999", name="gone-rule")
    run = RunSummary([FileResult("t.yaml", [plugin, unknown])], "check")
    document = json.loads(render_sarif(run))
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    results = document["runs"][0]["results"]
    assert [rules[r["ruleIndex"]]["id"] for r in results] == ["ZQ001", "QQ999"]
    described = rules[results[0]["ruleIndex"]]
    assert described["shortDescription"]["text"] == "A third-party rule"
    assert described["help"]["markdown"] == PluginRule.documentation()
    assert rules[results[1]["ruleIndex"]]["name"] == "gone-rule"
    assert not any("helpUri" in rules[r["ruleIndex"]] for r in results)  # not in docs/rules.md
    assert results[0]["level"] == "note"


# -- JUnit -----------------------------------------------------------------------------


def test_junit_has_one_failed_test_case_per_finding(corpus_run: RunSummary) -> None:
    root = ET.fromstring(render(corpus_run, "junit"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == sorted(r.file for r in corpus_run.results)
    cases = root.findall("testsuite/testcase")
    failures = [c for c in cases if c.find("failure") is not None]
    errors = [c for c in cases if c.find("error") is not None]
    passed = [c for c in cases if len(c) == 0]
    assert len(failures) == len(corpus_run.diagnostics)
    assert len(errors) == len(corpus_run.errors) == 1 and len(passed) == 1
    assert int(root.get("tests", "")) == len(cases)
    assert int(root.get("failures", "")) == len(failures)
    for case, d in zip(failures, corpus_run.diagnostics, strict=True):
        failure = case.find("failure")
        assert failure is not None
        assert case.get("classname") == d.file and case.get("line") == str(d.line)
        assert failure.get("message") == d.message and failure.get("type") == d.rule
        assert (failure.text or "").startswith(f"{d.file}:{d.line}:{d.column}: {d.rule} ")
    for suite in suites:
        assert int(suite.get("tests", "")) == len(suite.findall("testcase"))


def diagnostic(
    message: str,
    file: str = "t.yaml",
    rule: str = "RT001",
    name: str = "log-group-without-retention",
    severity: str = "warning",
) -> Diagnostic:
    return Diagnostic(
        rule, name, "retention", severity, file, 2, 3, 5, 24,
        "Logs", ("Resources", "Logs"), message, {"applicability": "safe", "description": "x"},
    )  # fmt: skip


def test_junit_escapes_markup_and_characters_xml_cannot_hold() -> None:
    message = "a <b> & \"c\" 'd' ]]> \x01 \x1b[0m end"
    result = FileResult("dir/<odd & name>.yaml", [diagnostic(message, "dir/<odd & name>.yaml")])
    broken = FileResult("bad.yaml", errors=[FileError("bad.yaml", "invalid YAML: \x00 <x>", 1, 1)])
    root = ET.fromstring(render_junit(RunSummary([result, broken], "check")))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == message.replace("\x01", "\ufffd").replace("\x1b", "\ufffd")
    assert [suite.get("name") for suite in root] == ["bad.yaml", "dir/<odd & name>.yaml"]
    error = root.find("testsuite[@name='bad.yaml']/testcase/error")
    assert error is not None and error.get("message") == "invalid YAML: \ufffd <x>"


# -- GitHub workflow commands ----------------------------------------------------------

# ::command key=value,key=value::data, with the runner's escapes (%25 %0D %0A, and %3A
# %2C in property values); nothing unescaped that would end a value or the line.
_VALUE = r"(?:[^%,:\r\n]|%25|%0D|%0A|%3A|%2C)*"
_DATA = r"(?:[^%\r\n]|%25|%0D|%0A)*"
WORKFLOW_COMMAND = re.compile(
    rf"^::(?P<command>error|warning|notice) "
    rf"(?P<props>[a-zA-Z]+={_VALUE}(?:,[a-zA-Z]+={_VALUE})*)::(?P<data>{_DATA})$"
)


def unescape(text: str) -> str:
    for escaped, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, char)
    return text


def properties(match: re.Match[str]) -> dict[str, str]:
    return {
        key: unescape(value)
        for key, value in (item.split("=", 1) for item in match["props"].split(","))
    }


def test_github_annotations_are_capped_per_level_and_the_rest_listed(
    corpus_run: RunSummary,
) -> None:
    lines = render(corpus_run, "github").splitlines()
    *body, summary = lines
    assert not summary.startswith("::") and summary.startswith("Found ")
    commands = [line for line in body if line.startswith("::")]
    rest = body[len(commands) :]
    assert body[: len(commands)] == commands  # every command comes first
    matches = [WORKFLOW_COMMAND.match(line) for line in commands]
    assert all(matches), [line for line, m in zip(commands, matches, strict=True) if not m][:3]
    per_level = Counter(m["command"] for m in matches if m is not None)
    assert max(per_level.values()) <= 10 and sum(per_level.values()) <= 50
    # nothing is lost: what is not annotated is listed, one plain line each
    total = len(corpus_run.diagnostics) + len(corpus_run.errors)
    assert len(commands) < total
    note, *listed = rest
    assert note.startswith(f"{total - len(commands)} more not annotated")
    assert len(listed) == total - len(commands)
    error_match, *finding_matches = matches
    assert error_match is not None and error_match["command"] == "error"
    assert properties(error_match)["file"] == corpus_run.errors[0].file
    command_of = {"error": "error", "warning": "warning", "info": "notice"}
    shown = iter(finding_matches)
    counts: Counter[str] = Counter({"error": 1})
    for d in corpus_run.diagnostics:
        command = command_of[d.severity]
        counts[command] += 1
        if counts[command] > 10:
            continue
        match = next(shown)
        assert match is not None and match["command"] == command
        assert properties(match) == {
            "file": d.file,
            "line": str(d.line),
            "col": str(d.column),
            "endLine": str(d.end_line),
            "endColumn": str(d.end_column),
            "title": f"{d.rule} {d.name}",
        }
        assert unescape(match["data"]).startswith(d.message)


def test_github_escapes_data_and_properties() -> None:
    message = "100% of\r\nlines: a, b"
    d = diagnostic(message, "dir/we:ird,name%.yaml")
    [line, _] = render_github(RunSummary([FileResult(d.file, [d])], "check"), False).splitlines()
    match = WORKFLOW_COMMAND.match(line)
    assert match is not None
    assert properties(match)["file"] == "dir/we:ird,name%.yaml"
    assert unescape(match["data"]).startswith(message + " (Logs)\n")


# -- the command line ------------------------------------------------------------------


def cli(*args: str) -> CliResult:
    """The command line in process (a subprocess per format would be slow)."""
    return run_cli(args, env={"NO_COLOR": "1"})


@pytest.mark.parametrize("fmt", ["sarif", "junit", "github", "json", "text"])
def test_output_writes_the_report_to_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.yaml").write_text(LOG_GROUP)
    printed = cli("check", "--format", fmt, "t.yaml")
    written = cli("check", "--format", fmt, "--output", "report", "t.yaml")
    assert written.exit_code == printed.exit_code == 1
    assert written.stdout == "" and written.stderr == ""
    assert (tmp_path / "report").read_text(encoding="utf-8") == printed.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report", "t.yaml"]  # no temp file


def test_output_that_cannot_be_written_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(LOG_GROUP)
    result = run_cfnfix("check", "--output", "missing/report", "t.yaml", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "cfnfix: error: cannot write missing/report: No such file or directory\n"
    )


def test_sarif_from_the_command_line_has_fixes(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(LOG_GROUP)
    result = run_cfnfix("check", "--select", "RT001", "--format", "sarif", "t.yaml", cwd=tmp_path)
    [finding] = json.loads(result.stdout)["runs"][0]["results"]
    [change] = finding["fixes"][0]["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "t.yaml"
    assert apply_replacements(LOG_GROUP, change["replacements"]) == (
        LOG_GROUP + "      RetentionInDays: 365\n"
    )


def test_sarif_names_files_outside_the_working_directory_by_file_uri(tmp_path: Path) -> None:
    template = tmp_path / "a dir" / "t.yaml"
    template.parent.mkdir()
    template.write_text(LOG_GROUP)
    (tmp_path / "cwd").mkdir()
    result = run_cfnfix("check", "--format", "sarif", str(template), cwd=tmp_path / "cwd")
    [finding] = [
        r for r in json.loads(result.stdout)["runs"][0]["results"] if r["ruleId"] == "RT001"
    ]
    location = finding["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": template.as_uri()} and "%20" in location["uri"]
