"""Finding and loading rules: entry points (group ``cfnfix.rules``) and rule directories.

Built-in rules are found exactly as a third party's are: through an entry point. An
entry point may name a module or package (every :class:`Rule` subclass defined in it or
its submodules is loaded), a Rule subclass, or a list of them.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import re
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

from cfnfix import manifest
from cfnfix.errors import ConfigError
from cfnfix.rule import Rule

ENTRY_POINT_GROUP = "cfnfix.rules"


def _rules_in_module(module: ModuleType) -> list[type[Rule]]:
    found = []
    for obj in list(vars(module).values()):  # collect() orders rules by id
        if not isinstance(obj, type) or obj is Rule or not issubclass(obj, Rule):
            continue
        if obj.__module__ == module.__name__ and "id" in obj.__dict__:
            found.append(obj)
    return found


def rules_from_object(obj: Any) -> list[type[Rule]]:
    if isinstance(obj, type) and issubclass(obj, Rule):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [rule for item in obj for rule in rules_from_object(item)]
    if isinstance(obj, ModuleType):
        found = _rules_in_module(obj)
        if hasattr(obj, "__path__"):
            import pkgutil

            for info in pkgutil.walk_packages(obj.__path__, prefix=obj.__name__ + "."):
                found.extend(_rules_in_module(importlib.import_module(info.name)))
        return found
    raise ConfigError(f"{obj!r} is not a rule, a list of rules or a module")


class EntryPoint(NamedTuple):
    name: str
    value: str  # "module" or "module:attribute.attribute", maybe followed by "[extras]"

    def _target(self) -> tuple[str, str | None]:
        """(module, attribute path or None when it names only a module), extras dropped."""
        module, colon, attribute = self.value.split("[")[0].strip().partition(":")
        return module.strip(), attribute.strip() if colon else None

    @property
    def package(self) -> str | None:
        """The module it names, when it names only a module (which may have a manifest)."""
        module, attribute = self._target()
        return module if attribute is None else None

    def load(self) -> Any:
        module, attribute = self._target()
        obj: Any = importlib.import_module(module)
        for part in filter(None, (attribute or "").split(".")):
            obj = getattr(obj, part)
        return obj


_DIST_DIR = re.compile(r"^([^-]+)(-.*)?\.(dist-info|egg-info)$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[-_.]+")


def _group_entries(text: str, group: str) -> list[EntryPoint]:
    """The entries of ``[group]`` in an ``entry_points.txt`` (INI syntax)."""
    found: list[EntryPoint] = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            inside = line[1:-1].strip() == group
        elif inside and "=" in line:
            name, _, value = line.partition("=")
            found.append(EntryPoint(name.strip(), value.strip()))
    return found


def _scan_entry_points(group: str) -> list[EntryPoint] | None:
    """Entry points of ``group`` as :func:`importlib.metadata.entry_points` finds them
    (the first distribution of a name on ``sys.path`` wins), reading only the
    ``entry_points.txt`` files. Importing ``importlib.metadata`` and parsing every
    installed distribution's metadata costs more than a whole check of a small template.
    ``None`` when the path holds something only importlib.metadata can read (a zip, or
    a custom finder of distributions)."""
    for finder in sys.meta_path:
        standard = finder is importlib.machinery.PathFinder
        if not standard and getattr(finder, "find_distributions", None) is not None:
            return None
    seen: set[str] = set()
    found: list[EntryPoint] = []
    for entry in sys.path:
        directory = entry or "."
        try:
            names = os.listdir(directory)
        except NotADirectoryError:
            return None
        except OSError:
            continue
        for name in names:
            if not name.endswith(("-info", "-INFO")):
                continue
            match = _DIST_DIR.match(name)
            if match is None:
                continue
            distribution = _SEPARATORS.sub("_", match.group(1)).lower()
            if distribution in seen:
                continue
            seen.add(distribution)
            try:  # read as bytes: cheaper than a text file for ~130 small files
                with open(os.path.join(directory, name, "entry_points.txt"), "rb") as f:
                    text = f.read().decode("utf-8")
            except OSError:
                continue
            if group in text:
                found.extend(_group_entries(text, group))
    return found


def entry_points_of(group: str) -> list[EntryPoint]:
    found = _scan_entry_points(group)
    if found is None:
        from importlib.metadata import entry_points

        found = [EntryPoint(e.name, e.value) for e in entry_points(group=group)]
    return sorted(found, key=lambda e: e.name)


@cache
def entry_point_rules(deferred: bool = False) -> tuple[type[Rule], ...]:
    """The rules of every entry point. ``deferred``: a package with a manifest gives its
    rules' stand-ins, and none of its modules is imported (see :mod:`cfnfix.manifest`)."""
    found: list[type[Rule]] = []
    for entry in entry_points_of(ENTRY_POINT_GROUP):
        try:
            listed = manifest.read(entry.package) if deferred and entry.package else None
            found.extend(rules_from_object(entry.load()) if listed is None else listed)
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
    import hashlib

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


def check_metadata(rule: type[Rule]) -> None:
    problems = rule.validate_metadata()
    if problems:
        raise ConfigError(f"rule {rule.__module__}.{rule.__name__}: {'; '.join(problems)}")


def collect(rules_dirs: Iterable[Path] = (), deferred: bool = False) -> dict[str, type[Rule]]:
    """Every available rule class by id; checks metadata and id clashes.

    ``deferred``: rules listed in a package's manifest are their stand-ins, whose modules
    are imported only when they run (what checking and fixing use; whatever shows a
    rule's documentation wants the rules themselves).

    Computed once per set of rule directories (a run asks for the command line's and each
    configuration's); the loaded modules are cached the same way."""
    return dict(_collect(tuple(directory.resolve() for directory in rules_dirs), deferred))


@cache
def _collect(rules_dirs: tuple[Path, ...], deferred: bool) -> dict[str, type[Rule]]:
    by_id: dict[str, type[Rule]] = {}
    sources = list(entry_point_rules(deferred))
    for directory in rules_dirs:
        sources.extend(directory_rules(directory))
    for rule in sources:
        # A manifest's rules were checked when it was built (and again when they load).
        if not issubclass(rule, manifest.Deferred):
            check_metadata(rule)
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
    _LOADED.update(by_id)
    return dict(sorted(by_id.items()))


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or nothing."""
    import difflib

    pool = list(dict.fromkeys(candidates))
    folded = {c.lower(): c for c in pool}
    if word.lower() in folded:  # "rt001", "Retention"
        return f" (did you mean {folded[word.lower()]!r}?)"
    close = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def selector_problems(
    rules: dict[str, type[Rule]], selectors: Iterable[str], where: str = ""
) -> list[str]:
    """One message per selector that matches no rule, each once, with a suggestion."""
    problems = []
    prefix = f"{where}: " if where else ""
    for selector in dict.fromkeys(selectors):
        if selector == "ALL" or any(matches(r, selector) for r in rules.values()):
            continue
        known = [name for r in rules.values() for name in (r.id, r.name, r.family)]
        problems.append(
            f"{prefix}unknown rule selector {selector!r} (not an id, name or family)"
            + did_you_mean(selector, known)
        )
    return problems


_LOADED: dict[str, type[Rule]] = {}


def known_rules() -> dict[str, type[Rule]]:
    """Every rule loaded in this process so far (entry points and rule directories), by
    id: what a suppression may name."""
    if not _LOADED:
        collect(deferred=True)
    return _LOADED


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
    problems = selector_problems(rules, [*selectors, *ignored])
    if problems:
        raise ConfigError("\n".join(problems))
    chosen = []
    for rule in rules.values():
        picked = any(_picks(rule, s) for s in selectors) if selectors else rule.default_enabled
        if picked and not any(matches(rule, s) for s in ignored):
            chosen.append(rule)
    return chosen
