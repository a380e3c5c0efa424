"""CO001: a Lambda function left at the 3-second default timeout."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix_rules.dead_letter._refs import FUNCTION_TYPES

from cfnfix.rule import Example, Finding, Rule, Severity
from cfnfix.template import Template

from ._functions import readable_functions


class FunctionWithoutTimeout(Rule):
    id = "CO001"
    name = "function-without-timeout"
    family = "cost"
    severity = Severity.INFO
    resource_types = FUNCTION_TYPES
    summary = "Lambda function without Timeout (the default is 3 seconds)"
    what = """
Reports an `AWS::Lambda::Function` or `AWS::Serverless::Function` with no `Timeout`,
SAM `Globals.Function.Timeout` included. A `Timeout` given by a parameter or condition
counts as set.
"""
    why = """
Without `Timeout`, Lambda stops the function after **3 seconds**. That is rarely what the
author meant for anything that downloads, transforms or uploads an object (the seed's S3
image processing): large inputs time out, are retried twice (billed each time) and then
dropped. Stating the timeout makes it a decision: long enough for the largest input, short
enough that a hung call does not bill for 15 minutes.
"""
    fix_safety = """
There is no fix. Writing `Timeout: 3` would keep the behaviour but only silence the
finding; any other value changes how long (and how expensively) failing invocations run,
which only the author can decide from the work the function does.
"""
    examples = (
        Example(
            bad="""
Resources:
  Thumbnailer:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/thumbnailer
      Code: {ZipFile: "def handler(event, context): pass"}
""",
            good="""
Resources:
  Thumbnailer:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/thumbnailer
      Code: {ZipFile: "def handler(event, context): pass"}
      Timeout: 60
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for function, props in readable_functions(template):
            if "Timeout" not in props:
                yield self.finding(
                    function.path,
                    "function has no Timeout: Lambda stops it after 3 seconds, the default",
                )
