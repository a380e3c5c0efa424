"""SE006: a DynamoDB table whose encryption at rest the template does not state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.changes import set_property
from cfnfix.intrinsics import GetAtt
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ..retention._values import readable
from ._kms import pick_key

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable")
GLOBAL_TABLE = "AWS::DynamoDB::GlobalTable"


class TableWithoutEncryptionSpec(Rule):
    id = "SE006"
    name = "table-without-encryption-spec"
    family = "security"
    severity = Severity.INFO
    resource_types = (
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::Serverless::SimpleTable",
    )
    summary = "DynamoDB table without SSESpecification (encryption key not stated)"
    what = """
Reports every `AWS::DynamoDB::Table`, `AWS::DynamoDB::GlobalTable` and SAM
`AWS::Serverless::SimpleTable` without an `SSESpecification` (for SAM, also none in
`Globals.SimpleTable`).
"""
    why = """
DynamoDB always encrypts tables at rest; without `SSESpecification` it uses a key that
AWS owns, invisible to you: no key policy decides who may read the data, no CloudTrail
entry shows its use, and it cannot be disabled to cut off access. That is a choice
worth stating (informational), and the place to choose a KMS key.
"""
    fix_safety = """
The fix is **unsafe**: it changes the table's key (an in-place update; DynamoDB
re-encrypts in the background and the table stays available). With the template's
customer-managed key when it is the sound choice (see SE002; not for global tables,
whose keys are set per replica) it sets `SSEEnabled: true`, `SSEType: KMS` and
`KMSMasterKeyId`: whoever reads or writes the table then needs to be allowed to use
that key. Otherwise it sets `SSEEnabled: true` (the AWS-managed key `aws/dynamodb`:
usable by every principal of the account allowed to use the table; KMS request charges
apply, and use is logged in CloudTrail). To keep the AWS-owned key, write
`SSESpecification: {SSEEnabled: false}` instead, which states the default.
"""
    fix_availability = "always"
    examples = (
        Example(
            bad="""
Resources:
  Images:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - AttributeName: id
          AttributeType: S
      KeySchema:
        - AttributeName: id
          KeyType: HASH
""",
            good="""
Resources:
  Images:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - AttributeName: id
          AttributeType: S
      KeySchema:
        - AttributeName: id
          KeyType: HASH
      SSESpecification:
        SSEEnabled: true
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for table in readable(template, *TABLE_TYPES, GLOBAL_TABLE):
            if "SSESpecification" in template.effective_properties(table):
                continue
            yield self.finding(
                table.path,
                "table does not state its encryption (SSESpecification): DynamoDB uses a "
                "key that AWS owns",
                fix=self._fix(template, table),
            )

    def _fix(self, template: Template, table: Resource) -> Fix:
        key = None if table.type == GLOBAL_TABLE else pick_key(template, table)
        spec: dict[str, Any] = {"SSEEnabled": True}
        description = "encrypt with the AWS-managed key aws/dynamodb"
        if key is not None:
            spec["SSEType"] = "KMS"
            spec["KMSMasterKeyId"] = GetAtt(key.logical_id, "Arn")
            description = f"encrypt with the template's key {key.logical_id}"
        return Fix.unsafe(description, set_property(table.logical_id, "SSESpecification", spec))
