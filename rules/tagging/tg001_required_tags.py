"""TG001: a resource that takes tags lacks a tag the project requires."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ._tags import (
    MAX_TAGS,
    SHAPE_WORDS,
    Site,
    TagSpec,
    add_tags_changes,
    key_problem,
    resource_sites,
    shape_fits,
    tag_spec,
    tags_refused,
    through_alias,
    value_problem,
    value_problems,
)


def _quoted(keys: list[str]) -> str:
    return ", ".join(repr(k) for k in keys)


def _where(site: Site) -> str:
    if site.kind == "globals":
        return f"Globals.{site.globals_section}.Tags"
    return ".".join(str(p) for p in site.path[3:] if p != "Fn::If") or "Tags"


def _configured_tags_problem(template: Template, tags: dict[str, Any]) -> str:
    """Why the configured ``tags`` cannot be written into this template, or ``""``."""
    for key, value in tags.items():
        problem = key_problem(key)
        if problem:
            return f"the configured key {key!r} {problem}"
        problem = value_problem(value)
        if problem:
            return f"the configured value of {key!r} {problem}"
        refs = value_problems(template, value)
        if refs.missing:
            return (
                f"the configured value of {key!r} refers to {_quoted(refs.missing)}, "
                "which this template does not define"
            )
        if refs.resources:
            return (
                f"the configured value of {key!r} refers to the resource "
                f"{_quoted(refs.resources)}, which risks a circular dependency"
            )
    return ""


class RequiredTags(Rule):
    id = "TG001"
    name = "missing-required-tags"
    family = "tagging"
    severity = Severity.WARNING
    summary = "Resource that takes tags lacks a tag the project requires"
    what = """
Reports every resource whose type takes tags but that lacks one or more of the project's
required tag keys (once per resource, naming the missing keys). Which types take tags,
under which property and in which shape comes from the CloudFormation resource provider
schemas (`cfnfix.resource_data`): a list of `{Key, Value}` (most types), a map
(`AWS::SSM::Parameter`, `AWS::Batch::*`, every `AWS::Serverless::*` type), a JSON object
(`AWS::Glue::Job`, `AWS::MWAA::Environment`), another property name
(`AWS::Cognito::UserPool` → `UserPoolTags`, `AWS::EFS::FileSystem` → `FileSystemTags`) or a
`TagSpecifications` item (`AWS::EC2::CapacityReservation`, `AWS::EC2::LaunchTemplate`).
Types that take no tags (`AWS::Lambda::Permission`, `AWS::Lambda::LayerVersion`,
`AWS::SNS::Subscription`, custom resources) are never reported, and neither is an
`AWS::Serverless::HttpApi` whose `DefinitionUri` or non-inline `DefinitionBody` leaves SAM
no OpenAPI document to put tags in.

In SAM templates the tags of a `Globals` section (`Globals.Function.Tags`,
`Globals.HttpApi.Tags`) count for every resource the section covers. Tags hidden behind an
intrinsic function (`Tags: !Ref TagList`) are not judged; a key present in either branch
of an `Fn::If` counts as present.

The required tags are configured at the top level of `[tool.cfnfix]` in `pyproject.toml`
(or in `.cfnfix.toml`): each key is a required tag, each value what a fix writes (a
string, or an intrinsic function in its long form). Without configuration the project
standard applies: `iac-rlhf-amazon = "true"`.

```toml
[tool.cfnfix.required-tags]
iac-rlhf-amazon = "true"
Environment = { Ref = "Environment" }          # a parameter of the template
Owner = { "Fn::Sub" = "${AWS::StackName}-team" }
```

Tags written in the template and *stack-level tags* complement each other. Stack-level
tags (`aws cloudformation deploy --tags`, `sam deploy --tags`, the `Tags` of a StackSet or
of an `AWS::CloudFormation::Stack`) are propagated by CloudFormation to every resource of
the stack that supports tags, including the resources the template does not declare
itself: the roles, permissions, stages and event sources SAM generates, and the resources
of nested stacks, which no property this rule can fix reaches. Set the required tags at
stack level too; this rule makes the template carry them wherever it can, so that they
survive a deployment without the right `--tags`. Resources created outside CloudFormation
(by a Lambda function at run time, say) carry only the tags their creator gives them.
"""
    why = """
Untagged resources cannot be attributed to a project, team or cost centre: cost
allocation reports, tag-based access control (`aws:ResourceTag` conditions), backup plans
and clean-up jobs that select resources by tag all miss them. The seed template of this
project tagged most resources with `Environment` and `Purpose`, but not with the required
`iac-rlhf-amazon`, and left its CloudWatch alarms and its IAM role without any tags.
"""
    fix_safety = """
The fix adds the missing keys with their configured values: appended to an existing list
or map in its shape and order (keeping every existing tag untouched), written into
`Globals.<Section>.Tags` when that is where a SAM template tags its resources, or as a new
tag property in the type's shape (`PropagateAtLaunch: true` on Auto Scaling group tags, a
`TagSpecifications` item with the right `ResourceType`, a JSON string kept a JSON string).

It is **safe** when the type updates tags in place, and **unsafe** when the tag property is
create-only (changing it replaces the resource, e.g. `AWS::EC2::CapacityReservation`,
`AWS::AppRunner::Service`) or when CloudFormation does not update the tags of
`TagSpecifications` in place (`AWS::EC2::LaunchTemplate`, `AWS::EC2::EC2Fleet`,
`AWS::EC2::ClientVpnEndpoint`).

There is no fix when the tags are written in a shape the type does not take (see TG002),
when they are built by an intrinsic function, when the configured value refers to a
parameter, mapping or resource that the template does not define (or to a resource at
all, which risks a circular dependency), when a configured key or value is itself invalid,
when adding the tags would exceed 50 tags, or when the tags are shared with other
resources through a YAML anchor (`Tags: *common`).
"""
    fix_availability = "sometimes"
    examples = (
        Example(
            bad="""
Resources:
  ErrorAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      MetricName: Errors
      Namespace: AWS/Lambda
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 5
      ComparisonOperator: GreaterThanOrEqualToThreshold
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      Tags:
        - Key: Purpose
          Value: uploads
""",
            good="""
Resources:
  ErrorAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      MetricName: Errors
      Namespace: AWS/Lambda
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 5
      ComparisonOperator: GreaterThanOrEqualToThreshold
      Tags:
        - Key: iac-rlhf-amazon
          Value: 'true'
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      Tags:
        - Key: Purpose
          Value: uploads
        - Key: iac-rlhf-amazon
          Value: 'true'
""",
        ),
        Example(
            bad="""
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Tags:
      Purpose: thumbnails
Resources:
  Thumbnailer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
""",
            good="""
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Tags:
      Purpose: thumbnails
      iac-rlhf-amazon: 'true'
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
        required: dict[str, Any] = dict(self.settings.required_tags)
        if not required:
            return
        # Why the configured tags cannot be written, by the keys a resource lacks: the
        # same for every resource, so judged once per set of missing keys.
        refusals: dict[tuple[str, ...], str] = {}
        for resource in template.resources.values():
            spec = tag_spec(resource.type)
            if spec is None or tags_refused(template, resource):
                continue
            if resource.node.get("Properties") is not None and not isinstance(
                resource.node["Properties"], dict
            ):
                continue  # a malformed resource: nothing to judge
            finding = self._check_resource(template, resource, spec, required, refusals)
            if finding is not None:
                yield finding

    def _check_resource(
        self,
        template: Template,
        resource: Resource,
        spec: TagSpec,
        required: dict[str, Any],
        refusals: dict[tuple[str, ...], str],
    ) -> Finding | None:
        sites = resource_sites(template, resource, spec)
        if not all(site.read.complete for site in sites):
            return None  # a key hidden behind an intrinsic may be the required one
        present = frozenset().union(*(site.read.keys for site in sites))
        missing = [key for key in required if key not in present]
        if not missing:
            return None
        own = sites[-1]
        path = own.path if own.read.form != "absent" and own.kind == "tags" else resource.path
        noun = "tag" if len(missing) == 1 else "tags"
        message = f"{resource.type} lacks the required {noun} {_quoted(missing)}"
        tags = {k: required[k] for k in missing}
        keys = tuple(tags)
        if keys not in refusals:
            refusals[keys] = _configured_tags_problem(template, tags)
        reason = refusals[keys]
        fix: Fix | None = None
        if not reason:
            fix, reason = self._fix(template, spec, sites, tags, len(present))
        if reason:
            message += f" (no fix: {reason})"
        return self.finding(path, message, fix=fix)

    def _fix(
        self,
        template: Template,
        spec: TagSpec,
        sites: list[Site],
        tags: dict[str, Any],
        counted: int,
    ) -> tuple[Fix | None, str]:
        """The fix, or ``None`` and why there is none (the configured tags being valid)."""
        if counted + len(tags) > MAX_TAGS:
            return None, f"adding them would exceed {MAX_TAGS} tags"
        # The template tags these resources in Globals: add the tags there.
        site = sites[0] if sites[0].kind == "globals" else sites[-1]
        if site.read.form in ("conditional", "unknown"):
            return None, f"{_where(site)} is built by an intrinsic function"
        if site.kind == "globals" and site.read.form != "map":
            return None, f"{_where(site)} is not {SHAPE_WORDS['map']} (see TG002)"
        if site.kind != "new-specification" and not shape_fits(site.read.form, spec.shape):
            return None, f"{_where(site)} is not {SHAPE_WORDS[spec.shape]} (see TG002)"
        if through_alias(template.root, site.path):
            return None, f"{_where(site)} is in a node shared through a YAML anchor"
        changes = add_tags_changes(site, spec, tags)
        if changes is None:
            return None, f"{_where(site)} is built by an intrinsic function"
        keys = ", ".join(tags)
        noun = "tag" if len(tags) == 1 else "tags"
        description = f"add {noun} {keys}"
        if site.kind == "globals":
            description += f" to Globals.{site.globals_section}.Tags"
        if spec.create_only:
            return Fix.unsafe(description, *changes), ""
        return Fix.safe(description, *changes), ""
