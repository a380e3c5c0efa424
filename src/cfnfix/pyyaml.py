"""PyYAML, imported without compiling the regular expressions of its pure-Python parts.

cfnfix reads YAML with libyaml (PyYAML's C binding) and builds its own model from the
events, so PyYAML's pure-Python reader, constructor and emitter never run. Importing the
package still compiles their patterns, and one of them, the reader's class of
non-printable characters, spans most of Unicode: together they were two thirds of
PyYAML's import time, paid by every run of cfnfix, a one-file pre-commit check included.

While ``yaml`` is imported, a pattern compiled by a module of the ``yaml`` package is a
:class:`DeferredPattern` instead: it compiles itself the first time it is used. Patterns
compiled by any other module, and every pattern once the import is done, are compiled
as usual. Once imported, ``yaml`` is the same module for everyone in the process.

A module of cfnfix that uses PyYAML imports this one first::

    from cfnfix import pyyaml  # noqa: F401  (before yaml: see cfnfix.pyyaml)

    # isort: split
    import yaml
"""

from __future__ import annotations

import re
import sys
from typing import Any

_compile = re.compile


class DeferredPattern:
    """A regular expression, compiled the first time one of its methods is used."""

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = _compile(self.pattern, self.flags)
        return self._compiled

    def __getattr__(self, name: str) -> Any:  # match, search, sub, groups, ...
        return getattr(self.compiled(), name)

    def __repr__(self) -> str:
        return f"DeferredPattern({self.pattern!r}, {self.flags!r})"


def compiled(pattern: re.Pattern[str] | DeferredPattern) -> re.Pattern[str]:
    """The compiled pattern, whether PyYAML's was deferred or not."""
    return pattern.compiled() if isinstance(pattern, DeferredPattern) else pattern


def _deferred_in_yaml(pattern: Any, flags: Any = 0) -> Any:
    caller = sys._getframe(1).f_globals.get("__name__", "")
    if (caller == "yaml" or caller.startswith("yaml.")) and isinstance(pattern, str):
        return DeferredPattern(pattern, flags)
    return _compile(pattern, flags)


def _import() -> None:
    if "yaml" in sys.modules:  # imported before cfnfix was: nothing left to save
        return
    re.compile = _deferred_in_yaml
    try:
        import yaml  # noqa: F401
    finally:
        re.compile = _compile


_import()
