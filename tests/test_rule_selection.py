"""Which rules a `select` turns on: opt-in rules (``default_enabled = False``) run only
when named by id or name, or by "ALL"; families and prefixes turn on default rules."""

from __future__ import annotations

from cfnfix import registry
from cfnfix.rule import Rule


class _OnByDefault(Rule):
    id = "ZZ001"
    name = "zz-on"
    family = "zz"
    summary = what = why = "test rule"


class _OptIn(Rule):
    id = "ZZ002"
    name = "zz-opt-in"
    family = "zz"
    summary = what = why = "test rule"
    default_enabled = False


RULES: dict[str, type[Rule]] = {"ZZ001": _OnByDefault, "ZZ002": _OptIn}


def ids(select: list[str], ignore: list[str] | None = None) -> list[str]:
    return [rule.id for rule in registry.select(RULES, select, ignore or [])]


def test_no_select_runs_default_rules_only() -> None:
    assert ids([]) == ["ZZ001"]


def test_family_and_prefix_do_not_turn_on_opt_in_rules() -> None:
    assert ids(["zz"]) == ["ZZ001"]
    assert ids(["ZZ"]) == ["ZZ001"]


def test_id_name_or_all_turn_on_opt_in_rules() -> None:
    assert ids(["ZZ002"]) == ["ZZ002"]
    assert ids(["zz-opt-in"]) == ["ZZ002"]
    assert ids(["ALL"]) == ["ZZ001", "ZZ002"]
    assert ids(["ALL"], ["ZZ002"]) == ["ZZ001"]
