"""Output formats. Each takes the run's results and returns text."""

from __future__ import annotations

from collections.abc import Callable

from cfnfix.output.github_format import render_github
from cfnfix.output.json_format import render_json
from cfnfix.output.junit_format import render_junit
from cfnfix.output.sarif_format import render_sarif
from cfnfix.output.summary import RunSummary
from cfnfix.output.text_format import render_text

FORMATS: dict[str, Callable[[RunSummary, bool], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "junit": render_junit,
    "github": render_github,
}

__all__ = ["FORMATS", "RunSummary"]
