"""SE008: a Lambda function whose environment variables no customer-managed key protects."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.changes import set_property
from cfnfix.intrinsics import GetAtt
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ..dead_letter._refs import FUNCTION_TYPES, get, has_value
from ..retention._values import readable
from ._kms import example_key, pick_key

_KEY = example_key("Key", "lambda.amazonaws.com", ["kms:Decrypt"])
_FUNCTION = """  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
"""


class FunctionEnvironmentWithoutKmsKey(Rule):
    id = "SE008"
    name = "function-environment-without-kms-key"
    family = "security"
    severity = Severity.INFO
    resource_types = FUNCTION_TYPES
    default_enabled = False  # a compliance choice most functions do not need
    summary = "Lambda function with environment variables and no KmsKeyArn"
    what = """
Reports an `AWS::Lambda::Function` or `AWS::Serverless::Function` that has environment
variables (`Environment.Variables`, for SAM also from `Globals.Function`) and no
`KmsKeyArn`. Functions without environment variables are not reported. Opt-in (select
`SE008` or `function-environment-without-kms-key`): the AWS-managed key is the right
choice for most functions, and a fix is possible only when the template has a key for it.
"""
    why = """
Lambda encrypts environment variables at rest with the AWS-managed key `aws/lambda`, so
anyone who may read the function's configuration (`lambda:GetFunctionConfiguration`)
sees them in clear text. Variables tend to collect secrets (API keys, connection
strings); a customer-managed key makes reading them depend on a key policy too
(informational; secrets belong in Secrets Manager or SSM Parameter Store anyway).
"""
    fix_safety = """
A fix exists only when the template's key is the sound choice (see SE002). It sets
`KmsKeyArn` to that key's ARN and is **unsafe**: whoever deploys the stack then needs
`kms:Encrypt` and `kms:CreateGrant` on the key, and the function cannot start while the
key is disabled or its grant revoked.
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad=f"""
Transform: AWS::Serverless-2016-10-31
Resources:
{_KEY}{_FUNCTION}      Environment:
        Variables:
          TABLE: images
""",
            good=f"""
Transform: AWS::Serverless-2016-10-31
Resources:
{_KEY}{_FUNCTION}      KmsKeyArn: !GetAtt Key.Arn
      Environment:
        Variables:
          TABLE: images
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for function in readable(template, *FUNCTION_TYPES):
            props = template.effective_properties(function)
            if has_value(props.get("KmsKeyArn")):
                continue
            variables = get(props, "Environment", "Variables")
            if not has_value(variables):
                continue
            yield self.finding(
                function.path,
                "function has environment variables but no KmsKeyArn: they are readable by "
                "anyone who may read its configuration",
                fix=self._fix(template, function),
            )

    def _fix(self, template: Template, function: Resource) -> Fix | None:
        key = pick_key(template, function)
        if key is None:
            return None
        return Fix.unsafe(
            f"encrypt the environment with the template's key {key.logical_id}",
            set_property(function.logical_id, "KmsKeyArn", GetAtt(key.logical_id, "Arn")),
        )
