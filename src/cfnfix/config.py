"""Configuration: ``[tool.cfnfix]`` in pyproject.toml or a ``.cfnfix.toml``.

The nearest file from a template's directory upward applies; command-line options
override it. Files are validated with JSON Schema so mistakes name the file and key.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Final

from cfnfix.errors import ConfigError
from cfnfix.records import Record
from cfnfix.settings import DEFAULT_REQUIRED_TAGS
from cfnfix.source import DEFAULT_MAX_BYTES

CONFIG_FILES = (".cfnfix.toml", "pyproject.toml")

_SELECTORS = {"type": "array", "items": {"type": "string", "minLength": 1}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "select": {**_SELECTORS, "description": "rules to run (ids, names, families, prefixes)"},
        "ignore": {**_SELECTORS, "description": "rules not to run"},
        "exclude": {**_SELECTORS, "description": "glob patterns of paths to skip"},
        "rules-dir": {**_SELECTORS, "description": "directories of extra rules"},
        "max-file-size": {"type": "integer", "minimum": 1, "description": "bytes"},
        "max-nesting-depth": {"type": "integer", "minimum": 1, "maximum": 400},
        "max-alias-nodes": {"type": "integer", "minimum": 0, "description": "alias expansion"},
        "respect-gitignore": {
            "type": "boolean",
            "description": "skip files .gitignore ignores while walking directories",
        },
        "required-tags": {
            "type": "object",
            "description": "tag key -> the value fixes write (a string, or {Ref: Name})",
            "additionalProperties": {"type": ["string", "object", "null"]},
        },
        "rules": {
            "type": "object",
            "description": "options per rule, by id or name",
            "additionalProperties": {"type": "object"},
        },
    },
}


class Config(Record):
    __match_args__ = (
        "path",
        "select",
        "ignore",
        "exclude",
        "rules_dirs",
        "max_file_size",
        "max_nesting_depth",
        "max_alias_nodes",
        "respect_gitignore",
        "rule_options",
        "required_tags",
    )
    __slots__ = __match_args__
    # Compared and hashed by identity (cached per file).
    __eq__ = object.__eq__
    __hash__ = object.__hash__  # type: ignore[assignment]

    def __init__(
        self,
        path: Path | None = None,  # the file it came from
        select: tuple[str, ...] = (),
        ignore: tuple[str, ...] = (),
        exclude: tuple[str, ...] = (),
        rules_dirs: tuple[Path, ...] = (),
        max_file_size: int = DEFAULT_MAX_BYTES,
        max_nesting_depth: int = 400,
        max_alias_nodes: int = 2_000_000,
        respect_gitignore: bool = True,
        rule_options: dict[str, dict[str, Any]] | None = None,
        required_tags: dict[str, Any] | None = None,
    ) -> None:
        self.path: Final = path
        self.select: Final = select
        self.ignore: Final = ignore
        self.exclude: Final = exclude
        self.rules_dirs: Final = rules_dirs
        self.max_file_size: Final = max_file_size
        self.max_nesting_depth: Final = max_nesting_depth
        self.max_alias_nodes: Final = max_alias_nodes
        self.respect_gitignore: Final = respect_gitignore
        self.rule_options: Final = {} if rule_options is None else rule_options
        self.required_tags: Final = (
            dict(DEFAULT_REQUIRED_TAGS) if required_tags is None else required_tags
        )

    @property
    def root(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def with_overrides(self, **overrides: Any) -> Config:
        fields = dict(zip(self.__match_args__, self._values(), strict=True))
        return Config(**{**fields, **{k: v for k, v in overrides.items() if v}})


def _validate(data: Any, schema: dict[str, Any], where: str) -> None:
    """Every problem, one line each (unknown keys with a did-you-mean suggestion)."""
    import importlib

    # Imported only when there is something to validate: it is slow to import.
    jsonschema: Any = importlib.import_module("jsonschema")
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    problems = []
    for error in errors:
        key = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {})
            for unknown in sorted(k for k in error.instance if k not in known):
                name = f"{key}.{unknown}" if key else unknown
                problems.append(f"{where}: {name}: unknown key{_suggestion(unknown, known)}")
            continue
        problems.append(f"{where}: {key or '(top level)'}: {error.message}")
    if problems:
        raise ConfigError("\n".join(problems))


def _suggestion(word: str, candidates: Any) -> str:
    from cfnfix.registry import did_you_mean

    return did_you_mean(word, list(candidates))


def parse_config(path: Path) -> Config | None:
    """The cfnfix section of ``path``; ``None`` for a pyproject.toml without one."""
    import tomllib  # only when there is a configuration file to read

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        section = data.get("tool", {}).get("cfnfix")
        if section is None:
            return None
        where = f"{path} [tool.cfnfix]"
    else:
        section = data
        where = str(path)
    _validate(section, SCHEMA, where)
    base = path.parent
    return Config(
        path=path,
        select=tuple(section.get("select", ())),
        ignore=tuple(section.get("ignore", ())),
        exclude=tuple(section.get("exclude", ())),
        rules_dirs=tuple((base / d) for d in section.get("rules-dir", ())),
        max_file_size=section.get("max-file-size", DEFAULT_MAX_BYTES),
        max_nesting_depth=section.get("max-nesting-depth", 400),
        max_alias_nodes=section.get("max-alias-nodes", 2_000_000),
        respect_gitignore=section.get("respect-gitignore", True),
        rule_options=dict(section.get("rules", {})),
        required_tags={
            key: "true" if value is None else value
            for key, value in section.get("required-tags", DEFAULT_REQUIRED_TAGS).items()
        },
    )


@cache
def find_config(directory: Path) -> Config:
    """The configuration that applies to files in ``directory``."""
    for folder in (directory, *directory.parents):
        for name in CONFIG_FILES:
            candidate = folder / name
            if candidate.is_file():
                config = parse_config(candidate)
                if config is not None:
                    return config
    return Config()


def validate_rule_options(
    config: Config, rule_id: str, schema: dict[str, Any], options: Any
) -> None:
    where = f"{config.path or 'command line'}: rules.{rule_id}"
    _validate(
        options,
        {"type": "object", "additionalProperties": False, "properties": schema},
        where,
    )


def problems(config: Config, available: dict[str, Any]) -> list[str]:
    """What is wrong with ``config`` given the ``available`` rules (id -> rule class):
    unknown selectors, unknown rules and wrong rule options, one line each."""
    from cfnfix.registry import did_you_mean, selector_problems

    where = str(config.path or "configuration")
    found = selector_problems(available, [*config.select, *config.ignore], where)
    by_name = {rule.name: rule.id for rule in available.values()}
    for key, value in config.rule_options.items():
        rule_id = by_name.get(key, key)
        if rule_id not in available:
            names = [*available, *by_name]
            found.append(f"{where}: rules.{key}: no such rule{did_you_mean(key, names)}")
            continue
        try:
            validate_rule_options(config, key, available[rule_id].options_schema, value)
        except ConfigError as exc:
            found.extend(str(exc).splitlines())
    return found
