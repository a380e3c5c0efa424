"""HC003: a literal region or availability zone pins the template to one region."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cfnfix.intrinsics import Ref
from cfnfix.nodes import Path
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ._aws import AWS_OWNED_ACCOUNTS, AZ_RE, REGION_RE, find_arns
from ._params import Plan, param_name
from ._scan import (
    ANY,
    LITERAL_ONLY,
    Occurrence,
    find_literal,
    grouped,
    has_placeholders,
    new_value,
    occurrences,
    replace_at,
)

ZONE_DESCRIPTION = "Availability zone to deploy into (zone names differ per account)"

# Keys whose regions are deliberately other regions (replicas, peers, routing).
CROSS_REGION_KEYS = frozenset(
    {
        "PeerRegion",
        "SourceRegion",
        "DestinationRegion",
        "ReplicationGroupRegion",
        "EndpointGroupRegion",
        "RegionOrder",
        "Regions",
        "AwsRegions",
        "ReplicaRegions",
        "aws:RequestedRegion",
        "DestinationBackupVaultArn",
        "PrimaryKeyArn",
        # Event and message filters match the content of events, not where they deploy.
        "EventPattern",
        "Pattern",
        "FilterCriteria",
        "FilterPolicy",
    }
)
# Types whose `Region` property names another region on purpose.
REGION_TARGET_TYPES = frozenset(
    {
        "AWS::DynamoDB::GlobalTable",
        "AWS::Route53::RecordSet",
        "AWS::Route53::RecordSetGroup",
        "AWS::SecretsManager::Secret",
        "AWS::ECR::ReplicationConfiguration",
    }
)
# Certificates and functions CloudFront uses live in us-east-1 whatever the stack's region.
EDGE_KEYS = frozenset({"CertificateArn", "AcmCertificateArn", "LambdaFunctionARN", "WebACLId"})


def _value_path(occurrence: Occurrence) -> Path:
    """The path of the value that holds the occurrence (the Fn::Sub for a template)."""
    if not occurrence.in_sub:
        return occurrence.path
    return occurrence.path[:-1] if occurrence.path[-1] == "Fn::Sub" else occurrence.path[:-2]


class LiteralRegion(Rule):
    id = "HC003"
    name = "literal-region"
    family = "hardcoded"
    severity = Severity.WARNING
    summary = "Literal region or availability zone in a property, ARN or endpoint"
    what = """
Reports region names (`us-east-1`, `eu-west-3`, ...) written literally in resource
properties, SAM `Globals` and output values: in ARNs, in endpoints
(`sqs.us-east-1.amazonaws.com`), in names and as bare values (`Region: us-east-1`); and
availability zones (`us-east-1a`) given as values, such as a subnet's, instance's or
volume's `AvailabilityZone`.

Not reported: properties that name *another* region on purpose (global table replicas,
`PeerRegion`, `SourceRegion`, latency records, stack set regions,
`aws:RequestedRegion` conditions), event and message filter patterns, ARNs of a
service the template addresses in two or more literal regions (a deliberate
multi-region design, such as cross-region event buses), `us-east-1` where CloudFront
requires it (certificates, Lambda@Edge, global web ACLs), and Serverless Application
Repository application ids. Parameters, mappings, conditions and `Fn::FindInMap` keys
are not checked.
"""
    why = """
A region name is true in one region. Deployed elsewhere, an ARN or endpoint points back
at the author's region (cross-region calls, or `ResourceNotFoundException` because the
resource only exists here), a layer from another region cannot be attached to a function
(`Layer version ... does not exist` / `InvalidParameterValueException`), and an
availability zone that does not exist in the deploying region or account fails the
subnet, instance or volume (`Value (us-east-1a) for parameter availabilityZone is
invalid`). Availability-zone names are also mapped differently in each account.
"""
    fix_safety = """
A region becomes `${AWS::Region}` (`!Ref AWS::Region` for a bare value; a plain
string turns into a `!Sub`, its literal `${` escaped): **unsafe**, since it gives the same
value only in the original region and elsewhere picks that region's equivalent, which is
the point but changes what a deploy does.

An availability zone moves into a parameter whose `Default` is the zone (one parameter
per zone, reused by every resource naming it): **safe**, a deploy with default
parameters is unchanged, and another account or region passes its own zone. No expression
is written for the zone itself: `!Select [N, !GetAZs '']` depends on how each account's
zones are ordered and on how many a region has, so it can name a different zone or none.

A region inside the ARN of a layer that AWS publishes from a different account in each
region (AWS AppConfig, Parameters and Secrets extensions) has no fix: the account has to
change with the region, best with a mapping keyed by `AWS::Region`.
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad="""
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: "def handler(event, context): pass"
      Environment:
        Variables:
          QUEUE_URL: !Sub https://sqs.us-east-1.amazonaws.com/${AWS::AccountId}/jobs
""",
            good="""
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: "def handler(event, context): pass"
      Environment:
        Variables:
          QUEUE_URL: !Sub https://sqs.${AWS::Region}.amazonaws.com/${AWS::AccountId}/jobs
""",
        ),
        Example(
            bad="""
Resources:
  Subnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: 10.0.0.0/24
      AvailabilityZone: us-east-1b
""",
            good="""
Parameters:
  SubnetAvailabilityZone:
    Type: String
    Default: us-east-1b
    Description: Availability zone to deploy into (zone names differ per account)
Resources:
  Subnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: 10.0.0.0/24
      AvailabilityZone: !Ref SubnetAvailabilityZone
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        found = [o for o in occurrences(template) if not o.number]
        multi_region = _multi_region_services(found)
        # (occurrence, message, fix description, path to change, new value at that path)
        pending: list[tuple[Occurrence, str, str | None, Path, Any]] = []
        zone_fixes: list[Finding] = []
        names: dict[tuple[str, str], str] = {}  # parameter names shared by this run's fixes
        for occurrence in found:
            if occurrence.rewrite == LITERAL_ONLY:
                continue  # a SAM artifact URI: HC001 moves it into parameters
            text = occurrence.text
            zone = AZ_RE.match(text)
            if (
                zone
                and occurrence.rewrite == ANY
                and not (occurrence.in_sub and has_placeholders(text))
            ):
                zone_fix = self._zone_fix(template, occurrence, text, names)
                message = (
                    f"literal availability zone {text}: it exists only in "
                    f"{zone.group('region')}, and zone names map to different zones in "
                    f"each account"
                )
                zone_fixes.append(self.finding(occurrence.path, message, fix=zone_fix))
                continue
            matches = [
                m
                for m in find_literal(REGION_RE, text, occurrence.in_sub)
                if not self._deliberate(occurrence, m, multi_region)
            ]
            if not matches:
                continue
            regions = ", ".join(dict.fromkeys(m.group(0) for m in matches))
            message = f"literal region {regions}: the template works as written only there"
            blocker = _per_region_account(text, matches)
            if occurrence.rewrite != ANY:
                message += "; SAM resolves this property itself, so it cannot take ${AWS::Region}"
            elif blocker is not None:
                message += (
                    f"; the account {blocker} ({AWS_OWNED_ACCOUNTS[blocker].owner}) differs "
                    f"per region, so map region to ARN with a Mapping"
                )
            else:
                value = new_value(
                    occurrence,
                    [(m.start(), m.end(), "${AWS::Region}") for m in matches],
                    whole=lambda: Ref("AWS::Region"),
                )
                description = f"replace {regions} with ${{AWS::Region}}"
                pending.append((occurrence, message, description, occurrence.path, value))
                continue
            pending.append((occurrence, message, None, occurrence.path, None))
        changes = grouped(template, [(p, v) for _, _, d, p, v in pending if d is not None])
        for occurrence, message, fix_description, path, _ in pending:
            fix = None if fix_description is None else Fix.unsafe(fix_description, changes[path])
            yield self.finding(occurrence.path, message, fix=fix)
        yield from zone_fixes

    def _zone_fix(
        self,
        template: Template,
        occurrence: Occurrence,
        zone: str,
        names: dict[tuple[str, str], str],
    ) -> Fix | None:
        """Move a zone into a parameter whose default is the zone: the same deploy here.

        No expression maps a zone to its equivalent elsewhere: `!Select [N, !GetAZs '']`
        picks whatever zone has index N in the deploying account (zone names are shuffled
        per account, and a region may have fewer zones), so the fix does not guess.
        """
        if occurrence.resource is None:
            return None
        plan = Plan(template, names)
        parameter = plan.parameter(
            param_name(occurrence.resource.logical_id, "AvailabilityZone"),
            zone,
            ZONE_DESCRIPTION,
        )
        plan.add(replace_at(template, _value_path(occurrence), Ref(parameter)))
        return Fix.safe(f"move {zone} into parameter {parameter}", *plan.changes)

    def _deliberate(
        self, occurrence: Occurrence, match: re.Match[str], multi_region: set[str]
    ) -> bool:
        """A region that has to be literal where it is."""
        keys = set(occurrence.keys)
        if keys & CROSS_REGION_KEYS:
            return True
        if occurrence.key == "Region" and occurrence.resource_type in REGION_TARGET_TYPES:
            return True
        arn = next(
            (a for a in find_arns(occurrence.text) if a.start <= match.start() < a.end), None
        )
        if arn is not None and arn.service == "serverlessrepo":
            return True  # an application id names where the application was published
        if arn is not None and arn.region_start == match.start() and arn.service in multi_region:
            return True  # the template addresses this service in several regions on purpose
        if match.group(0) == "us-east-1":
            if occurrence.resource_type == "AWS::CloudFront::Distribution" or keys & EDGE_KEYS:
                return True
            if arn is not None and arn.service == "wafv2" and arn.resource.startswith("global/"):
                return True
        return False


def _multi_region_services(found: list[Occurrence]) -> set[str]:
    """Services whose ARNs name two or more literal regions: a multi-region design."""
    regions: dict[str, set[str]] = {}
    for occurrence in found:
        for arn in find_arns(occurrence.text):
            if REGION_RE.fullmatch(arn.region):
                regions.setdefault(arn.service, set()).add(arn.region)
    return {service for service, names in regions.items() if len(names) > 1}


def _per_region_account(text: str, matches: list[re.Match[str]]) -> str | None:
    """An AWS account that differs per region, in an ARN whose region is matched."""
    for arn in find_arns(text):
        owned = AWS_OWNED_ACCOUNTS.get(arn.account)
        if owned is None or owned.all_regions:
            continue
        if any(m.start() == arn.region_start for m in matches):
            return arn.account
    return None
