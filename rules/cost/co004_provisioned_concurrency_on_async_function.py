"""CO004: provisioned concurrency paid for a function nobody waits for."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix_rules.dead_letter._refs import FUNCTION_TYPES, function_ids, has_value

from cfnfix.nodes import Path
from cfnfix.rule import Example, Finding, Rule, Severity
from cfnfix.template import Resource, Template

from ._functions import invocation_modes

KEY = "ProvisionedConcurrencyConfig"


class ProvisionedConcurrencyOnAsyncFunction(Rule):
    id = "CO004"
    name = "provisioned-concurrency-on-async-function"
    family = "cost"
    severity = Severity.WARNING
    resource_types = FUNCTION_TYPES
    summary = "Provisioned concurrency on a function whose triggers are all asynchronous"
    what = """
Reports `ProvisionedConcurrencyConfig` (on an `AWS::Lambda::Alias`, an
`AWS::Lambda::Version`, or a SAM function, `Globals` included) of a function whose
callers in the template are **all** asynchronous (S3, SNS, EventBridge, schedules...).
A function that something calls synchronously (API Gateway, a load balancer, a function
URL, Step Functions...) or through an event source mapping is not reported, and neither
is one with no caller in the template (it may be called from outside).
"""
    why = """
Provisioned concurrency keeps execution environments initialised, and is billed for every
hour they exist, busy or not, to spare a *waiting caller* the cold start. Asynchronous
callers do not wait: Lambda queues their events, and a cold start of a few hundred
milliseconds changes nothing for them. The capacity is paid for and idle.
"""
    fix_safety = """
There is no fix: removing provisioned concurrency is right only if nothing outside the
template calls the function synchronously, which the template cannot show.
"""
    examples = (
        Example(
            bad="""
Transform: AWS::Serverless-2016-10-31
Resources:
  Thumbnailer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      AutoPublishAlias: live
      ProvisionedConcurrencyConfig:
        ProvisionedConcurrentExecutions: 5
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: s3:ObjectCreated:*
  Uploads:
    Type: AWS::S3::Bucket
""",
            good="""
Transform: AWS::Serverless-2016-10-31
Resources:
  Thumbnailer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: s3:ObjectCreated:*
  Uploads:
    Type: AWS::S3::Bucket
""",
        ),
    )

    def _configs(self, template: Template) -> Iterator[tuple[Resource, Path, Resource]]:
        """(function, path of the config, the resource holding it)."""
        for function in template.resources_of(*FUNCTION_TYPES):
            if function.is_sam and has_value(template.effective_properties(function).get(KEY)):
                path = function.prop_path(KEY) if KEY in function.properties else function.path
                yield function, path, function
        for holder in template.resources_of("AWS::Lambda::Alias", "AWS::Lambda::Version"):
            if not has_value(holder.properties.get(KEY)):
                continue
            for fid in function_ids(template, holder.properties.get("FunctionName")):
                yield template.resources[fid], holder.prop_path(KEY), holder

    def check(self, template: Template) -> Iterator[Finding]:
        for function, path, holder in self._configs(template):
            if invocation_modes(template, function) != {"async"}:
                continue
            where = "" if holder is function else f" of function {function.logical_id}"
            yield self.finding(
                path,
                f"provisioned concurrency{where} is billed around the clock, but every caller "
                "in the template invokes the function asynchronously and does not wait for "
                "a cold start",
                resource=holder.logical_id,
            )
