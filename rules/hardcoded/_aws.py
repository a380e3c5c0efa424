"""Facts about AWS identifiers the `hardcoded` rules recognise: partitions, regions,
availability zones, ARNs, and the AWS-owned accounts that must stay literal."""

from __future__ import annotations

import re
from typing import NamedTuple

FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")

PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f")

# `arn:<partition>:` with a literal partition (longest alternatives first).
PARTITION_RE = re.compile(
    r"(?<![A-Za-z0-9])arn:(?P<partition>"
    + "|".join(re.escape(p) for p in sorted(PARTITIONS, key=len, reverse=True))
    + r"):"
)

_REGION_CORE = (
    r"(?:us-gov|us-iso|us-isob|us-isof|eusc|af|ap|ca|cn|eu|il|me|mx|sa|us)-"
    r"(?:central|north|south|east|west|northeast|northwest|southeast|southwest)-\d{1,2}"
)
# A region name standing on its own (`us-east-1`, not `us-east-1a` or `xus-east-1`).
REGION_RE = re.compile(rf"(?<![A-Za-z0-9]){_REGION_CORE}(?![A-Za-z0-9])")
# A whole value that is an availability zone name.
AZ_RE = re.compile(rf"^(?P<region>{_REGION_CORE})(?P<letter>[a-z])$")

# A twelve-digit number standing on its own: an AWS account id.
ACCOUNT_RE = re.compile(r"(?<![A-Za-z0-9])\d{12}(?![A-Za-z0-9])")

# One field of an ARN: literal text without `:` or a whole `${...}` placeholder.
_FIELD = r"(?:\$\{[^}]*\}|[^:\s\"'${}])*"
ARN_RE = re.compile(
    r"(?<![A-Za-z0-9])arn:"
    rf"(?P<partition>{_FIELD}):(?P<service>{_FIELD}):(?P<region>{_FIELD}):"
    rf"(?P<account>{_FIELD}):(?P<resource>(?:\$\{{[^}}]*\}}|[^\s\"',])+)"
)
WHOLE_ARN_RE = re.compile(r"^arn:[^:\s]+:[^:\s]+:[^:\s]*:[^:\s]*:[^\s]+$")


class OwnedAccount(NamedTuple):
    """An account AWS owns: it has to be written literally where it is used."""

    owner: str
    # The same account serves every region (an ARN in it can take `${AWS::Region}`).
    all_regions: bool


def _accounts(owner: str, all_regions: bool, *ids: str) -> dict[str, OwnedAccount]:
    return dict.fromkeys(ids, OwnedAccount(owner, all_regions))


# Accounts AWS owns and documents for customers to reference.
AWS_OWNED_ACCOUNTS: dict[str, OwnedAccount] = {
    # Elastic Load Balancing log delivery, one account per region ("Enable access logs
    # for your Classic Load Balancer" / ALB access logs, bucket policy principals).
    **_accounts(
        "Elastic Load Balancing log delivery",
        False,
        "127311923021",  # us-east-1
        "033677994240",  # us-east-2
        "027434742980",  # us-west-1
        "797873946194",  # us-west-2
        "098369216593",  # af-south-1
        "754344448648",  # ap-east-1
        "589379963580",  # ap-southeast-3
        "718504428378",  # ap-south-1
        "383597477331",  # ap-northeast-3
        "600734575887",  # ap-northeast-2
        "114774131450",  # ap-southeast-1
        "783225319266",  # ap-southeast-2
        "582318560864",  # ap-northeast-1
        "985666609251",  # ca-central-1
        "054676820928",  # eu-central-1
        "156460612806",  # eu-west-1
        "652711504416",  # eu-west-2
        "635631232127",  # eu-south-1
        "009996457667",  # eu-west-3
        "897822967062",  # eu-north-1
        "076674570225",  # me-south-1
        "507241528517",  # sa-east-1
        "048591011584",  # us-gov-west-1
        "190560391635",  # us-gov-east-1
        "638102146993",  # cn-north-1
        "037604701340",  # cn-northwest-1
    ),
    # Lambda layers and images AWS publishes from one account for every region.
    **_accounts("AWS Lambda Insights extension", True, "580247275435"),
    **_accounts("Powertools for AWS Lambda", True, "017000801446", "094274105915"),
    **_accounts("AWS Distro for OpenTelemetry", True, "901920570463"),
    **_accounts("Amazon Linux container images", True, "137112412989"),
    # Lambda extensions AWS publishes from a different account in each region.
    **_accounts(
        "AWS AppConfig Lambda extension",
        False,
        "027255383542",  # us-east-1
        "066940009817",  # eu-central-1
    ),
    **_accounts(
        "AWS Parameters and Secrets Lambda extension",
        False,
        "177933569100",  # us-east-1
    ),
}


class Arn(NamedTuple):
    """An ARN found in a string; fields may hold `${...}` placeholders."""

    start: int
    end: int
    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def account_start(self) -> int:
        return self.start + len(f"arn:{self.partition}:{self.service}:{self.region}:")

    @property
    def region_start(self) -> int:
        return self.start + len(f"arn:{self.partition}:{self.service}:")

    def resource_words(self) -> tuple[str, str]:
        """(resource type, resource name) of the resource part, as well as it can tell."""
        parts = [p for p in re.split(r"[:/]", self.resource) if p]
        if len(parts) >= 2:
            return parts[0], parts[1]
        return "", parts[0] if parts else ""


def find_arns(text: str) -> list[Arn]:
    if "arn:" not in text:  # most strings: no need to run the expression
        return []
    return [
        Arn(
            m.start(),
            m.end(),
            m.group("partition"),
            m.group("service"),
            m.group("region"),
            m.group("account"),
            m.group("resource"),
        )
        for m in ARN_RE.finditer(text)
    ]


def is_whole_arn(text: str) -> bool:
    """A plain string that is exactly one ARN, without `${...}` (a parameter default
    holding `${` reads as a forgotten Fn::Sub to cfn-lint)."""
    return bool(WHOLE_ARN_RE.match(text)) and "${" not in text
