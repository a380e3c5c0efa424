"""The command line: ``cfnfix check``, ``cfnfix fix``, ``cfnfix rules``.

Exit codes: 0 nothing found; 1 findings (``fix``: findings remain; ``fix --diff``:
something would change); 2 a file could not be read or parsed, or a usage or
configuration error (the other files are still processed).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cfnfix import __version__
from cfnfix.app import FileResult, Options, process
from cfnfix.config import find_config
from cfnfix.engine import Overrides
from cfnfix.errors import CfnfixError
from cfnfix.files import PathError, discover
from cfnfix.output import FORMATS, RunSummary
from cfnfix.report import FileError

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _use_color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _emit(text: str, color: bool) -> None:
    if color:
        from rich.console import Console

        Console(highlight=False, soft_wrap=True).print(text, end="")
    else:
        sys.stdout.write(text)


def _fail(message: str) -> None:
    click.echo(f"cfnfix: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("paths", nargs=-1, type=click.Path(path_type=Path)),
        click.option(
            "--select",
            multiple=True,
            help="Rules to run: ids, names, families or id prefixes (comma-separated).",
        ),
        click.option("--ignore", multiple=True, help="Rules not to run (same forms as --select)."),
        click.option(
            "--rules-dir",
            multiple=True,
            type=click.Path(path_type=Path, file_okay=False),
            help="Load extra rules from every *.py file in this directory.",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(path_type=Path, dir_okay=False, exists=True),
            help="Use this configuration file instead of searching for one.",
        ),
        click.option(
            "--quiet-non-templates",
            is_flag=True,
            help="Skip files that are not CloudFormation templates silently, even when named "
            "explicitly (for pre-commit hooks).",
        ),
        click.option(
            "--format",
            "output_format",
            type=click.Choice(sorted(FORMATS)),
            default="text",
            show_default=True,
            help="Output format.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run(
    mode: str,
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    rules_dir: tuple[Path, ...],
    config_file: Path | None,
    output_format: str,
    quiet_non_templates: bool = False,
    unsafe_fixes: bool = False,
) -> None:
    if not paths:
        _fail("no paths given (try `cfnfix check .`)")
    options = Options(
        overrides=Overrides(_split(select), _split(ignore), (), tuple(rules_dir)),
        config_file=config_file,
        fix=mode in ("fix", "diff"),
        unsafe_fixes=unsafe_fixes,
        diff=mode == "diff",
        quiet_non_templates=quiet_non_templates,
    )
    results: list[FileResult] = []
    extra: list[FileError] = []
    try:
        for item in discover(paths):
            if isinstance(item, PathError):
                extra.append(FileError(str(item.path), item.message))
            else:
                results.append(process(item, options))
    except CfnfixError as exc:
        _fail(str(exc))
    run = RunSummary(results, mode, unsafe_fixes, extra)
    color = _use_color() and output_format == "text"
    for error in run.errors:
        click.echo(f"{error}", err=True)
    _emit(FORMATS[output_format](run, color), color)
    sys.exit(run.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cfnfix")
def main() -> None:
    """Lint and fix AWS CloudFormation templates (YAML, JSON, SAM).

    \b
    Exit codes: 0 clean, 1 findings remain, 2 a file could not be
    processed or the command line / configuration is wrong.
    """


@main.command()
@_common
def check(**kwargs: Any) -> None:
    """Report findings in templates (files or directories)."""
    _run("check", **kwargs)


@main.command()
@_common
@click.option(
    "--unsafe-fixes", is_flag=True, help="Also apply fixes that change what a deploy does."
)
@click.option(
    "--diff", is_flag=True, help="Write nothing; print a unified diff of what would change."
)
def fix(diff: bool, **kwargs: Any) -> None:
    """Fix findings in place, then report what remains."""
    _run("diff" if diff else "fix", **kwargs)


@main.command()
@click.argument("rule", required=False)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option("--rules-dir", multiple=True, type=click.Path(path_type=Path, file_okay=False))
def rules(rule: str | None, output_format: str, rules_dir: tuple[Path, ...]) -> None:
    """List the rules, or show one rule's documentation."""
    from cfnfix import registry

    try:
        config = find_config(Path.cwd())
        available = registry.collect([*config.rules_dirs, *rules_dir])
    except CfnfixError as exc:
        _fail(str(exc))
    if rule is not None:
        match = [r for r in available.values() if rule in (r.id, r.name)]
        if not match:
            _fail(f"no rule {rule!r} (see `cfnfix rules`)")
        doc = match[0].documentation()
        if output_format == "json":
            click.echo(json.dumps(_rule_json(match[0]) | {"documentation": doc}, indent=2))
        elif _use_color():
            from rich.console import Console
            from rich.markdown import Markdown

            Console().print(Markdown(doc))
        else:
            click.echo(doc, nl=False)
        return
    if output_format == "json":
        click.echo(json.dumps([_rule_json(r) for r in available.values()], indent=2))
        return
    width = max((len(r.name) for r in available.values()), default=4)
    for r in available.values():
        fixable = {"always": "fix", "sometimes": "fix?"}.get(r.fix_availability, "")
        click.echo(
            f"{r.id}  {r.name:<{width}}  {r.family:<11} {r.severity.value:<7}  "
            f"{fixable:<4}  {r.summary}"
        )


def _rule_json(rule: Any) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "family": rule.family,
        "severity": rule.severity.value,
        "summary": rule.summary,
        "fix": rule.fix_availability,
        "options": {k: v.get("default") for k, v in rule.options_schema.items()},
    }
