"""SE013: an execution role with an administrator-like AWS managed policy."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.rule import Example, Finding, Rule, Severity
from cfnfix.template import Template

from ._iam import (
    ADMIN_POLICIES,
    ROLE_TYPE,
    SAM_POLICY_OWNERS,
    managed_policy_names,
    trusted_services,
)


class ExecutionRoleWithAdminPolicy(Rule):
    id = "SE013"
    name = "execution-role-with-admin-policy"
    family = "security"
    severity = Severity.ERROR
    resource_types = (ROLE_TYPE, *SAM_POLICY_OWNERS)  # what check() walks
    summary = "Execution role with `AdministratorAccess`-like or `*FullAccess` managed policy"
    what = """
Reports an AWS managed policy that grants administrator rights, or full access to a
service, attached to an **execution role**: an `AWS::IAM::Role` whose trust policy lets
a service assume it (`lambda.amazonaws.com`, `states.amazonaws.com`,
`ecs-tasks.amazonaws.com`...), through `ManagedPolicyArns`
(`arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess`), or a SAM function or
state machine through `Policies` (`- AdministratorAccess`).

`AdministratorAccess`, `PowerUserAccess` and `IAMFullAccess` (which can grant itself
anything) are errors; any other `...FullAccess` policy (`AmazonS3FullAccess`,
`AmazonDynamoDBFullAccess`) is a warning. Roles that people or CI systems assume
(account or federated principals) are not execution roles and are not reported.
"""
    why = """
An execution role is what the code runs as. With `AdministratorAccess`, a bug or a
compromised dependency in the function owns the account; with `AmazonS3FullAccess` it
can read, overwrite or delete every bucket of the account. Use a policy that names the
actions and resources (inline statements, or SAM policy templates such as
`S3ReadPolicy`).
"""
    fix_safety = "This rule has no fix: only the author knows which permissions the code needs."
    examples = (
        Example(
            bad="""
Transform: AWS::Serverless-2016-10-31
Resources:
  Processor:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Policies:
        - AdministratorAccess
""",
            good="""
Transform: AWS::Serverless-2016-10-31
Resources:
  Processor:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Policies:
        - S3ReadPolicy:
            BucketName: !Sub 'uploads-${AWS::AccountId}'
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for resource in template.resources_of(ROLE_TYPE, *SAM_POLICY_OWNERS):
            if resource.type == ROLE_TYPE:
                services = trusted_services(resource)
                if not services:
                    continue
                holder = f"execution role (assumed by {', '.join(dict.fromkeys(services))})"
            else:
                holder = "the execution role SAM generates for this resource"
            for path, name in managed_policy_names(template, resource):
                if name in ADMIN_POLICIES:
                    severity = None
                    what = "administrator rights"
                elif name.endswith("FullAccess"):
                    severity = Severity.WARNING
                    what = "full access to a service"
                else:
                    continue
                yield self.finding(
                    path,
                    f"managed policy {name} gives {holder} {what}: grant only the "
                    "actions and resources the code needs",
                    severity=severity,
                )
