"""`Fn::ForEach` (AWS::LanguageExtensions): loops are expanded for checking, findings
point at the loop body, and no fix edits a resource that only the expansion has."""

from __future__ import annotations

from cfnfix import registry
from cfnfix.testing import check, fix, make_rules, parse

LOOP = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::LanguageExtensions
Parameters:
  Names:
    Type: CommaDelimitedList
    Default: orders,invoices
Resources:
  Fn::ForEach::Tables:
    - Name
    - !Ref Names
    - Table${Name}:
        Type: AWS::DynamoDB::Table
        Properties:
          BillingMode: PAY_PER_REQUEST
          KeySchema: [{AttributeName: pk, KeyType: HASH}]
          AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
          StreamSpecification: {StreamViewType: !Sub '${Name}_NEW_IMAGE'}
  Fn::ForEach::Queues:
    - Kind
    - [jobs, job-results]
    - Queue&{Kind}:
        Type: AWS::SQS::Queue
        Properties:
          RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 5}
  Dlq:
    Type: AWS::SQS::Queue
"""

WRITTEN_OUT = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Tableorders:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      StreamSpecification: {StreamViewType: !Sub orders_NEW_IMAGE}
  Tableinvoices:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      StreamSpecification: {StreamViewType: !Sub invoices_NEW_IMAGE}
  Queuejobs:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 5}
  Queuejobresults:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 5}
  Dlq:
    Type: AWS::SQS::Queue
"""


def my_rules() -> list[object]:
    families = ("hardcoded", "tagging", "dead-letter", "retention")
    return make_rules(
        [c for c in registry.collect().values() if c.family in families and c.default_enabled]
    )


def test_loops_are_expanded_as_cloudformation_does() -> None:
    template = parse(LOOP)
    assert set(template.resources) == {
        "Tableorders",
        "Tableinvoices",
        "Queuejobs",
        "Queuejobresults",
        "Dlq",
    }
    table = template.resources["Tableinvoices"]
    sub = {"Fn::Sub": "invoices_NEW_IMAGE"}
    assert table.properties["StreamSpecification"] == {"StreamViewType": sub}


def test_a_loop_gets_the_findings_of_its_resources_written_out() -> None:
    rules = my_rules()
    looped = {(f.rule.id, f.resource) for f in check(LOOP, rules)}
    written = {(f.rule.id, f.resource) for f in check(WRITTEN_OUT, rules)}
    assert written
    assert looped == written


def test_findings_point_at_the_loop_body() -> None:
    template = parse(LOOP)
    body_line = LOOP.splitlines().index("    - Table${Name}:") + 1
    for resource in ("Tableorders", "Tableinvoices"):
        assert template.location(("Resources", resource)).line == body_line
    prop = template.location(("Resources", "Queuejobs", "Properties", "RedrivePolicy"))
    assert LOOP.splitlines()[prop.line - 1].strip().startswith("RedrivePolicy:")


def test_no_fix_edits_a_resource_only_the_expansion_has() -> None:
    rules = my_rules()
    outcome = fix(LOOP, rules, unsafe=True)
    fixed = parse(outcome.template.text)
    # The loops are untouched (any edit there would change every iteration) ...
    assert (
        fixed.root["Resources"]["Fn::ForEach::Tables"]
        == parse(LOOP).root["Resources"]["Fn::ForEach::Tables"]
    )
    assert "Tableorders" not in fixed.root["Resources"]
    # ... and the resource written out is fixed as usual.
    assert outcome.applied
    assert any(r.finding.resource == "Tableorders" for r in outcome.refused)


def test_nested_loops_and_unreadable_collections() -> None:
    text = """\
Transform: AWS::LanguageExtensions
Resources:
  Fn::ForEach::Envs:
    - Env
    - [dev, prod]
    - Fn::ForEach::Apps:
        - App
        - [web, api]
        - Logs${Env}${App}:
            Type: AWS::Logs::LogGroup
            Properties: {LogGroupName: !Sub '/${Env}/${App}'}
  Fn::ForEach::Unknown:
    - X
    - !GetAtt Something.List
    - Never${X}:
        Type: AWS::SNS::Topic
"""
    template = parse(text)
    assert set(template.resources) == {"Logsdevweb", "Logsdevapi", "Logsprodweb", "Logsprodapi"}
    assert template.resources["Logsprodapi"].properties == {
        "LogGroupName": {"Fn::Sub": "/prod/api"}
    }


def test_the_writer_refuses_expanded_resources_on_a_fresh_template() -> None:
    """The refusal does not depend on rules having looked at the resources first."""
    import pytest

    from cfnfix.changes import SetKey
    from cfnfix.errors import FixError
    from cfnfix.writer import Writer

    template = parse(LOOP)  # nothing has read template.resources yet
    with pytest.raises(FixError, match="Fn::ForEach loop body"):
        Writer(template).render([SetKey(("Resources", "Tableorders"), "DeletionPolicy", "Retain")])
