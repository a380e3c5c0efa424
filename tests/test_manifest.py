"""Rule manifests (cfnfix.manifest) and rules that run only where they can report.

The built-in manifest must list exactly the rules the package defines; a check through
stand-ins must report exactly what the rules themselves report; a rule whose resource
types a template lacks is neither run nor imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cfnfix import manifest, registry
from cfnfix.engine import run_rules
from cfnfix.errors import ConfigError
from cfnfix.rule import Finding, Rule
from cfnfix.template import Template
from cfnfix.testing import check, make_rules, parse
from tests.conftest import FIXTURES, ROOT

BUILTIN = "cfnfix_rules"


def test_the_shipped_manifest_is_current() -> None:
    shipped = ROOT / "rules" / manifest.MANIFEST_NAME
    assert shipped.read_text() == manifest.render(manifest.build(BUILTIN)), (
        f"{shipped} is out of date: run `python -m cfnfix.manifest {BUILTIN}`"
    )


def test_stand_ins_carry_the_rules_metadata() -> None:
    eager = registry.collect()
    deferred = registry.collect(deferred=True)
    assert list(deferred) == list(eager)
    for rule_id, stand_in in deferred.items():
        assert issubclass(stand_in, manifest.Deferred)
        assert stand_in.load() is eager[rule_id]
        for field in ("id", "name", "family", "severity", "default_enabled", "resource_types"):
            assert getattr(stand_in, field) == getattr(eager[rule_id], field), (rule_id, field)
        assert stand_in.options_schema == eager[rule_id].options_schema


def _seen(findings: list[Finding]) -> list[tuple[object, ...]]:
    return [
        (f.rule.id, f.path, f.message, f.severity, f.fix and f.fix.description) for f in findings
    ]


SEED = (FIXTURES / "seed").rglob("*")
TEMPLATES = [
    *sorted(p for p in SEED if p.suffix in (".yaml", ".yml", ".json")),
    ROOT / "reference_stack" / "template.yaml",
]


def _same_findings(paths: list[Path]) -> None:
    eager = [cls() for cls in registry.collect().values()]
    deferred = [cls() for cls in registry.collect(deferred=True).values()]
    for path in paths:
        try:
            template = parse(path.read_text(encoding="utf-8-sig"), path.name)
        except Exception:  # not a template cfnfix reads: the CLI reports it as such
            continue
        expected = run_rules(template, eager)
        assert _seen(run_rules(template, deferred).findings) == _seen(expected.findings), path


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_stand_ins_report_what_the_rules_report(path: Path) -> None:
    _same_findings([path])


def test_stand_ins_report_what_the_rules_report_on_the_corpus(corpus_files: list[Path]) -> None:
    _same_findings(corpus_files)


class _BucketsOnly(Rule):
    id = "ZZ001"
    name = "buckets-only"
    family = "test"
    summary = what = why = "x"
    resource_types = ("AWS::S3::Bucket",)
    ran = 0

    def check(self, template: Template):  # type: ignore[no-untyped-def]
        type(self).ran += 1
        yield self.finding(("Resources",), "seen")


def test_a_rule_runs_only_on_templates_with_its_resource_types() -> None:
    [rule] = make_rules([_BucketsOnly])
    assert check("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n", [rule]) == []
    assert _BucketsOnly.ran == 0
    found = check("Resources:\n  B:\n    Type: AWS::S3::Bucket\n", [rule])
    assert [f.message for f in found] == ["seen"] and _BucketsOnly.ran == 1


@pytest.mark.parametrize("types", [(), ["AWS::S3::Bucket"], ("s3 bucket",), ("AWS::S3::Bucket", 3)])
def test_resource_types_must_be_a_tuple_of_type_names(types: object) -> None:
    bad = type("Bad", (_BucketsOnly,), {"resource_types": types})
    assert any("resource_types" in p for p in bad.validate_metadata())


def _package(tmp_path: Path, summary: str = "a rule", listed_summary: str = "a rule") -> str:
    """A third-party rules package on ``tmp_path``, with a manifest."""
    package = tmp_path / "acme_rules"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "ac001.py").write_text(
        textwrap.dedent(
            f"""
            from cfnfix.rule import Rule

            class Acme(Rule):
                id = "AC001"
                name = "acme"
                family = "acme"
                summary = {summary!r}
                what = why = "x"
                resource_types = ("AWS::SQS::Queue",)

                def check(self, template):
                    yield self.finding(("Resources",), "acme")
            """
        )
    )
    sys.path.insert(0, str(tmp_path))
    try:
        built = manifest.build("acme_rules")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("acme_rules")]:
            del sys.modules[name]
    built["rules"][0]["summary"] = listed_summary
    (package / manifest.MANIFEST_NAME).write_text(manifest.render(built))
    return str(tmp_path)


PROBE = """
import json, sys
from cfnfix import manifest
from cfnfix.engine import run_rules
from cfnfix.testing import parse
[rule] = manifest.read("acme_rules")
quiet = run_rules(parse("Resources:\\n  B:\\n    Type: AWS::S3::Bucket\\n"), [rule()])
imported_before = "acme_rules.ac001" in sys.modules
found = run_rules(parse("Resources:\\n  Q:\\n    Type: AWS::SQS::Queue\\n"), [rule()])
print(json.dumps({
    "imported_before": imported_before,
    "quiet": [f.message for f in quiet.findings],
    "found": [f.message for f in found.findings],
    "errors": [e.message for e in found.rule_errors],
}))
"""


def _probe(path: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
        check=True,
        timeout=60,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_a_third_party_manifest_defers_the_import_until_a_template_needs_the_rule(
    tmp_path: Path,
) -> None:
    result = _probe(_package(tmp_path))
    assert result == {"imported_before": False, "quiet": [], "found": ["acme"], "errors": []}


def test_a_stale_manifest_is_an_error_naming_the_command_that_regenerates_it(
    tmp_path: Path,
) -> None:
    result = _probe(_package(tmp_path, summary="changed since"))
    [error] = result["errors"]  # type: ignore[misc]
    assert "out of date" in error and "summary" in error
    assert "python -m cfnfix.manifest acme_rules" in error


def test_a_package_without_a_manifest_has_no_stand_ins(tmp_path: Path) -> None:
    (tmp_path / "plain_rules").mkdir()
    (tmp_path / "plain_rules" / "__init__.py").write_text("")
    sys.path.insert(0, str(tmp_path))
    try:
        assert manifest.read("plain_rules") is None
        assert manifest.read("no_such_package_at_all") is None
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("plain_rules", None)


def test_an_unreadable_manifest_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "broken_rules").mkdir()
    (tmp_path / "broken_rules" / "__init__.py").write_text("")
    (tmp_path / "broken_rules" / manifest.MANIFEST_NAME).write_text("{not json")
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(ConfigError, match="cannot read the rule manifest"):
            manifest.read("broken_rules")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("broken_rules", None)
