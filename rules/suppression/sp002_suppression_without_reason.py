"""SP002: a suppression that does not say why."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from cfnfix.rule import Example, Finding, Rule, Severity
from cfnfix.suppressions import Suppression, anchor_path
from cfnfix.template import Template


class SuppressionWithoutReason(Rule):
    id = "SP002"
    name = "suppression-without-reason"
    family = "suppression"
    severity = Severity.WARNING
    summary = "A cfnfix suppression without a reason"
    what = """
Reports cfnfix suppressions that give no reason: a `Metadata.cfnfix.ignore` entry that
is a bare id or has no `reason`, or a `# cfnfix: ignore[ID]` comment with nothing after
the brackets.
"""
    why = """
The next reader cannot tell a deliberate exception from a silenced problem, nor when the
exception stops being needed.
"""
    fix_safety = "There is no fix: only you know the reason. Add one."
    examples = (
        Example(
            bad="""
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Metadata:
      cfnfix:
        ignore: [RT001]
""",
            good="""
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Metadata:
      cfnfix:
        ignore:
          - id: RT001
            reason: audit logs are kept forever by policy
""",
        ),
    )

    def review(
        self, template: Template, suppressions: list[Suppression], rules: Sequence[Rule]
    ) -> Iterator[Finding]:
        for suppression in suppressions:
            if not suppression.native or suppression.reason:
                continue
            message = f"suppression of {suppression.written} gives no reason"
            if suppression.line is not None:
                path = anchor_path(template, suppression)
                yield self.finding(path, f"{message} (comment on line {suppression.line})")
            else:
                yield self.finding(suppression.path, message, suppression.resource)
