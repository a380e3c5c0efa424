"""Suppressions: findings a template says to ignore, in cfnfix's syntax and in the
syntaxes teams already wrote for cfn-lint, checkov, cfn_nag and cfn-guard.

- ``Metadata: {cfnfix: {ignore: [{id: RT001, reason: ...}]}}`` on a resource, or on
  the template (its top-level ``Metadata``) for every finding in the file;
- ``# cfnfix: ignore[RT001,HC] reason`` on the finding's line or the line above;
- ``Metadata.cfn-lint.config.ignore_checks``, ``Metadata.checkov.skip`` and
  ``# checkov:skip=CKV_...:reason``, ``Metadata.cfn_nag.rules_to_suppress``,
  ``Metadata.guard.SuppressedRules``: each id
  that has a cfnfix counterpart (:data:`FOREIGN_IDS`) suppresses that cfnfix rule.

An id may be any selector (rule id, name, family or prefix).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from cfnfix.nodes import Path
from cfnfix.records import Record
from cfnfix.registry import matches
from cfnfix.rule import Finding, Rule
from cfnfix.template import Template

# Other tools' rule ids -> the cfnfix rules that check the same thing.
FOREIGN_IDS: dict[str, dict[str, tuple[str, ...]]] = {
    "cfn-lint": {
        "I3011": ("RT003",),  # stateful resource without DeletionPolicy/UpdateReplacePolicy
        "I3042": ("HC002", "HC003", "HC004"),  # hardcoded partition/region/account in ARNs
        "W3010": ("HC003",),  # hardcoded availability zone
        "I3013": ("RT011",),  # auto-expiring data without an explicit retention
    },
    "checkov": {
        "CKV_AWS_116": ("DL001",),  # Lambda without a dead-letter queue
        "CKV_AWS_66": ("RT001",),  # log group without retention
        "CKV_AWS_28": ("RT005",),  # DynamoDB without point-in-time recovery
        "CKV_AWS_165": ("RT005",),  # DynamoDB global table without point-in-time recovery
        "CKV_AWS_21": ("RT008",),  # S3 bucket without versioning
        "CKV_AWS_133": ("RT006",),  # RDS without a backup policy
        "CKV_AWS_139": ("RT007",),  # RDS cluster without deletion protection
        "CKV_AWS_293": ("RT007",),  # database instance without deletion protection
    },
    "cfn-guard": {
        "S3_BUCKET_VERSIONING_ENABLED": ("RT008",),  # S3 bucket without versioning
    },
    "cfn_nag": {
        "W86": ("RT001",),  # log group without RetentionInDays
        "W28": ("HC005",),  # resource with an explicit (physical) name
        "W78": ("RT005",),  # DynamoDB table without point-in-time recovery
    },
}

_COMMENT = re.compile(r"#\s*cfnfix:\s*ignore\[([^\]]*)\]\s*(.*)$")
_CHECKOV_COMMENT = re.compile(r"#\s*checkov:skip=([A-Za-z0-9_]+)(?::\s*(.*))?$")


class Suppression(Record):
    __match_args__ = (
        "selectors",
        "reason",
        "tool",
        "resource",
        "line",
        "column",
        "own_line",
        "path",
        "written",
        "used",
    )
    __slots__ = __match_args__

    def __init__(
        self,
        selectors: tuple[str, ...],  # cfnfix selectors (foreign ids already mapped)
        reason: str | None,
        tool: str,  # "cfnfix" | "cfn-lint" | "checkov" | "cfn_nag" | "cfn-guard"
        resource: str | None = None,  # None: the whole template (or a line)
        line: int | None = None,  # comment form: the line of the comment
        column: int = 0,  # comment form: the column of its "#"
        own_line: bool = False,  # comment form: the comment is alone on its line
        path: Path = (),  # Metadata form: where the entry is written
        written: str = "",  # the id as written
        used: bool = False,
    ) -> None:
        self.selectors = selectors
        self.reason = reason
        self.tool = tool
        self.resource = resource
        self.line = line
        self.column = column
        self.own_line = own_line
        self.path = path
        self.written = written
        self.used = used

    def _values(self) -> tuple[Any, ...]:  # compared without ``used``
        return self._values_of(self.__match_args__[:-1])

    @property
    def native(self) -> bool:
        return self.tool == "cfnfix"

    def covers(self, finding: Finding, line: int) -> bool:
        if not any(matches(type(finding.rule), s) for s in self.selectors):
            return False
        if self.line is not None:
            return line == self.line or (self.own_line and line == self.line + 1)
        return self.resource is None or finding.resource == self.resource


def _entries(value: Any) -> Iterable[tuple[int, Any]]:
    return enumerate(value) if isinstance(value, list) else ()


def _from_metadata(metadata: Any, base: Path, resource: str | None) -> list[Suppression]:
    if not isinstance(metadata, dict):
        return []
    found: list[Suppression] = []
    own = metadata.get("cfnfix")
    if isinstance(own, dict):
        for i, entry in _entries(own.get("ignore")):
            path = (*base, "cfnfix", "ignore", i)
            if isinstance(entry, str):
                found.append(
                    Suppression((entry,), None, "cfnfix", resource, path=path, written=entry)
                )
            elif isinstance(entry, dict) and isinstance(entry.get("id"), str):
                reason = entry.get("reason")
                found.append(
                    Suppression(
                        (entry["id"],),
                        reason if isinstance(reason, str) and reason.strip() else None,
                        "cfnfix",
                        resource,
                        path=path,
                        written=entry["id"],
                    )
                )
    lint = metadata.get("cfn-lint")
    config = lint.get("config") if isinstance(lint, dict) else None
    checks = config.get("ignore_checks") if isinstance(config, dict) else None
    for _, check in _entries(checks):
        found.extend(_foreign("cfn-lint", check, None, resource))
    checkov = metadata.get("checkov")
    for _, entry in _entries(checkov.get("skip") if isinstance(checkov, dict) else None):
        if isinstance(entry, dict):
            found.extend(_foreign("checkov", entry.get("id"), entry.get("comment"), resource))
    guard = metadata.get("guard")
    for _, name in _entries(guard.get("SuppressedRules") if isinstance(guard, dict) else None):
        found.extend(_foreign("cfn-guard", name, None, resource))
    nag = metadata.get("cfn_nag")
    for _, entry in _entries(nag.get("rules_to_suppress") if isinstance(nag, dict) else None):
        if isinstance(entry, dict):
            found.extend(_foreign("cfn_nag", entry.get("id"), entry.get("reason"), resource))
    return found


def _foreign(
    tool: str,
    rule_id: Any,
    reason: Any,
    resource: str | None,
    line: int | None = None,
    own_line: bool = False,
) -> list[Suppression]:
    if not isinstance(rule_id, str):
        return []
    mapped = FOREIGN_IDS[tool].get(rule_id.strip())
    if not mapped:
        return []  # that tool's own business
    text = reason if isinstance(reason, str) and reason.strip() else None
    return [
        Suppression(mapped, text, tool, resource, line=line, own_line=own_line, written=rule_id)
    ]


def _from_comments(text: str) -> list[Suppression]:
    found: list[Suppression] = []
    if "cfnfix:" not in text and "checkov:" not in text:
        return found
    for number, line in enumerate(text.splitlines(), start=1):
        if "#" not in line:
            continue
        own_line = line.lstrip().startswith("#")
        match = _COMMENT.search(line)
        if match:
            selectors = tuple(s.strip() for s in match.group(1).split(",") if s.strip())
            reason = match.group(2).strip() or None
            found.append(
                Suppression(
                    selectors,
                    reason,
                    "cfnfix",
                    line=number,
                    column=match.start() + 1,
                    own_line=own_line,
                    written=match.group(1).strip(),
                )
            )
            continue
        match = _CHECKOV_COMMENT.search(line)
        if match:
            found.extend(
                _foreign("checkov", match.group(1), match.group(2), None, number, own_line)
            )
    return found


def collect(template: Template) -> list[Suppression]:
    """Every suppression written in ``template``."""
    found = _from_metadata(template.root.get("Metadata"), ("Metadata",), None)
    for resource in template.resources.values():
        found.extend(
            _from_metadata(resource.metadata, (*resource.path, "Metadata"), resource.logical_id)
        )
    if not template.source.is_json:
        found.extend(_from_comments(template.text))
    return found


def apply(
    template: Template, findings: list[Finding], suppressions: list[Suppression]
) -> list[Finding]:
    """The findings no suppression covers; marks the suppressions that were used."""
    if not suppressions:
        return findings
    kept = []
    for finding in findings:
        line = template.location(finding.path).line
        covering = [s for s in suppressions if s.covers(finding, line)]
        for s in covering:
            s.used = True
        if not covering:
            kept.append(finding)
    return kept


def anchor_path(template: Template, suppression: Suppression) -> Path:
    """Where a finding about ``suppression`` points: its Metadata entry, or for a comment
    the last resource starting at or before the comment's line (or the line after it)."""
    if suppression.line is None:
        return suppression.path
    best: Path = ()
    for resource in template.resources.values():
        if template.location(resource.path).line <= suppression.line + 1:
            best = resource.path
    return best


def ran_all(suppression: Suppression, rules: Iterable[Rule]) -> bool:
    """Whether every rule the suppression names was run (only then can it be unused)."""
    ran = [type(r) for r in rules]
    return all(any(matches(cls, s) for cls in ran) for s in suppression.selectors)
