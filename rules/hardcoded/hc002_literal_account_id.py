"""HC002: a literal AWS account id in a property pins the template to one account."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from cfnfix.intrinsics import Ref
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Template

from ._aws import ACCOUNT_RE, AWS_OWNED_ACCOUNTS, Arn, find_arns, is_whole_arn
from ._params import Plan, param_name
from ._scan import (
    ANY,
    LITERAL_ONLY,
    REF_ONLY,
    Occurrence,
    find_literal,
    occurrences,
    replace_at,
    replace_text,
)

ARN_DESCRIPTION = (
    "Replaces a hardcoded ARN that names a resource by its account (the default is the old value)."
)
ACCOUNT_DESCRIPTION = "Replaces a hardcoded AWS account id (the default is the old value)."

# Keys that say nothing about what an account id is for.
_GENERIC_KEYS = frozenset(
    {
        "AWS",
        "Value",
        "Values",
        "Resource",
        "NotResource",
        "Statement",
        "PolicyDocument",
        "Properties",
        "Variables",
        "Condition",
    }
)
# Keys under which a bare twelve-digit *number* is an account id.
_ACCOUNT_KEY = re.compile(r"Account|Principal|Owner|^AWS$", re.IGNORECASE)
# Services whose ARNs name the resource without a type word.
_SERVICE_NOUNS = {"sns": "Topic", "sqs": "Queue", "lambda": "Function"}


def _literal_names(template: Template) -> set[str]:
    """Literal physical names of this template's resources (also through parameters)."""
    names: set[str] = set()
    for resource in template.resources.values():
        for key, value in resource.properties.items():
            if not key.endswith("Name"):
                continue
            if isinstance(value, dict) and set(value) == {"Ref"}:
                body = template.parameters.get(str(value["Ref"]))
                value = body.get("Default") if isinstance(body, dict) else None
            if isinstance(value, str) and len(value) >= 3:
                names.add(value)
    return names


def own_accounts(template: Template, found: list[Occurrence]) -> set[str]:
    """Account ids used as the account of resources this template creates.

    An ARN whose resource part names one of the template's resources, by a `${Resource}`
    placeholder or by the literal physical name the template gives it, is in the
    template's own account.
    """
    names = _literal_names(template)
    own: set[str] = set()
    for occurrence in found:
        for arn in find_arns(occurrence.text):
            if not re.fullmatch(r"\d{12}", arn.account):
                continue
            placeholders = re.findall(r"\$\{([^}.!]+)", arn.resource) if occurrence.in_sub else []
            segments = {s for s in re.split(r"[:/]", arn.resource) if s}
            if any(p.strip() in template.resources for p in placeholders) or segments & names:
                own.add(arn.account)
    return own


def _published(arn: Arn) -> bool:
    """A Lambda layer version or a Serverless Application Repository application: what an
    account publishes for others to use."""
    return (arn.service == "lambda" and arn.resource.startswith("layer:")) or (
        arn.service == "serverlessrepo" and arn.resource.startswith("applications/")
    )


def publisher_accounts(template: Template, found: list[Occurrence]) -> set[str]:
    """Accounts named only as the publisher of layers or applications.

    A layer or application ARN works from any account it is shared with (a public layer
    from every account): an account the template names nowhere else (parameter defaults
    included) is someone else's publisher, not the author's account.
    """
    publishers: set[str] = set()
    elsewhere: set[str] = set()
    defaults = [
        body["Default"]
        for body in template.parameters.values()
        if isinstance(body, dict) and isinstance(body.get("Default"), str)
    ]
    for text in [o.text for o in found] + defaults:
        arns = find_arns(text)
        covered = [(a.start, a.end) for a in arns if _published(a)]
        publishers.update(a.account for a in arns if _published(a))
        for match in ACCOUNT_RE.finditer(text):
            if not any(start <= match.start() < end for start, end in covered):
                elsewhere.add(match.group(0))
    return publishers - elsewhere


def _context(occurrence: Occurrence) -> str:
    for key in reversed(occurrence.keys):
        if key not in _GENERIC_KEYS and not key.startswith("Fn::"):
            return key
    return occurrence.resource.logical_id if occurrence.resource else ""


def arn_parameter_name(occurrence: Occurrence) -> str:
    [arn] = find_arns(occurrence.text)
    kind, name = arn.resource_words()
    if name == "root" and not kind:
        return param_name(_context(occurrence), "AccountRootArn")
    if len(kind) > 3 and kind.endswith("s") and not kind.endswith("ss"):
        kind = kind[:-1]  # `applications/x` names an application
    noun = kind or _SERVICE_NOUNS.get(arn.service, arn.service)
    return param_name(name, noun, "Arn")


class LiteralAccountId(Rule):
    id = "HC002"
    name = "literal-account-id"
    family = "hardcoded"
    severity = Severity.WARNING
    summary = "Literal AWS account id in a property or ARN"
    what = """
Reports twelve-digit AWS account ids written literally in resource properties, SAM
`Globals` and output values: in ARNs (`arn:aws:iam::123456789012:role/x`), in SAM
`Layers` (`arn:aws:lambda:us-east-1:770693421928:layer:...`), in ECR image URIs and
queue URLs, and as bare values (`SourceAccount: '123456789012'`). Numbers are judged on
their source text, so `012345678901` counts even where a loader reads an integer.

Accounts that AWS owns and documents for customers to name literally are not reported:
the per-region Elastic Load Balancing log-delivery accounts and the accounts that
publish AWS Lambda layers such as Lambda Insights and Powertools. Nor is an account that
the template names only as the publisher of Lambda layers or Serverless Application
Repository applications (a public layer such as Klayers works from any account): an
account that also appears in a role, policy or other ARN is reported everywhere. `aws` and
`cloudfront` in managed-policy and origin-access-identity ARNs are not account ids.
Parameters, mappings and conditions are where such values belong and are not checked.
"""
    why = """
An account id is true in one account only. Deployed to another account, a role ARN
names a role that does not exist there (`Role ... is invalid or cannot be assumed`), a
policy grants access to the wrong account, and a layer or image from a private account
cannot be read (`AccessDeniedException`). The template silently depends on the author's
account.
"""
    fix_safety = """
**Safe** by default: a parameter takes the literal as its `Default` and the property
references it, so a deploy with default parameters is unchanged. A whole ARN becomes one
parameter (`KlayersP312PillowLayerArn`) referenced with `!Ref`; an id inside a longer
string becomes an id parameter (`<Property>AccountId`) substituted with `!Sub`. The same
value fixed twice reuses its parameter.

Where the account is clearly the template's own (an ARN with that id names a resource
the template creates, by `${Resource}` or by its literal name), the fix is **unsafe**:
the id becomes `${AWS::AccountId}` (`!Ref AWS::AccountId` for a bare id). That is what
the author meant, but it changes the value in every other account. Set the option
`own-account-fix = "parameter"` to get the safe parameter fix there too.

Inside a SAM application's `Location`, which the SAM transform resolves itself and where
it accepts only `Ref` and `Fn::FindInMap`, only a whole ARN or id can move into a
parameter; an id inside a longer string there has no fix. SAM artifact URIs
(`CodeUri: s3://...`) are left to HC001.
"""
    fix_availability = "sometimes"
    options_schema = {
        "own-account-fix": {
            "type": "string",
            "enum": ["pseudo-parameter", "parameter"],
            "default": "pseudo-parameter",
            "description": "fix for the template's own account id: ${AWS::AccountId} "
            "(unsafe) or a parameter (safe)",
        }
    }
    examples = (
        Example(
            bad="""
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::111122223333:role/image-processor
      Code:
        ZipFile: "def handler(event, context): pass"
""",
            good="""
Parameters:
  ImageProcessorRoleArn:
    Type: String
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !Ref ImageProcessorRoleArn
      Code:
        ZipFile: "def handler(event, context): pass"
""",
        ),
        Example(
            bad="""
Resources:
  Orders:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: orders
  Policy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Orders]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: sns.amazonaws.com}
            Action: sqs:SendMessage
            Resource: !Sub arn:${AWS::Partition}:sqs:${AWS::Region}:111122223333:orders
""",
            good="""
Resources:
  Orders:
    Type: AWS::SQS::Queue
  Policy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Orders]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: sns.amazonaws.com}
            Action: sqs:SendMessage
            Resource: !GetAtt Orders.Arn
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        found = list(occurrences(template))
        own = own_accounts(template, found)
        publishers = publisher_accounts(template, found)
        names: dict[tuple[str, str], str] = {}  # parameter names shared by this run's fixes
        for occurrence in found:
            if occurrence.number and not _ACCOUNT_KEY.search(occurrence.key):
                continue  # a bare number is an account id only where the key says so
            if occurrence.rewrite == LITERAL_ONLY:
                continue  # a SAM artifact URI: HC001 moves it into parameters
            ids: list[str] = []
            for match in find_literal(ACCOUNT_RE, occurrence.text, occurrence.in_sub):
                account = match.group(0)
                if account in AWS_OWNED_ACCOUNTS or account in publishers:
                    continue
                if account not in ids:
                    ids.append(account)
            for account in ids:
                is_own = account in own and self.options["own-account-fix"] == "pseudo-parameter"
                message = (
                    f"literal account id {account}"
                    + (" (this template's own account)" if account in own else "")
                    + ": the template works only in that account"
                )
                yield self.finding(
                    occurrence.path,
                    message,
                    fix=self._fix(template, names, occurrence, account, is_own),
                )

    def _fix(
        self,
        template: Template,
        names: dict[tuple[str, str], str],
        occurrence: Occurrence,
        account: str,
        own: bool,
    ) -> Fix | None:
        edits_for = _edits(occurrence, account)
        whole_id = not occurrence.in_sub and occurrence.text == account
        if occurrence.rewrite == REF_ONLY and not whole_id and not is_whole_arn(occurrence.text):
            return None  # only a parameter reference may replace the whole value here
        if own and occurrence.rewrite == ANY:
            change = replace_text(
                template,
                occurrence,
                edits_for("${AWS::AccountId}"),
                whole=lambda: Ref("AWS::AccountId"),
            )
            return Fix.unsafe(f"replace account id {account} with ${{AWS::AccountId}}", change)
        plan = Plan(template, names)
        text = occurrence.text
        arns = find_arns(text) if not occurrence.in_sub and is_whole_arn(text) else []
        if len(arns) == 1 and arns[0].account == account:
            name = plan.parameter(arn_parameter_name(occurrence), text, ARN_DESCRIPTION)
            plan.add(replace_at(template, occurrence.path, Ref(name)))
            return Fix.safe(f"move the ARN into parameter {name}", *plan.changes)
        name = plan.parameter(
            param_name(_context(occurrence), "AccountId"), account, ACCOUNT_DESCRIPTION
        )
        plan.add(
            replace_text(template, occurrence, edits_for(f"${{{name}}}"), whole=lambda: Ref(name))
        )
        return Fix.safe(f"move account id {account} into parameter {name}", *plan.changes)


def _edits(occurrence: Occurrence, account: str) -> Callable[[str], list[tuple[int, int, str]]]:
    def edits(replacement: str) -> list[tuple[int, int, str]]:
        return [
            (m.start(), m.end(), replacement)
            for m in find_literal(ACCOUNT_RE, occurrence.text, occurrence.in_sub)
            if m.group(0) == account
        ]

    return edits
