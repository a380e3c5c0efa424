"""The command line: ``cfnfix check``, ``cfnfix fix``, ``cfnfix rules``, ``cfnfix convert``.

Exit codes: 0 nothing found; 1 findings (``fix``: findings remain; ``fix --diff``:
something would change); 2 a file could not be read or parsed, or a usage or
configuration error. Usage and configuration errors are found before any file is
read, each reported once; then nothing is checked.

Start-up matters (a pre-commit hook or an editor runs cfnfix on one file): modules a
run does not need (other output formats, baselines, cfn-lint, rich, multiprocessing)
are imported where they are used. The parsing is argparse's, which the interpreter
ships: importing click (with inspect, uuid, platform and its own modules) took a sixth
of a one-file check. Only the parser of the command given is built.
"""

from __future__ import annotations

import argparse
import errno
import os
import stat
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from cfnfix import __version__
from cfnfix.collector import loading
from cfnfix.errors import CfnfixError

if TYPE_CHECKING:
    from cfnfix.app import FileResult, Options
    from cfnfix.config import Config
    from cfnfix.files import Target
    from cfnfix.rule import Rule

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMAT_NAMES = ("github", "json", "junit", "sarif", "text")
SEVERITIES = ("error", "warning", "info")


# -- the command line's argument types (what click's types checked) -------------------


def _path_type(kind: str, exists: bool = False) -> Callable[[str], Path]:
    """A path argument, checked as click.Path checked it: a "file" must not be an
    existing directory, a "directory" not an existing file, a path that exists must be
    readable, and with ``exists`` it must exist."""

    def path(value: str) -> Path:
        try:
            mode = os.stat(value).st_mode
        except (OSError, ValueError):
            if exists:
                raise argparse.ArgumentTypeError(
                    f"{kind.title()} {value!r} does not exist."
                ) from None
            return Path(value)
        if kind == "directory" and stat.S_ISREG(mode):
            raise argparse.ArgumentTypeError(f"Directory {value!r} is a file.")
        if kind == "file" and stat.S_ISDIR(mode):
            raise argparse.ArgumentTypeError(f"File {value!r} is a directory.")
        if not os.access(value, os.R_OK):
            raise argparse.ArgumentTypeError(f"{kind.title()} {value!r} is not readable.")
        return Path(value)

    return path


ANY_PATH = _path_type("path")
FILE_PATH = _path_type("file")
DIRECTORY_PATH = _path_type("directory")
EXISTING_FILE = _path_type("file", exists=True)


def _count(value: str) -> int:
    """A whole number, 0 or more (click.IntRange(min=0))."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a valid integer.") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{number} is not in the range x>=0.")
    return number


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def _use_color(stream: Any = None) -> bool:
    """NO_COLOR (https://no-color.org) turns colour off; FORCE_COLOR turns it on when
    NO_COLOR is not set; otherwise colour only on a terminal."""
    if os.environ.get("NO_COLOR"):
        return False
    if _env_flag("FORCE_COLOR"):
        return True
    stream = stream or sys.stdout
    return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"


def _emit(text: str, color: bool, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    if color:
        from rich.console import Console

        Console(
            file=stream, highlight=False, soft_wrap=True, force_terminal=True, no_color=False
        ).print(text, end="")
    else:
        stream.write(text)


def _echo(text: str = "", err: bool = False, nl: bool = True) -> None:
    """Write to standard output (or error) and flush, as click.echo did: what is written
    keeps its order against the other stream when both go to one pipe."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n" if nl else text)
    stream.flush()


def _fail(message: str) -> NoReturn:
    for line in dict.fromkeys(message.splitlines() or [message]):
        _echo(f"cfnfix: error: {line}", err=True)
    sys.exit(EXIT_ERROR)


def _split(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _add_rules_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rules-dir",
        action="append",
        default=[],
        type=DIRECTORY_PATH,
        metavar="DIRECTORY",
        help="Load extra rules from every *.py file in this directory.",
    )


def _add_common(parser: argparse.ArgumentParser) -> argparse.Action:
    """The arguments ``check`` and ``fix`` share; returns the positional one."""
    paths = parser.add_argument(
        "paths",
        nargs="*",
        type=ANY_PATH,
        metavar="PATHS",
        help="Templates, and directories to walk; `-` for standard input.",
    )
    add = parser.add_argument
    add(
        "--select",
        action="append",
        default=[],
        metavar="RULES",
        help="Rules to run: ids, names, families or id prefixes (comma-separated).",
    )
    add(
        "--ignore",
        action="append",
        default=[],
        metavar="RULES",
        help="Rules not to run (same forms as --select).",
    )
    _add_rules_dir(parser)
    add(
        "--config",
        dest="config_file",
        type=EXISTING_FILE,
        metavar="FILE",
        help="Use this configuration file instead of searching for one.",
    )
    add(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERNS",
        help="Glob patterns of paths to skip (comma-separated), besides the "
        "configuration's `exclude`.",
    )
    add(
        "--respect-gitignore",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Skip files .gitignore ignores while walking directories (default: on; "
        "files named explicitly are always checked).",
    )
    add(
        "--stdin-filename",
        type=FILE_PATH,
        metavar="FILE",
        help="With `-` as the path: the name standard input is reported under, and "
        "where its configuration is looked up.",
    )
    add(
        "--quiet-non-templates",
        action="store_true",
        help="Skip files that are not CloudFormation templates silently, even when named "
        "explicitly (for pre-commit hooks).",
    )
    add(
        "--format",
        dest="output_format",
        choices=FORMAT_NAMES,
        default="text",
        help="Output format. [default: text]",
    )
    add(
        "--output",
        dest="output_file",
        type=FILE_PATH,
        metavar="FILE",
        help="Write the report to this file instead of standard output.",
    )
    add(
        "--show-source",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Show each finding's line with a caret under it (text format; default: "
        "on a terminal only).",
    )
    add(
        "-j",
        "--jobs",
        type=_count,
        default=0,
        metavar="N",
        help="Worker processes (default 0: one per core).",
    )
    add(
        "--statistics",
        action="store_true",
        help="Print only how many findings each rule had (text or json format).",
    )
    add(
        "--baseline",
        type=FILE_PATH,
        metavar="FILE",
        help="Report only findings that this baseline file does not record.",
    )
    add(
        "--exit-zero",
        action="store_true",
        help="Exit 0 even when findings remain (errors still exit 2).",
    )
    add(
        "--fail-level",
        choices=SEVERITIES,
        default="info",
        help="The least severe finding that makes the run fail (exit 1). [default: info]",
    )
    add(
        "--show-files",
        action="store_true",
        help="List the files that would be checked, and stop.",
    )
    add(
        "--show-settings",
        action="store_true",
        help="Print the settings that apply to the first file, and stop.",
    )
    return paths


# -- checks made once, before any file is read ----------------------------------------


def _usage_problems(kwargs: dict[str, Any], mode: str) -> list[str]:
    paths: tuple[Path, ...] = kwargs["paths"]
    problems = []
    if not paths:
        problems.append("no paths given (try `cfnfix check .`, or `-` for standard input)")
    stdin = any(str(p) == "-" for p in paths)
    if stdin and len(paths) > 1:
        problems.append("`-` (standard input) cannot be combined with other paths")
    if kwargs["stdin_filename"] is not None and not stdin:
        problems.append("--stdin-filename needs `-` as the path")
    if stdin and kwargs.get("write_baseline"):
        problems.append("--write-baseline cannot be used with standard input")
    if kwargs["statistics"] and kwargs["output_format"] not in ("text", "json"):
        problems.append("--statistics works with --format text or json")
    if kwargs["show_files"] and kwargs["show_settings"]:
        problems.append("--show-files and --show-settings cannot be used together")
    if kwargs["show_source"] and kwargs["output_format"] != "text":
        problems.append("--show-source works with --format text only")
    return problems


def _root_configs(paths: Sequence[Path], config_file: Path | None) -> list[Config]:
    """The configurations that apply where the walk starts (each once)."""
    from cfnfix.app import Options, config_for

    options = Options(config_file=config_file)
    found: dict[int, Config] = {}
    for path in paths:
        # A directory's own configuration file applies to it: look up from inside it.
        try:
            is_dir = path.is_dir()
        except OSError:  # unreachable (no permission): reading it reports that, once
            is_dir = False
        anchor = path / "__cfnfix__" if is_dir else path
        config = config_for(anchor, options)
        found.setdefault(id(config), config)
    return list(found.values())


def _check_configs(
    configs: Iterable[Config], cli_dirs: tuple[Path, ...], seen: set[int]
) -> list[str]:
    """Every problem of every configuration not checked yet: rules directories that do
    not load, unknown selectors, unknown rules and bad rule options."""
    from cfnfix import registry
    from cfnfix.config import problems as config_problems

    found: list[str] = []
    for config in configs:
        if id(config) in seen:
            continue
        seen.add(id(config))
        try:
            available = registry.collect([*config.rules_dirs, *cli_dirs], deferred=True)
        except CfnfixError as exc:
            found.extend(str(exc).splitlines())
            continue
        found.extend(config_problems(config, available))
    return found


def _targets(
    paths: tuple[Path, ...],
    kwargs: dict[str, Any],
    root_configs: Sequence[Config],
) -> tuple[list[Target], list[Any]]:
    from cfnfix.files import PathError, Target, discover, excluded
    from cfnfix.report import FileError

    if len(paths) == 1 and str(paths[0]) == "-":
        try:
            text = sys.stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            _fail(f"standard input is not UTF-8 text (invalid byte at offset {exc.start})")
        name = kwargs["stdin_filename"] or Path("-")
        return [Target(name, explicit=True, text=text)], []
    respect = kwargs["respect_gitignore"]
    if respect is None:
        respect = all(c.respect_gitignore for c in root_configs)
    patterns = _split(kwargs["exclude"])
    targets: list[Target] = []
    errors: list[FileError] = []
    for item in discover(paths, respect_gitignore=respect):
        if isinstance(item, PathError):
            errors.append(FileError(str(item.path), item.message))
        elif not patterns or not excluded(item.path, patterns, Path.cwd()):
            targets.append(item)
    return targets, errors


def _config_problems(
    targets: Sequence[Target], options: Options, seen: set[int], cli_dirs: tuple[Path, ...]
) -> tuple[dict[Path, Config], list[str]]:
    """The configuration of each target's directory, and the problems of those that were
    not checked before the walk (nested configuration files), each once."""
    from cfnfix.app import config_for

    by_directory: dict[Path, Config] = {}
    problems: dict[str, None] = {}
    for target in targets:
        directory = target.path.parent
        if directory in by_directory:
            continue
        try:
            by_directory[directory] = config_for(target.path, options)
        except CfnfixError as exc:
            problems.update(dict.fromkeys(str(exc).splitlines()))
    problems.update(dict.fromkeys(_check_configs(by_directory.values(), cli_dirs, seen)))
    return by_directory, list(problems)


def _not_excluded(targets: list[Target], configs: dict[Path, Config]) -> list[Target]:
    from cfnfix.files import excluded

    kept = []
    for target in targets:
        config = configs.get(target.path.parent)
        if config is None or not excluded(target.path, config.exclude, config.root):
            kept.append(target)
    return kept


def _show_settings(target: Target, config: Config, options: Options) -> str:
    import json

    from cfnfix.app import rules_for

    rules = rules_for(config, options.overrides)
    overrides = options.overrides
    lines = [
        f"Settings for {target.path}",
        f"config file = {json.dumps(str(config.path) if config.path else None)}",
        f"select = {json.dumps(list(overrides.select or config.select) or ['(default)'])}",
        f"ignore = {json.dumps(list(overrides.ignore or config.ignore))}",
        f"exclude = {json.dumps(list(config.exclude))}",
        f"rules-dir = {json.dumps([str(d) for d in (*config.rules_dirs, *overrides.rules_dirs)])}",
        f"max-file-size = {config.max_file_size}",
        f"respect-gitignore = {json.dumps(config.respect_gitignore)}",
        f"required-tags = {json.dumps(config.required_tags)}",
        f"rules = {json.dumps(config.rule_options)}",
        f"enabled rules ({len(rules)}) = {json.dumps([r.id for r in rules])}",
    ]
    return "\n".join(lines) + "\n"


def _run(mode: str, **kwargs: Any) -> None:
    # No garbage collection while loading: the modules, classes and rules created then
    # live as long as the process, and the collector would scan them again and again.
    with loading():
        from cfnfix import registry
        from cfnfix.app import Options
        from cfnfix.engine import Overrides

    problems = _usage_problems(kwargs, mode)
    if problems:
        _fail("\n".join(problems))
    paths: tuple[Path, ...] = kwargs["paths"]
    output_format: str = kwargs["output_format"]
    output_file: Path | None = kwargs["output_file"]
    cli_dirs = tuple(kwargs["rules_dir"])
    select, ignore = _split(kwargs["select"]), _split(kwargs["ignore"])
    stdin = str(paths[0]) == "-"
    stdin_fix = stdin and mode == "fix"

    # The command line, the rules and the configuration, before any file is read.
    try:
        with loading():
            available = registry.collect(cli_dirs, deferred=True)
            root_configs = _root_configs(
                [kwargs["stdin_filename"] or Path("-")] if stdin else list(paths),
                kwargs["config_file"],
            )
    except CfnfixError as exc:
        _fail(str(exc))
    seen: set[int] = set()
    problems = [
        *registry.selector_problems(available, select, "--select"),
        *registry.selector_problems(available, ignore, "--ignore"),
        *_check_configs(root_configs, cli_dirs, seen),
    ]
    if problems:
        _fail("\n".join(problems))

    report_to_stdout = output_file is None and not stdin_fix
    show_source = kwargs["show_source"]
    if show_source is None:
        terminal = sys.stdout.isatty() and os.environ.get("TERM") != "dumb"
        show_source = output_format == "text" and report_to_stdout and terminal
    options = Options(
        overrides=Overrides(select, ignore, (), cli_dirs),
        config_file=kwargs["config_file"],
        fix=mode in ("fix", "diff"),
        unsafe_fixes=kwargs.get("unsafe_fixes", False),
        diff=mode == "diff",
        with_edits=output_format == "sarif",
        quiet_non_templates=kwargs["quiet_non_templates"],
        validate=kwargs.get("validate", False),
        with_source=bool(show_source) and not kwargs["statistics"],
    )
    targets, path_errors = _targets(paths, kwargs, root_configs)
    configs, problems = _config_problems(targets, options, seen, cli_dirs)
    if problems:
        _fail("\n".join(problems))
    targets = _not_excluded(targets, configs)
    if kwargs["show_files"]:
        for error in path_errors:
            _echo(str(error), err=True)
        _echo("".join(f"{t.path}\n" for t in targets), nl=False)
        sys.exit(EXIT_ERROR if path_errors else EXIT_CLEAN)
    if kwargs["show_settings"]:
        if not targets:
            _fail("no file to show the settings of")
        _echo(_show_settings(targets[0], configs[targets[0].path.parent], options), nl=False)
        sys.exit(EXIT_CLEAN)
    if options.validate:
        from cfnfix.validate import available as cfn_lint_available

        if not cfn_lint_available():
            _echo("cfnfix: warning: --validate needs cfn-lint, which is not installed", err=True)

    results = _check(targets, options, kwargs)
    _report(mode, results, path_errors, kwargs, stdin_fix, targets)


def _check(targets: list[Target], options: Options, kwargs: dict[str, Any]) -> list[FileResult]:
    baseline: Path | None = kwargs["baseline"]
    write_baseline: Path | None = kwargs.get("write_baseline")
    try:
        known = None
        if baseline is not None:
            from cfnfix.baseline import load as baseline_load

            known = baseline_load(baseline)
        _exit_on_signals()
        if len(targets) == 1:  # no pool, no progress bar: nothing to spread
            from cfnfix.app import process

            results = [process(targets[0], options)]
        else:
            from cfnfix import runner

            results = runner.run(targets, options, kwargs["jobs"])
        if known is not None and baseline is not None:
            from cfnfix.baseline import new_only

            root = baseline.resolve().parent
            for result in results:
                result.diagnostics = new_only(result.diagnostics, known, root)
        if write_baseline is not None:
            from cfnfix.baseline import write as baseline_write

            baseline_write(write_baseline, [d for r in results for d in r.diagnostics])
    except CfnfixError as exc:
        _fail(str(exc))
    return results


EXIT_SIGNALS = {"SIGINT": 130, "SIGTERM": 143}  # 128 + the signal number, as shells report


def _exit_on_signals() -> None:
    """Stop at once on SIGINT / SIGTERM, with one line and exit code 130 / 143.

    Writes defer both signals until a file is whole (``source.write_file``), so every
    file is exactly its old or its new content. Forked workers inherit the handler and
    leave quietly; the main process stops them and says what happened.
    """
    import signal

    main_pid = os.getpid()

    def stop(signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        if os.getpid() == main_pid:
            import multiprocessing

            for child in multiprocessing.active_children():
                child.terminate()
            sys.stderr.write(
                f"cfnfix: interrupted ({name}): each file is either unchanged or fully "
                "fixed; run again to finish\n"
            )
            sys.stderr.flush()
        os._exit(EXIT_SIGNALS[name])

    for name in EXIT_SIGNALS:
        signal.signal(getattr(signal, name), stop)


def _report(
    mode: str,
    results: list[FileResult],
    path_errors: list[Any],
    kwargs: dict[str, Any],
    stdin_fix: bool,
    targets: list[Target],
) -> None:
    from cfnfix.output import FORMATS, RunSummary

    output_format: str = kwargs["output_format"]
    output_file: Path | None = kwargs["output_file"]
    run = RunSummary(
        results,
        mode,
        kwargs.get("unsafe_fixes", False),
        path_errors,
        fail_level=kwargs["fail_level"],
        exit_zero=kwargs["exit_zero"],
    )
    if stdin_fix:  # the fixed text is the output; the report goes to standard error
        [result] = run.results
        fixed = result.output if result.output is not None else targets[0].text or ""
        sys.stdout.write(fixed)
        sys.stdout.flush()
    to_stderr = stdin_fix and output_file is None
    stream = sys.stderr if to_stderr else sys.stdout
    color = output_format == "text" and output_file is None and _use_color(stream)
    for error in run.errors:
        _echo(f"{error}", err=True)
    if kwargs["statistics"]:
        from cfnfix.output.text_format import statistics_json, statistics_table

        report = statistics_json(run) if output_format == "json" else statistics_table(run)
    else:
        report = FORMATS[output_format](run, color)
    if output_file is not None:
        _write_report(output_file, report)
    else:
        _emit(report, color, err=to_stderr)
    sys.exit(run.exit_code)


# -- the commands -----------------------------------------------------------------------


def check(**kwargs: Any) -> None:
    """Report findings in templates (files or directories)."""
    _run("check", **kwargs)


def _check_arguments(parser: argparse.ArgumentParser) -> argparse.Action:
    paths = _add_common(parser)
    parser.add_argument(
        "--write-baseline",
        type=FILE_PATH,
        metavar="FILE",
        help="Record every finding in this baseline file (then use --baseline).",
    )
    return paths


def fix(diff: bool, **kwargs: Any) -> None:
    """Fix findings in place, then report what remains."""
    _run("diff" if diff else "fix", **kwargs)


def _fix_arguments(parser: argparse.ArgumentParser) -> argparse.Action:
    paths = _add_common(parser)
    add = parser.add_argument
    add(
        "--unsafe-fixes",
        action="store_true",
        help="Also apply fixes that change what a deploy does.",
    )
    add(
        "--diff",
        action="store_true",
        help="Write nothing; print a unified diff of what would change.",
    )
    add(
        "--validate",
        action="store_true",
        help="Run cfn-lint on each fixed template; refuse fixes that introduce cfn-lint errors.",
    )
    return paths


def rules(rule: str | None, output_format: str, rules_dir: tuple[Path, ...]) -> None:
    """List the rules; RULE (an id or name) shows one rule's documentation, and a family
    or id prefix ("retention", "RT") lists those rules."""
    import json

    from cfnfix import registry
    from cfnfix.config import find_config

    try:
        config = find_config(Path.cwd())
        available = registry.collect([*config.rules_dirs, *rules_dir])
    except CfnfixError as exc:
        _fail(str(exc))
    listed = list(available.values())
    if rule is not None:
        match = [r for r in listed if rule in (r.id, r.name)]
        if match:
            doc = match[0].documentation()
            if output_format == "json":
                _echo(json.dumps(_rule_json(match[0]) | {"documentation": doc}, indent=2))
            elif _use_color():
                from rich.console import Console
                from rich.markdown import Markdown

                Console().print(Markdown(doc))
            else:
                _echo(doc, nl=False)
            return
        listed = [r for r in listed if registry.matches(r, rule)]
        if not listed:
            names = [name for r in available.values() for name in (r.id, r.name, r.family)]
            _fail(
                f"no rule {rule!r} (not an id, name, family or id prefix)"
                f"{registry.did_you_mean(rule, names)}; see `cfnfix rules`"
            )
    if output_format == "json":
        _echo(json.dumps([_rule_json(r) for r in listed], indent=2))
        return
    _echo(_rules_table(listed), nl=False)


def _rules_arguments(parser: argparse.ArgumentParser) -> argparse.Action:
    rule = parser.add_argument(
        "rule",
        nargs="?",
        metavar="RULE",
        help="A rule's id or name, a family or an id prefix.",
    )
    parser.add_argument(
        "--format",
        dest="output_format",
        choices=("text", "json"),
        default="text",
        help="Output format. [default: text]",
    )
    _add_rules_dir(parser)
    return rule


def _rules_table(listed: Sequence[type[Rule]]) -> str:
    width = max((len(r.name) for r in listed), default=4)
    lines = []
    for r in listed:
        fixable = {"always": "fix", "sometimes": "fix?"}.get(r.fix_availability, "")
        opt_in = "" if r.default_enabled else "  (opt-in)"
        lines.append(
            f"{r.id}  {r.name:<{width}}  {r.family:<11} {r.severity.value:<7}  "
            f"{fixable:<4}  {r.summary}{opt_in}"
        )
    return "".join(line + "\n" for line in lines)


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
    from cfnfix.source import write_file

    try:
        write_file(path, report.encode("utf-8"))
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}")


def convert(paths: tuple[Path, ...], target: str, output_file: Path | None, in_place: bool) -> None:
    """Convert templates between YAML and JSON (with cfn-flip).

    Key order is kept and YAML gets short-form tags (!Ref). Comments, anchors and
    quoting cannot be kept: a one-line warning names what a file loses. A conversion
    that does not read back as exactly the same template is refused (exit 2). One PATH
    prints to standard output unless --output or --in-place is given.
    """
    from cfnfix.convert import ConvertError, convert_file, converted_path
    from cfnfix.errors import LoadError
    from cfnfix.report import FileError
    from cfnfix.source import write_file

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
                _echo(f"cfnfix: warning: {path}: {target.upper()} loses {lost}", err=True)
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
                _echo(f"{path} -> {destination}")
        except LoadError as exc:
            _echo(str(FileError(str(path), exc.message, exc.line, exc.column)), err=True)
            failed = True
        except ConvertError as exc:
            _echo(f"{path}: {exc}", err=True)
            failed = True
    sys.exit(EXIT_ERROR if failed else EXIT_CLEAN)


def _convert_arguments(parser: argparse.ArgumentParser) -> argparse.Action:
    # PATHS is required: at least one is checked in _parse (after a `--` too).
    paths = parser.add_argument(
        "paths", nargs="*", type=ANY_PATH, metavar="PATHS", help="The templates to convert."
    )
    parser.add_argument(
        "--to",
        dest="target",
        choices=("yaml", "json"),
        required=True,
        help="Output format.",
    )
    parser.add_argument(
        "--output",
        dest="output_file",
        type=FILE_PATH,
        metavar="FILE",
        help="Write the converted template to this file (one PATH only).",
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="Replace each file by its conversion: a.json becomes a.yaml (.template keeps "
        "its name).",
    )
    return paths


def server(stdio: bool) -> None:
    """Run the language server for editors (LSP on stdio; see docs/editors.md)."""
    from cfnfix.server.lsp import main as serve  # pygls loads only for the server

    serve()


def _server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stdio",
        action="store_true",
        help="Serve on standard input/output (the only transport).",
    )


# name: (the command, its usage line, what adds its arguments, its line in `cfnfix --help`)
COMMANDS: dict[
    str,
    tuple[
        Callable[..., None], str, Callable[[argparse.ArgumentParser], argparse.Action | None], str
    ],
] = {
    "check": (check, "[options] [PATHS ...]", _check_arguments, check.__doc__ or ""),
    "fix": (fix, "[options] [PATHS ...]", _fix_arguments, fix.__doc__ or ""),
    "rules": (rules, "[options] [RULE]", _rules_arguments, "List the rules, or show one."),
    "convert": (
        convert,
        "--to {yaml,json} [options] PATHS ...",
        _convert_arguments,
        "Convert templates between YAML and JSON (with cfn-flip).",
    ),
    "server": (server, "[options]", _server_arguments, "Run the language server for editors."),
}


# -- parsing --------------------------------------------------------------------------


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written (paragraphs kept), and ``-j, --jobs N`` rather than
    ``-j N, --jobs N``."""

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if action.option_strings and action.nargs != 0:
            default = self._get_default_metavar_for_optional(action)
            return f"{', '.join(action.option_strings)} {self._format_args(action, default)}"
        return super()._format_action_invocation(action)


def _description(doc: str | None) -> str:
    """A docstring as help text: its lines without their indentation."""
    return "\n".join(line.strip() for line in (doc or "").strip().splitlines())


def _main_parser() -> argparse.ArgumentParser:
    width = max(map(len, COMMANDS)) + 2
    listing = "".join(
        f"  {name:<{width}}{_description(summary).partition(chr(10))[0]}\n"
        for name, (_, _, _, summary) in COMMANDS.items()
    )
    parser = argparse.ArgumentParser(
        prog="cfnfix",
        usage="%(prog)s [-h] [--version] COMMAND ...",
        description=_description(main.__doc__),
        epilog=f"commands:\n{listing}\n`cfnfix COMMAND --help` describes a command.",
        formatter_class=_Formatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"cfnfix, version {__version__}")
    parser.add_argument(
        "command", nargs="?", choices=COMMANDS, metavar="COMMAND", help="One of those below."
    )
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def _parse(name: str, args: list[str]) -> dict[str, Any]:
    """The arguments of command ``name``, as its function takes them (lists as tuples).

    Options and positionals may come in any order (as with click). Everything after a
    `--` is positional, even when it starts with `-`: parse_intermixed_args mishandles
    that (Python 3.11), so it is split off here and added to the positional."""
    function, usage, add_arguments, _ = COMMANDS[name]
    parser = argparse.ArgumentParser(
        prog=f"cfnfix {name}",
        usage=f"%(prog)s {usage}",
        description=_description(function.__doc__),
        formatter_class=_Formatter,
        allow_abbrev=False,
    )
    positional = add_arguments(parser)
    after: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, after = args[:cut], args[cut + 1 :]
    values = vars(parser.parse_intermixed_args(args))
    if after:
        room = len(after)  # how many the positional takes
        if positional is None:
            room = 0
        elif positional.nargs == "?":
            room = int(values[positional.dest] is None)
        if len(after) > room:
            parser.error(f"unrecognized arguments: {' '.join(after[room:])}")
        assert positional is not None
        convert = positional.type if callable(positional.type) else str
        try:
            converted = [convert(value) for value in after]
        except argparse.ArgumentTypeError as exc:
            parser.error(f"argument {positional.metavar}: {exc}")
        if positional.nargs == "?":
            values[positional.dest] = converted[0]
        else:
            values[positional.dest] = [*values[positional.dest], *converted]
    if name == "convert" and not values["paths"]:
        parser.error("the following arguments are required: PATHS")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


class _Pacified:
    """A stream whose flush ignores a reader that has gone (click's PacifyFlushWrapper):
    the interpreter flushes standard output once more at exit."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Lint and fix AWS CloudFormation templates (YAML, JSON, SAM).

    Exit codes: 0 clean, 1 findings remain, 2 a file could not be
    processed or the command line / configuration is wrong.
    """
    # The console script and ``python -m cfnfix`` call main(); tests and benchmarks pass
    # the arguments. It always ends by raising SystemExit, as click's main did.
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in COMMANDS:  # what the main parser would find, without it
            name, rest = args[0], args[1:]
        else:
            parser = _main_parser()
            namespace = parser.parse_args(args)
            if namespace.command is None:  # click's group: the help, as an error
                parser.print_help(sys.stderr)
                sys.exit(EXIT_ERROR)
            name, rest = namespace.command, namespace.arguments
        COMMANDS[name][0](**_parse(name, rest))
    except (EOFError, KeyboardInterrupt):
        _echo(err=True)
        _echo("Aborted!", err=True)
        sys.exit(1)
    except OSError as exc:  # standard output closed early (`cfnfix rules | head -1`)
        if exc.errno != errno.EPIPE:
            raise
        sys.stdout, sys.stderr = _Pacified(sys.stdout), _Pacified(sys.stderr)
        sys.exit(1)
    sys.exit(EXIT_CLEAN)
