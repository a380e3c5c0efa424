"""Helpers for testing rules on template text, for cfnfix's tests and rule authors'."""

from __future__ import annotations

import io
import os
import signal
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from cfnfix.changes import Change
from cfnfix.engine import run_rules
from cfnfix.errors import FixError
from cfnfix.fixer import FixOutcome, apply_batch, fix_template
from cfnfix.rule import Finding, Fix, Rule
from cfnfix.settings import Settings
from cfnfix.source import Source
from cfnfix.template import Template
from cfnfix.writer import Writer


def parse(text: str, name: str = "template.yaml") -> Template:
    return Template.parse(Source.from_text(text, name))


def make_rules(
    classes: Iterable[type[Rule]],
    options: Mapping[str, Mapping[str, Any]] | None = None,
    settings: Settings | None = None,
) -> list[Rule]:
    """Instantiate rule classes; ``options`` maps a rule id to its options."""
    return [cls((options or {}).get(cls.id), settings) for cls in classes]


def check(text: str, rules: Iterable[Rule], name: str = "template.yaml") -> list[Finding]:
    """Findings as ``cfnfix check`` reports them (suppressions applied); a rule that
    crashes fails loudly here instead of becoming a file error."""
    result = run_rules(parse(text, name), list(rules))
    if result.rule_errors:
        error = result.rule_errors[0]
        raise AssertionError(f"rule {error.rule_id} crashed: {error.message}")
    return result.findings


def apply_changes(text: str, changes: Sequence[Change], name: str = "template.yaml") -> str:
    """Render ``changes`` with the shared writer and verify the result, as ``fix`` does.

    Raises :class:`FixError` when the writer refuses or the result is not as intended.
    """
    template = parse(text, name)
    rendered = Writer(template).render(list(changes))
    fake = Finding(_ChangeOnly(), (), "", fix=Fix.safe("apply", *changes))
    new, reason = apply_batch(template, [(fake, rendered.edits)])
    if new is None:
        raise FixError(reason)
    return new.text


class _ChangeOnly(Rule):
    id = "XX000"
    name = "apply-changes"
    family = "testing"
    summary = what = why = "Applies changes given by a test."


def fix(
    text: str, rules: Iterable[Rule], unsafe: bool = False, name: str = "template.yaml"
) -> FixOutcome:
    return fix_template(parse(text, name), list(rules), unsafe)


# -- the command line in process ----------------------------------------------------------


class CliResult(NamedTuple):
    """How ``cfnfix ARGS`` ended: its exit code and what it wrote; ``output`` is standard
    output and standard error interleaved as they were written."""

    exit_code: int
    stdout: str
    stderr: str
    output: str


class _Copying(io.BytesIO):
    """Bytes written here are also written to ``copy_to``."""

    def __init__(self, copy_to: io.BytesIO) -> None:
        super().__init__()
        self._copy_to = copy_to

    def write(self, data: Any) -> int:
        self._copy_to.write(data)
        return super().write(data)


def run_cli(
    args: Sequence[str],
    stdin: str | bytes | None = None,
    env: Mapping[str, str | None] | None = None,
) -> CliResult:
    """Run ``cfnfix ARGS`` in this process (faster than a subprocess per case).

    Standard input, output and error are UTF-8 text streams over bytes (``.buffer``
    works), not terminals; ``env`` sets environment variables for the run (None removes
    one); SIGINT and SIGTERM handlers the run installs are put back. An exception the
    command line lets through propagates (it would be a traceback for a user)."""
    from cfnfix.cli import main

    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin or b""
    output = io.BytesIO()
    out, err = _Copying(output), _Copying(output)
    streams = (sys.stdin, sys.stdout, sys.stderr)
    saved_env = {name: os.environ.get(name) for name in env or {}}
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    # Held here until read: a wrapper that is collected closes its bytes.
    wrappers = (
        io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"),
        io.TextIOWrapper(out, encoding="utf-8", write_through=True),
        io.TextIOWrapper(err, encoding="utf-8", write_through=True),
    )
    sys.stdin, sys.stdout, sys.stderr = wrappers
    code: int = 0
    try:
        _set_environment(env or {})
        try:
            main(list(args))
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    finally:
        sys.stdin, sys.stdout, sys.stderr = streams
        _set_environment(saved_env)
        for number, handler in handlers.items():
            if signal.getsignal(number) is not handler and handler is not None:
                signal.signal(number, handler)
    return CliResult(
        code,
        out.getvalue().decode("utf-8"),
        err.getvalue().decode("utf-8"),
        output.getvalue().decode("utf-8"),
    )


def _set_environment(values: Mapping[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
