"""SE016: a function that turns off Lambda's recursive loop detection."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.changes import ReplaceValue
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ..dead_letter._refs import FUNCTION_TYPES


class RecursiveLoopAllowed(Rule):
    id = "SE016"
    name = "recursive-loop-allowed"
    family = "security"
    severity = Severity.WARNING
    resource_types = FUNCTION_TYPES
    summary = "Lambda function with `RecursiveLoop: Allow` (loop detection turned off)"
    what = """
Reports an `AWS::Lambda::Function` or `AWS::Serverless::Function` (SAM `Globals`
included) whose `RecursiveLoop` is `Allow`.
"""
    why = """
By default (`Terminate`) Lambda stops a chain of invocations that loops through SQS, SNS
or S3 back to the same function after about 16 rounds. `Allow` removes that safety net:
a function that writes to what triggers it (SE015) then runs and bills without end.
Keep `Allow` only for a deliberately recursive design, with its own guard, and say so in
a suppression.
"""
    fix_safety = """
The fix sets `RecursiveLoop` to `Terminate` (an in-place update). It is **unsafe**: a
function that recurses on purpose stops after 16 rounds.
"""
    fix_availability = "always"
    examples = (
        Example(
            bad="""
Resources:
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/worker'
      Code: {ZipFile: "def handler(event, context): pass"}
      RecursiveLoop: Allow
""",
            good="""
Resources:
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/worker'
      Code: {ZipFile: "def handler(event, context): pass"}
      RecursiveLoop: Terminate
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        flagged_globals = False
        for function in template.resources_of(*FUNCTION_TYPES):
            if function.properties.get("RecursiveLoop") == "Allow":
                path = function.prop_path("RecursiveLoop")
            elif (
                "RecursiveLoop" not in function.properties
                and template.effective_properties(function).get("RecursiveLoop") == "Allow"
            ):
                if flagged_globals:
                    continue
                flagged_globals = True
                path = ("Globals", "Function", "RecursiveLoop")
            else:
                continue
            yield self.finding(
                path,
                "RecursiveLoop: Allow turns off Lambda's recursive loop detection: a loop "
                "through SQS, SNS or S3 back to this function would never stop",
                resource=None if path[0] == "Globals" else function.logical_id,
                fix=Fix.unsafe("set RecursiveLoop to Terminate", ReplaceValue(path, "Terminate")),
            )
