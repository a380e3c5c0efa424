"""Output formats. Each takes the run's results and returns text."""

from __future__ import annotations

from collections.abc import Callable

from cfnfix.output.json_format import render_json
from cfnfix.output.summary import RunSummary
from cfnfix.output.text_format import render_text

FORMATS: dict[str, Callable[[RunSummary, bool], str]] = {
    "text": render_text,
    "json": render_json,
}

__all__ = ["FORMATS", "RunSummary"]
