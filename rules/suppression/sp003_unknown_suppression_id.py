"""SP003: a suppression that names no rule cfnfix knows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from cfnfix.registry import did_you_mean, known_rules, matches
from cfnfix.rule import Example, Finding, Rule, Severity
from cfnfix.suppressions import Suppression, anchor_path
from cfnfix.template import Template


class UnknownSuppressionId(Rule):
    id = "SP003"
    name = "unknown-suppression-id"
    family = "suppression"
    severity = Severity.WARNING
    summary = "A cfnfix suppression naming a rule that does not exist"
    what = """
Reports each id in a cfnfix suppression (`Metadata.cfnfix.ignore` on a resource or on
the template, or a `# cfnfix: ignore[ID]` comment) that is not the id, name, family or
id prefix of any rule cfnfix knows (built-in rules, plugins and `--rules-dir` rules),
with the closest known id as a suggestion. Ids written for cfn-lint, checkov and
cfn_nag are those tools' business and never reported.
"""
    why = """
A misspelt suppression suppresses nothing, so the finding it was written for is still
reported, or, once the id is later reused, it silently hides a different rule. SP001
cannot report it as unused: it never names a rule that ran.
"""
    fix_safety = "There is no fix: only you know which rule was meant."
    examples = (
        Example(
            bad="""
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Metadata:
      cfnfix:
        ignore:
          - id: RT0001
            reason: audit logs are kept forever by policy
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
        known = {**known_rules(), **{rule.id: type(rule) for rule in rules}}
        names = [name for cls in known.values() for name in (cls.id, cls.name, cls.family)]
        for suppression in suppressions:
            if not suppression.native:
                continue
            for selector in suppression.selectors:
                if selector == "ALL" or any(matches(cls, selector) for cls in known.values()):
                    continue
                message = f"suppression names unknown rule {selector!r}" + did_you_mean(
                    selector, names
                )
                if suppression.line is not None:
                    path = anchor_path(template, suppression)
                    yield self.finding(path, f"{message} (comment on line {suppression.line})")
                else:
                    yield self.finding(suppression.path, message, suppression.resource)
