"""Finding and loading rules: entry points (group ``cfnfix.rules``) and rule directories.

Built-in rules are found exactly as a third party's are: through an entry point. An
entry point may name a module or package (every :class:`Rule` subclass defined in it or
its submodules is loaded), a Rule subclass, or a list of them.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import pkgutil
import sys
from collections.abc import Iterable
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from cfnfix.errors import ConfigError
from cfnfix.rule import Rule

ENTRY_POINT_GROUP = "cfnfix.rules"


def _rules_in_module(module: ModuleType) -> list[type[Rule]]:
    found = []
    for _, obj in inspect.getmembers(module, inspect.isclass):
        own = obj.__module__ == module.__name__ and "id" in obj.__dict__
        if own and issubclass(obj, Rule) and obj is not Rule:
            found.append(obj)
    return found


def rules_from_object(obj: Any) -> list[type[Rule]]:
    if inspect.isclass(obj) and issubclass(obj, Rule):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [rule for item in obj for rule in rules_from_object(item)]
    if isinstance(obj, ModuleType):
        found = _rules_in_module(obj)
        if hasattr(obj, "__path__"):
            for info in pkgutil.walk_packages(obj.__path__, prefix=obj.__name__ + "."):
                found.extend(_rules_in_module(importlib.import_module(info.name)))
        return found
    raise ConfigError(f"{obj!r} is not a rule, a list of rules or a module")


@cache
def entry_point_rules() -> tuple[type[Rule], ...]:
    found: list[type[Rule]] = []
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            found.extend(rules_from_object(entry.load()))
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(
                f"cannot load rules from entry point {entry.name!r} ({entry.value}): {exc}"
            ) from None
    return tuple(found)


@cache
def directory_rules(directory: Path) -> tuple[type[Rule], ...]:
    """Rules from every ``*.py`` file below ``directory``."""
    if not directory.is_dir():
        raise ConfigError(f"rules directory {directory} does not exist")
    found: list[type[Rule]] = []
    tag = hashlib.sha1(str(directory).encode()).hexdigest()[:8]
    for file in sorted(directory.rglob("*.py")):
        name = f"cfnfix_user_rules_{tag}.{file.stem}"
        spec = importlib.util.spec_from_file_location(name, file)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise ConfigError(f"cannot load rules from {file}: {exc}") from None
        found.extend(_rules_in_module(module))
    return tuple(found)


def collect(rules_dirs: Iterable[Path] = ()) -> dict[str, type[Rule]]:
    """Every available rule class by id; checks metadata and id clashes."""
    by_id: dict[str, type[Rule]] = {}
    sources = list(entry_point_rules())
    for directory in rules_dirs:
        sources.extend(directory_rules(directory.resolve()))
    for rule in sources:
        problems = rule.validate_metadata()
        if problems:
            raise ConfigError(f"rule {rule.__module__}.{rule.__name__}: {'; '.join(problems)}")
        other = by_id.get(rule.id)
        if other is not None and other is not rule:
            raise ConfigError(
                f"rule id {rule.id} is defined twice ({other.__module__} and {rule.__module__})"
            )
        by_id[rule.id] = rule
    names: dict[str, str] = {}
    for rule in by_id.values():
        if rule.name in names:
            raise ConfigError(
                f"rule name {rule.name!r} is used by {names[rule.name]} and {rule.id}"
            )
        names[rule.name] = rule.id
    return dict(sorted(by_id.items()))


def matches(rule: type[Rule], selector: str) -> bool:
    """A selector is a rule id, a rule name, a family, or an id prefix ("RT", "RT0")."""
    return selector in (rule.id, rule.name, rule.family) or (
        selector.isupper() and rule.id.startswith(selector)
    )


def _picks(rule: type[Rule], selector: str) -> bool:
    """Whether a `select` entry turns a rule on. Opt-in rules (``default_enabled = False``)
    are turned on only by their id, their name or "ALL", never by a family or prefix."""
    if selector == "ALL" or selector in (rule.id, rule.name):
        return True
    return rule.default_enabled and matches(rule, selector)


def select(
    rules: dict[str, type[Rule]], select: Iterable[str], ignore: Iterable[str]
) -> list[type[Rule]]:
    selectors = list(select)
    ignored = list(ignore)
    for selector in [*selectors, *ignored]:
        if selector != "ALL" and not any(matches(r, selector) for r in rules.values()):
            raise ConfigError(f"unknown rule selector {selector!r} (not an id, name or family)")
    chosen = []
    for rule in rules.values():
        picked = any(_picks(rule, s) for s in selectors) if selectors else rule.default_enabled
        if picked and not any(matches(rule, s) for s in ignored):
            chosen.append(rule)
    return chosen
