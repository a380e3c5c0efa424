"""SP001: a suppression that suppresses nothing."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from cfnfix.changes import Change, RemoveComment, RemoveItem, RemoveKey
from cfnfix.nodes import Path, get_path
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.suppressions import Suppression, anchor_path, ran_all
from cfnfix.template import Template


def removal(template: Template, suppression: Suppression) -> Change | None:
    """The smallest change that deletes a suppression and leaves no empty container."""
    if suppression.line is not None:
        return RemoveComment(suppression.line, suppression.column)
    path: Path = suppression.path
    while len(path) > 1:
        parent_path, key = path[:-1], path[-1]
        parent: Any = get_path(template.root, parent_path)
        if len(parent) > 1:
            if isinstance(key, int):
                return RemoveItem(parent_path, key)
            return RemoveKey(parent_path, str(key))
        path = parent_path  # the only entry: remove its container instead
    return None


class UnusedSuppression(Rule):
    id = "SP001"
    name = "unused-suppression"
    family = "suppression"
    severity = Severity.WARNING
    summary = "A cfnfix suppression that matches no finding"
    what = """
Reports every cfnfix suppression (`Metadata.cfnfix.ignore` on a resource or on the
template, or a `# cfnfix: ignore[ID]` comment) that suppressed nothing in this run. It
is judged only when every rule the suppression names ran. Suppressions written for
cfn-lint, checkov and cfn_nag are those tools' business and never reported.
"""
    why = """
A suppression outlives the problem it excused: once the finding is fixed, the stale
suppression would silently hide the same problem if it came back.
"""
    fix_safety = """
The fix deletes the suppression (the list entry, or the comment; an emptied `cfnfix`
block or `Metadata` goes with it). It is **safe**: suppressions are not deployed.
"""
    fix_availability = "always"
    examples = (
        Example(
            bad="""
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Metadata:
      cfnfix:
        ignore:
          - id: RT001
            reason: kept forever for audits
    Properties:
      RetentionInDays: 365
""",
            good="""
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 365
""",
        ),
    )

    def review(
        self, template: Template, suppressions: list[Suppression], rules: Sequence[Rule]
    ) -> Iterator[Finding]:
        for suppression in suppressions:
            if suppression.used or not suppression.native or not ran_all(suppression, rules):
                continue
            change = removal(template, suppression)
            fix = Fix.safe("remove the unused suppression", change) if change else None
            message = f"suppression of {suppression.written} matches no finding"
            if suppression.line is not None:
                path = anchor_path(template, suppression)
                yield self.finding(path, f"{message} (comment on line {suppression.line})", fix=fix)
            else:
                yield self.finding(suppression.path, message, suppression.resource, fix)
