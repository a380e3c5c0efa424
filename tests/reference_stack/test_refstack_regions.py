"""Issue 13, item 2: the template deploys in every account and region cfn-lint knows.

cfn-lint (the pinned 1.51.0 oracle) checks the template in every region at once; then the
template is *instantiated* for chosen parameter values and regions (conditions evaluated,
``Fn::If`` resolved, ``AWS::NoValue`` dropped, conditional resources removed) and each
instance is linted in its region: what CloudFormation would really create there.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cfn_flip import load_yaml
from refstack_support import TEMPLATE

_NO_VALUE = object()


def lint(path: Path, regions: list[str]) -> list[str]:
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(path, ManualArgs(include_checks=["I"], regions=regions))
    return [f"{m.rule.id} {m.linenumber}: {m.message}" for m in matches]


def test_cfn_lint_reports_nothing_in_any_region() -> None:
    """`cfn-lint -c I --regions ALL_REGIONS`: the budget exists only where the type does."""
    from cfnlint.helpers import REGIONS

    assert len(REGIONS) > 40
    assert lint(TEMPLATE, list(REGIONS)) == []


# --- instantiating the template -------------------------------------------------------------


def _value(node: Any, params: dict[str, str], region: str) -> Any:
    if isinstance(node, dict) and set(node) == {"Ref"}:
        return region if node["Ref"] == "AWS::Region" else params[node["Ref"]]
    return str(node)


def condition_value(
    node: Any, conditions: dict[str, Any], params: dict[str, str], region: str
) -> bool:
    (function, args), *rest = node.items()
    assert not rest, node
    if function == "Condition":
        return condition_value(conditions[args], conditions, params, region)
    if function == "Fn::Equals":
        left, right = (_value(a, params, region) for a in args)
        return bool(str(left) == str(right))
    if function == "Fn::Not":
        return not condition_value(args[0], conditions, params, region)
    values = [condition_value(a, conditions, params, region) for a in args]
    if function == "Fn::And":
        return all(values)
    if function == "Fn::Or":
        return any(values)
    raise AssertionError(f"unsupported condition function {function}")


def instantiate(template: dict[str, Any], values: dict[str, str], region: str) -> dict[str, Any]:
    """The template CloudFormation would deploy for these parameter values in ``region``."""
    params = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    params.update(values)
    conditions = template.get("Conditions", {})
    truth = {name: condition_value(c, conditions, params, region) for name, c in conditions.items()}

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, yes, no = node["Fn::If"]
                return resolve(yes if truth[name] else no)
            if node == {"Ref": "AWS::NoValue"}:
                return _NO_VALUE
            resolved = {k: resolve(v) for k, v in node.items()}
            return {k: v for k, v in resolved.items() if v is not _NO_VALUE}
        if isinstance(node, list):
            return [v for v in (resolve(item) for item in node) if v is not _NO_VALUE]
        return node

    out = copy.deepcopy(template)
    out.pop("Conditions", None)
    out.pop("Rules", None)
    out.get("Metadata", {}).pop("AWS::CloudFormation::Interface", None)  # console layout only
    for section in ("Resources", "Outputs"):
        kept = {}
        for name, body in out.get(section, {}).items():
            if truth.get(body.get("Condition", ""), True):
                kept[name] = resolve({k: v for k, v in body.items() if k != "Condition"})
        out[section] = kept
    text = json.dumps(out["Resources"]) + json.dumps(out["Outputs"])
    for name in list(out["Parameters"]):
        parameter = out["Parameters"][name]
        if f'"Ref": "{name}"' not in text and f"${{{name}}}" not in text:
            del out["Parameters"][name]  # only used by conditions, now evaluated
        elif name in values:  # typed like the template's own values
            number = parameter["Type"] == "Number"
            parameter["Default"] = int(values[name]) if number else values[name]
    return dict(out)


VARIANTS = [
    # (parameter values, region, budget expected)
    ({"CreateBudget": "false"}, "us-east-1", False),
    ({"CreateBudget": "true"}, "us-east-1", True),
    ({"CreateBudget": "true"}, "ap-southeast-5", False),  # no AWS::Budgets::Budget there
    ({"CreateBudget": "true"}, "us-gov-west-1", False),
    ({"CreateBudget": "true", "Architecture": "x86_64"}, "eu-central-2", False),
]
REQUIRED = {"ArtifactBucket": "my-artifacts", "AlarmEmail": "ops@example.com"}


@pytest.fixture(scope="module")
def source() -> dict[str, Any]:
    return dict(load_yaml(TEMPLATE.read_text()))


@pytest.mark.parametrize(
    ("values", "region", "budget"),
    VARIANTS,
    ids=[f"{'-'.join(f'{k}={v}' for k, v in v.items())}@{r}" for v, r, _ in VARIANTS],
)
def test_instance_is_valid_in_its_region(
    source: dict[str, Any],
    tmp_path: Path,
    values: dict[str, str],
    region: str,
    budget: bool,
) -> None:
    instance = instantiate(source, {**REQUIRED, **values}, region)
    assert ("MonthlyCostBudget" in instance["Resources"]) is budget
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(instance, indent=1))
    assert lint(path, [region]) == []


def test_reserved_concurrency_zero_means_unreserved(source: dict[str, Any]) -> None:
    parameter = source["Parameters"]["ReservedConcurrency"]
    assert parameter["MinValue"] == 0 and parameter["Default"] == 0  # new accounts: quota 10
    unreserved = instantiate(source, {**REQUIRED, "ReservedConcurrency": "0"}, "us-east-1")
    function = unreserved["Resources"]["ProcessorFunction"]["Properties"]
    assert "ReservedConcurrentExecutions" not in function
    reserved = instantiate(source, {**REQUIRED, "ReservedConcurrency": "5"}, "us-east-1")
    function = reserved["Resources"]["ProcessorFunction"]["Properties"]
    assert function["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}


def test_architecture_is_a_parameter(source: dict[str, Any]) -> None:
    instance = instantiate(source, {**REQUIRED, "Architecture": "x86_64"}, "us-east-1")
    function = instance["Resources"]["ProcessorFunction"]["Properties"]
    assert function["Architectures"] == [{"Ref": "Architecture"}]
    assert instance["Parameters"]["Architecture"]["Default"] == "x86_64"
