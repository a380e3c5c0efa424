"""Start-up: a check of one small file imports only what it needs (issue 12, item 5).

The built-in rules still load through the ``cfnfix.rules`` entry point, found by reading
the installed distributions' ``entry_points.txt`` files rather than through
``importlib.metadata`` (which parses every distribution's metadata)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from cfnfix import registry

# Not needed to check one template in the text format.
HEAVY = (
    "importlib.metadata",
    "jsonschema",
    "rich",
    "multiprocessing",
    "concurrent.futures",
    "xml.etree.ElementTree",
    "cfnlint",
    "cfn_flip",
    "cfnfix.baseline",
    "cfnfix.output.sarif_format",
    "cfnfix.output.junit_format",
    "cfnfix.runner",
    "cfnfix.fixer",
    "cfnfix.writer",
    "traceback",  # only to print a crashing rule's traceback (CFNFIX_DEBUG=1)
    "dataclasses",  # and with it inspect, ast, dis, tokenize
)

PROBE = """
import json, sys
from cfnfix.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def test_checking_one_file_imports_nothing_heavy(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "check", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=60,
    )
    report = json.loads(result.stderr.splitlines()[-1])
    assert report["code"] == 1 and "RT001" in result.stdout  # the rules did run
    loaded = set(report["modules"])
    assert "cfnfix_rules" in loaded
    assert not [m for m in HEAVY if m in loaded]
    # Through the manifest: the rules that start from a log group (and those that look
    # at every template) are imported; rules about buckets, functions, IAM are not, nor
    # the suppression rules on a template without suppressions.
    rules = {m.rpartition(".")[2][:5] for m in loaded if m.startswith("cfnfix_rules.")}
    assert {"rt001", "hc002", "tg001"} <= rules
    assert not rules & {"se001", "se010", "rt002", "dl001", "mo001", "sp001"}


@pytest.mark.parametrize("group", [registry.ENTRY_POINT_GROUP, "console_scripts"])
def test_entry_point_lookup_agrees_with_importlib_metadata(group: str) -> None:
    ours = sorted((e.name, e.value) for e in registry.entry_points_of(group))
    theirs = sorted((e.name, e.value) for e in entry_points(group=group))
    assert ours == theirs and ours


def test_entry_points_of_a_distribution_on_the_path(tmp_path: Path) -> None:
    info = tmp_path / "acme_rules-1.0.dist-info"
    info.mkdir()
    (info / "entry_points.txt").write_text(
        "[console_scripts]\nacme = acme:main\n\n[cfnfix.rules]\n# a comment\nacme = acme_rules:RULES [extra]\n"
    )
    (tmp_path / "acme_rules.py").write_text(
        "from cfnfix.rule import Rule\n\n"
        "class Acme(Rule):\n    id = 'AC001'\n    name = 'acme'\n    family = 'acme'\n"
        "    summary = what = why = 'x'\n\nRULES = [Acme]\n"
    )
    probe = (
        "from cfnfix import registry\n"
        "print([(e.name, e.value) for e in registry.entry_points_of('cfnfix.rules')])\n"
        "print(sorted(registry.collect()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        timeout=60,
    )
    points, ids = result.stdout.splitlines()
    assert (
        "('acme', 'acme_rules:RULES [extra]')" in points and "('builtin', 'cfnfix_rules')" in points
    )
    assert "'AC001'" in ids and "'RT001'" in ids


def test_resource_data_is_read_without_importlib_resources() -> None:
    # importlib.resources costs ~20 ms of imports where site has not loaded it already.
    probe = (
        "import importlib, sys\nsys.modules['importlib.resources'] = None\n"
        "vars(importlib).pop('resources', None)\n"
        "from cfnfix.resource_data import type_info\n"
        "assert type_info('AWS::S3::Bucket').taggable\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)
