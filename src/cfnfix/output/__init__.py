"""Output formats. Each takes the run's results and returns text.

A format's module is imported only when it is used: a check of one file in the default
format should not pay for XML, SARIF and hashing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping

from cfnfix.output.summary import RunSummary

Renderer = Callable[[RunSummary, bool], str]

_RENDERERS = {
    "text": ("cfnfix.output.text_format", "render_text"),
    "json": ("cfnfix.output.json_format", "render_json"),
    "sarif": ("cfnfix.output.sarif_format", "render_sarif"),
    "junit": ("cfnfix.output.junit_format", "render_junit"),
    "github": ("cfnfix.output.github_format", "render_github"),
}


class _Formats(Mapping[str, Renderer]):
    def __getitem__(self, name: str) -> Renderer:
        module, function = _RENDERERS[name]
        renderer: Renderer = getattr(importlib.import_module(module), function)
        return renderer

    def __iter__(self) -> Iterator[str]:
        return iter(_RENDERERS)

    def __len__(self) -> int:
        return len(_RENDERERS)


FORMATS: Mapping[str, Renderer] = _Formats()

__all__ = ["FORMATS", "RunSummary"]
