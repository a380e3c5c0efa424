"""HC005: a literal physical name collides when the template is deployed twice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.intrinsics import Ref, Sub, function_of, ref_target, sub_parts
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ._aws import FUNCTION_TYPES
from ._params import Plan, param_name
from ._scan import has_placeholders, replace_at, unescape_sub

GLOBAL = "globally"  # one namespace for every account
ACCOUNT = "in the account"  # IAM: one namespace for every region of an account
REGION = "in the account and region"

# Resource type -> (name property, namespace).
NAME_PROPERTIES: dict[str, tuple[str, str]] = {
    "AWS::S3::Bucket": ("BucketName", GLOBAL),
    "AWS::Cognito::UserPoolDomain": ("Domain", GLOBAL),
    "AWS::IAM::Role": ("RoleName", ACCOUNT),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", ACCOUNT),
    "AWS::IAM::User": ("UserName", ACCOUNT),
    "AWS::IAM::Group": ("GroupName", ACCOUNT),
    "AWS::IAM::InstanceProfile": ("InstanceProfileName", ACCOUNT),
    "AWS::Logs::LogGroup": ("LogGroupName", REGION),
    "AWS::DynamoDB::Table": ("TableName", REGION),
    "AWS::DynamoDB::GlobalTable": ("TableName", REGION),
    "AWS::SQS::Queue": ("QueueName", REGION),
    "AWS::SNS::Topic": ("TopicName", REGION),
    "AWS::Lambda::Function": ("FunctionName", REGION),
    "AWS::Kinesis::Stream": ("Name", REGION),
    "AWS::KinesisFirehose::DeliveryStream": ("DeliveryStreamName", REGION),
    "AWS::StepFunctions::StateMachine": ("StateMachineName", REGION),
    "AWS::ECR::Repository": ("RepositoryName", REGION),
    "AWS::ECS::Cluster": ("ClusterName", REGION),
    "AWS::Events::EventBus": ("Name", REGION),
    "AWS::Events::Rule": ("Name", REGION),
    "AWS::Scheduler::Schedule": ("Name", REGION),
    "AWS::Pipes::Pipe": ("Name", REGION),
    "AWS::SecretsManager::Secret": ("Name", REGION),
    "AWS::SSM::Parameter": ("Name", REGION),
    "AWS::KMS::Alias": ("AliasName", REGION),
    "AWS::CloudWatch::Alarm": ("AlarmName", REGION),
    "AWS::CloudWatch::Dashboard": ("DashboardName", REGION),
    "AWS::CodeBuild::Project": ("Name", REGION),
    "AWS::CodePipeline::Pipeline": ("Name", REGION),
    "AWS::Glue::Job": ("Name", REGION),
    "AWS::Athena::WorkGroup": ("Name", REGION),
    "AWS::OpenSearchService::Domain": ("DomainName", REGION),
    "AWS::Elasticsearch::Domain": ("DomainName", REGION),
    "AWS::RDS::DBInstance": ("DBInstanceIdentifier", REGION),
    "AWS::RDS::DBCluster": ("DBClusterIdentifier", REGION),
    "AWS::ElastiCache::ReplicationGroup": ("ReplicationGroupId", REGION),
    "AWS::Serverless::Function": ("FunctionName", REGION),
    "AWS::Serverless::SimpleTable": ("TableName", REGION),
    "AWS::Serverless::StateMachine": ("Name", REGION),
}


def description(type_name: str, prop: str, scope: str) -> str:
    return (
        f"Replaces the hardcoded {prop} of an {type_name}, which must be unique {scope} "
        f"(the default is the old name)."
    )


def literal_name(value: Any) -> str | None:
    """The name a value gives when it is a literal (also a Fn::Sub without variables)."""
    if isinstance(value, str):
        return value or None
    parts = sub_parts(value)
    if parts is not None and not parts[1] and not has_placeholders(parts[0]):
        return unescape_sub(parts[0]) or None
    fn = function_of(value)
    if fn is not None and fn[0] == "Fn::Join" and isinstance(fn[1], list) and len(fn[1]) == 2:
        delimiter, items = fn[1]
        if (
            isinstance(delimiter, str)
            and isinstance(items, list)
            and all(isinstance(i, str) for i in items)
        ):
            return delimiter.join(items) or None
    return None


class HardcodedPhysicalName(Rule):
    id = "HC005"
    name = "hardcoded-physical-name"
    family = "hardcoded"
    severity = Severity.WARNING
    resource_types = tuple(NAME_PROPERTIES)
    summary = "Literal physical name that collides when the template is deployed twice"
    what = """
Reports literal physical names of resources whose names must be unique: S3
`BucketName` (unique across all accounts) and Cognito domains; IAM role, policy, user,
group and instance-profile names (unique in an account, across regions); and the names
of log groups, DynamoDB tables, SQS queues, SNS topics, Lambda functions, state
machines, Kinesis streams, ECR repositories, secrets, SSM parameters, alarms and the
like (unique in an account and region). A `!Sub` or `!Join` without variables counts
as literal; a name built from parameters or `${AWS::StackName}` does not.
"""
    why = """
A second deployment of the template (another environment, a teammate's stack, the same
stack in another region or account) asks for a name that already exists and fails
(`<name> already exists in stack ...` / `BucketAlreadyExists`). For S3 the namespace is
global: once anyone anywhere owns the bucket name, the template deploys for nobody
else. A replacement update of such a resource fails too, since CloudFormation creates
the new resource before deleting the old one.
"""
    fix_safety = """
**Safe.** A parameter named after the resource and property (`UploadBucketName`,
`OrdersQueueName`) takes the literal as its `Default`, and the property references it
with `!Ref`: a deploy with default parameters creates the same name, and a second
deployment can pass another. The same name fixed twice reuses its parameter. Leaving the
name to CloudFormation (removing the property) would be better still, but it replaces the
resource, so cfnfix does not do it.

A log group named `/aws/lambda/<name>` after a function of the same template follows
the function instead: `!Sub '/aws/lambda/${<Function>FunctionName}'`, with the function's
name parameter (created here if the function's own finding has not created it yet), so
that overriding the function name keeps its logs in the group.
"""
    fix_availability = "always"
    examples = (
        Example(
            bad="""
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: image-uploads
""",
            good="""
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub image-uploads-${AWS::AccountId}-${AWS::Region}
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        functions = _function_names(template)
        names: dict[tuple[str, str], str] = {}  # parameter names shared by this run's fixes
        for resource in template.resources.values():
            spec = NAME_PROPERTIES.get(resource.type)
            if spec is None:
                continue
            prop, scope = spec
            if prop not in resource.properties:
                continue
            name = literal_name(resource.properties[prop])
            if name is None or "${" in name:
                continue  # `${...}` in a name is a preprocessor's or a forgotten !Sub
            plan = Plan(template, names)
            path = resource.prop_path(prop)
            message = (
                f"literal {prop} '{name}' must be unique {scope}: a second deployment of "
                f"the template fails"
            )
            function = name[len(LAMBDA_LOGS) :] if name.startswith(LAMBDA_LOGS) else None
            if resource.type == "AWS::Logs::LogGroup" and function in functions:
                # The group of a function of this template: follow the function's name.
                parameter = _function_name_parameter(plan, *functions[function])
                plan.add(replace_at(template, path, Sub(f"{LAMBDA_LOGS}${{{parameter}}}")))
                fix = Fix.safe(
                    f"build LogGroupName from the function name parameter {parameter}",
                    *plan.changes,
                )
                yield self.finding(path, message, fix=fix)
                continue
            parameter = plan.parameter(
                param_name(resource.logical_id, prop),
                name,
                description(resource.type, prop, scope),
            )
            plan.add(replace_at(template, path, Ref(parameter)))
            yield self.finding(
                path,
                message,
                fix=Fix.safe(f"move {prop} into parameter {parameter}", *plan.changes),
            )


LAMBDA_LOGS = "/aws/lambda/"


def _function_names(template: Template) -> dict[str, tuple[Resource, str | None]]:
    """Function name -> (function, the parameter naming it, None when it is a literal)."""
    names: dict[str, tuple[Resource, str | None]] = {}
    for function in template.resources_of(*FUNCTION_TYPES):
        value = function.properties.get("FunctionName")
        literal = literal_name(value)
        if literal is not None:
            names.setdefault(literal, (function, None))
            continue
        target = ref_target(value)
        body = template.parameters.get(target) if target else None
        if isinstance(body, dict) and isinstance(body.get("Default"), str):
            names.setdefault(body["Default"], (function, target))
    return names


def _function_name_parameter(plan: Plan, function: Resource, parameter: str | None) -> str:
    """The parameter holding a function's name: its own, or the one HC005 gives it."""
    if parameter is not None:
        return parameter
    literal = literal_name(function.properties["FunctionName"])
    assert literal is not None
    return plan.parameter(
        param_name(function.logical_id, "FunctionName"),
        literal,
        description(function.type, "FunctionName", NAME_PROPERTIES[function.type][1]),
    )
