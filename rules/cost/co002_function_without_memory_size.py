"""CO002: a Lambda function left at the default 128 MB."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix_rules.dead_letter._refs import FUNCTION_TYPES

from cfnfix.rule import Example, Finding, Rule, Severity
from cfnfix.template import Template

from ._functions import readable_functions


class FunctionWithoutMemorySize(Rule):
    id = "CO002"
    name = "function-without-memory-size"
    family = "cost"
    severity = Severity.INFO
    resource_types = FUNCTION_TYPES
    summary = "Lambda function without MemorySize (the default is 128 MB)"
    what = """
Reports an `AWS::Lambda::Function` or `AWS::Serverless::Function` with no `MemorySize`,
SAM `Globals.Function.MemorySize` included. An explicit value, even 128, or one given by
a parameter or condition, is a decision and is not reported.
"""
    why = """
Lambda allocates CPU in proportion to memory: at the default 128 MB a function gets a
fraction of a vCPU, so CPU-bound work (decoding and resizing images, compression, JSON of
any size) runs many times slower and, billed per millisecond, often costs *more* than
with more memory. The right size is measured (AWS Lambda Power Tuning), not defaulted.
"""
    fix_safety = """
There is no fix: `MemorySize: 128` would only silence the finding, and any other value
changes cost and speed in a way only a measurement can justify.
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
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    MemorySize: 1024
Resources:
  Thumbnailer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for function, props in readable_functions(template):
            if "MemorySize" not in props:
                yield self.finding(
                    function.path,
                    "function has no MemorySize: it runs with 128 MB and the small share of "
                    "CPU that comes with it",
                )
