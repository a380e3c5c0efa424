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

from cfnfix import __version__, runner
from cfnfix.app import Options
from cfnfix.baseline import load as baseline_load
from cfnfix.baseline import new_only as baseline_new_only
from cfnfix.baseline import write as baseline_write
from cfnfix.config import find_config
from cfnfix.engine import Overrides
from cfnfix.errors import CfnfixError
from cfnfix.files import PathError, Target, discover
from cfnfix.output import FORMATS, RunSummary
from cfnfix.output.text_format import statistics_table
from cfnfix.report import FileError
from cfnfix.source import write_file
from cfnfix.validate import available as cfn_lint_available

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
        click.option(
            "--output",
            "output_file",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Write the report to this file instead of standard output.",
        ),
    ]
    options += [
        click.option(
            "--jobs",
            "-j",
            type=click.IntRange(min=0),
            default=0,
            help="Worker processes (default 0: one per core).",
        ),
        click.option(
            "--statistics", is_flag=True, help="Also print how many findings each rule had."
        ),
        click.option(
            "--baseline",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Report only findings that this baseline file does not record.",
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
    output_file: Path | None = None,
    quiet_non_templates: bool = False,
    unsafe_fixes: bool = False,
    jobs: int = 0,
    statistics: bool = False,
    baseline: Path | None = None,
    write_baseline: Path | None = None,
    validate: bool = False,
) -> None:
    if not paths:
        _fail("no paths given (try `cfnfix check .`)")
    if validate and not cfn_lint_available():
        click.echo("cfnfix: warning: --validate needs cfn-lint, which is not installed", err=True)
    options = Options(
        overrides=Overrides(_split(select), _split(ignore), (), tuple(rules_dir)),
        config_file=config_file,
        fix=mode in ("fix", "diff"),
        unsafe_fixes=unsafe_fixes,
        diff=mode == "diff",
        with_edits=output_format == "sarif",
        quiet_non_templates=quiet_non_templates,
        validate=validate,
    )
    targets: list[Target] = []
    extra: list[FileError] = []
    try:
        known = baseline_load(baseline) if baseline else None
        for item in discover(paths):
            if isinstance(item, PathError):
                extra.append(FileError(str(item.path), item.message))
            else:
                targets.append(item)
        results = runner.run(targets, options, jobs)
        if known is not None and baseline is not None:
            root = baseline.resolve().parent
            for result in results:
                result.diagnostics = baseline_new_only(result.diagnostics, known, root)
        if write_baseline is not None:
            baseline_write(write_baseline, [d for r in results for d in r.diagnostics])
    except CfnfixError as exc:
        _fail(str(exc))
    run = RunSummary(results, mode, unsafe_fixes, extra)
    color = _use_color() and output_format == "text" and output_file is None
    for error in run.errors:
        click.echo(f"{error}", err=True)
    report = FORMATS[output_format](run, color)
    if statistics:
        table = statistics_table(run)
        if output_format == "text" and output_file is None:
            report += table
        else:
            click.echo(table, err=True, nl=False)
    if output_file is not None:
        _write_report(output_file, report)
    else:
        _emit(report, color)
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
@click.option(
    "--write-baseline",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Record every finding in this baseline file (then use --baseline).",
)
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
@click.option(
    "--validate",
    is_flag=True,
    help="Run cfn-lint on each fixed template; refuse fixes that introduce cfn-lint errors.",
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


def _write_report(path: Path, report: str) -> None:

    try:
        write_file(path, report.encode("utf-8"))
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--to", "target", type=click.Choice(["yaml", "json"]), required=True, help="Output format."
)
@click.option(
    "--output",
    "output_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the converted template to this file (one PATH only).",
)
@click.option(
    "--in-place",
    is_flag=True,
    help="Replace each file by its conversion: a.json becomes a.yaml (.template keeps its name).",
)
def convert(paths: tuple[Path, ...], target: str, output_file: Path | None, in_place: bool) -> None:
    """Convert templates between YAML and JSON (with cfn-flip).

    Key order is kept and YAML gets short-form tags (!Ref). Comments, anchors and
    quoting cannot be kept: a one-line warning names what a file loses. A conversion
    that does not read back as exactly the same template is refused (exit 2). One PATH
    prints to standard output unless --output or --in-place is given.
    """
    from cfnfix.convert import ConvertError, convert_file, converted_path
    from cfnfix.errors import LoadError

    if output_file is not None and in_place:
        _fail("--output and --in-place cannot be used together")
    if len(paths) > 1 and not in_place:
        _fail("several files: use --in-place, or convert one file at a time")
    failed = False
    for path in paths:
        try:
            conversion = convert_file(path, target)
            if conversion.lost:
                lost = ", ".join(conversion.lost)
                click.echo(f"cfnfix: warning: {path}: {target.upper()} loses {lost}", err=True)
            destination = converted_path(path, target) if in_place else output_file
            if destination is None:
                sys.stdout.write(conversion.text)
                continue
            if in_place and destination != path and destination.exists():
                raise ConvertError(f"{destination} already exists; not converted")
            try:
                write_file(destination, conversion.encode())
                if in_place and destination != path:
                    path.unlink()
            except OSError as exc:
                raise ConvertError(f"cannot write {destination}: {exc.strerror or exc}") from None
            if in_place and destination != path:
                click.echo(f"{path} -> {destination}")
        except LoadError as exc:
            click.echo(str(FileError(str(path), exc.message, exc.line, exc.column)), err=True)
            failed = True
        except ConvertError as exc:
            click.echo(f"{path}: {exc}", err=True)
            failed = True
    sys.exit(EXIT_ERROR if failed else EXIT_CLEAN)
