"""Where resources load artifacts from S3, and whether the location is the template's own.

An artifact location is fine when it comes from outside the template text: a
parameter, a resource of this template, an import, a dynamic reference, or a local path
that `sam package` / `aws cloudformation package` uploads. It is *hardcoded* when it is
a literal bucket, or a bucket named by a convention built only from pseudo parameters
(`!Sub '${AWS::Region}-lambda-layers'`): such a bucket exists only in the account of the
template's author.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from cfnfix.intrinsics import function_of, ref_target, sub_parts
from cfnfix.template import Template

from ._scan import has_placeholders


class Location(NamedTuple):
    """One property of a resource type that names an S3 artifact.

    ``kind``: ``pair`` (a mapping with bucket / key / version keys), ``uri`` (a string
    ``s3://bucket/key``; for SAM also a ``{Bucket, Key, Version}`` mapping) or ``url``
    (a template URL, `https://...` or `s3://...`).
    """

    path: tuple[str, ...]
    kind: str
    what: str
    bucket: str = "Bucket"
    key: str = "Key"
    version: str | None = "Version"
    sam: bool = False


def _lambda_pair(what: str, *path: str) -> Location:
    return Location(path, "pair", what, "S3Bucket", "S3Key", "S3ObjectVersion")


def _sam_uri(what: str, name: str) -> Location:
    return Location((name,), "uri", what, sam=True)


LOCATIONS: dict[str, tuple[Location, ...]] = {
    "AWS::Lambda::Function": (_lambda_pair("function code", "Code"),),
    "AWS::Lambda::LayerVersion": (_lambda_pair("layer content", "Content"),),
    "AWS::Serverless::Function": (_sam_uri("function code", "CodeUri"),),
    "AWS::Serverless::LayerVersion": (_sam_uri("layer content", "ContentUri"),),
    "AWS::Serverless::Api": (_sam_uri("API definition", "DefinitionUri"),),
    "AWS::Serverless::HttpApi": (_sam_uri("API definition", "DefinitionUri"),),
    "AWS::Serverless::StateMachine": (_sam_uri("state machine definition", "DefinitionUri"),),
    "AWS::Serverless::Application": (Location(("Location",), "url", "application template"),),
    "AWS::CloudFormation::Stack": (Location(("TemplateURL",), "url", "nested stack template"),),
    "AWS::CloudFormation::StackSet": (Location(("TemplateURL",), "url", "stack set template"),),
    "AWS::ElasticBeanstalk::ApplicationVersion": (
        Location(("SourceBundle",), "pair", "source bundle", "S3Bucket", "S3Key", None),
    ),
    "AWS::Glue::Job": (Location(("Command", "ScriptLocation"), "uri", "job script"),),
    "AWS::StepFunctions::StateMachine": (
        Location(("DefinitionS3Location",), "pair", "state machine definition"),
    ),
    "AWS::ApiGateway::RestApi": (Location(("BodyS3Location",), "pair", "API definition"),),
    "AWS::ApiGatewayV2::Api": (Location(("BodyS3Location",), "pair", "API definition"),),
    "AWS::AppSync::GraphQLSchema": (Location(("DefinitionS3Location",), "uri", "GraphQL schema"),),
    "AWS::AppSync::Resolver": (
        Location(("RequestMappingTemplateS3Location",), "uri", "request mapping template"),
        Location(("ResponseMappingTemplateS3Location",), "uri", "response mapping template"),
        Location(("CodeS3Location",), "uri", "resolver code"),
    ),
    "AWS::AppSync::FunctionConfiguration": (
        Location(("RequestMappingTemplateS3Location",), "uri", "request mapping template"),
        Location(("ResponseMappingTemplateS3Location",), "uri", "response mapping template"),
        Location(("CodeS3Location",), "uri", "function code"),
    ),
    "AWS::CodeCommit::Repository": (
        Location(
            ("Code", "S3"), "pair", "initial repository content", "Bucket", "Key", "ObjectVersion"
        ),
    ),
    "AWS::CloudFormation::ModuleVersion": (Location(("ModulePackage",), "uri", "module package"),),
    "AWS::CloudFormation::ResourceVersion": (
        Location(("SchemaHandlerPackage",), "uri", "resource handler package"),
    ),
}
# SAM Globals sections that may carry an artifact location for every resource.
GLOBAL_LOCATIONS: dict[str, Location] = {
    "Function": _sam_uri("function code", "CodeUri"),
    "Api": _sam_uri("API definition", "DefinitionUri"),
    "HttpApi": _sam_uri("API definition", "DefinitionUri"),
}

_URL_SCHEME = re.compile(r"^(?:https?|s3)://", re.IGNORECASE)

# How a value names a bucket (or URL).
FINE = "fine"  # from a parameter, a resource, an import, or not judged
LITERAL = "literal"
CONVENTION = "convention"


def fixed_value(template: Template, value: Any) -> bool:
    """Whether ``value`` is built only from literals and pseudo parameters."""
    if isinstance(value, str):
        return "{{resolve:" not in value
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, list):
        return all(fixed_value(template, item) for item in value)
    fn = function_of(value)
    if fn is None:
        return False
    name, arg = fn
    if name == "Ref":
        target = ref_target(value)
        return target is not None and template.resolve(target).kind == "pseudo"
    if name == "Fn::Sub":
        parts = sub_parts(value)
        if parts is None:
            return False
        text, variables = parts
        if "{{resolve:" in text:
            return False
        if any(t.kind != "pseudo" for t in template.sub_targets(value)):
            return False
        return all(fixed_value(template, v) for v in variables.values())
    if name in ("Fn::Join", "Fn::Select", "Fn::Split", "Fn::Base64"):
        return fixed_value(template, arg)
    return False  # If, FindInMap, GetAtt, ImportValue, ...: not judged


def classify(template: Template, value: Any) -> str:
    """How a bucket value names its bucket: LITERAL, CONVENTION or FINE."""
    if isinstance(value, str):
        return LITERAL if value and "{{resolve:" not in value and "${" not in value else FINE
    if function_of(value) is not None and fixed_value(template, value):
        return CONVENTION
    return FINE


def classify_url(template: Template, value: Any) -> str:
    """How a URI or URL property names its location (local paths are FINE)."""
    if isinstance(value, str):
        return LITERAL if _URL_SCHEME.match(value) and "${" not in value else FINE
    parts = sub_parts(value)
    if parts is not None and not _URL_SCHEME.match(parts[0]):
        return FINE  # a local path or something this rule does not understand
    if function_of(value) is not None and fixed_value(template, value):
        return CONVENTION
    return FINE


def split_s3_uri(text: str) -> tuple[str, str, str | None] | None:
    """``s3://bucket/key?versionId=v`` -> (bucket, key, version)."""
    if not text.lower().startswith("s3://"):
        return None
    rest = text[5:]
    bucket, _, key = rest.partition("/")
    version = None
    if "?versionId=" in key:
        key, _, version = key.partition("?versionId=")
    if not bucket:
        return None
    return bucket, key, version


def describe(value: Any) -> str:
    """A short human rendering of a value for messages and descriptions (no `${`)."""
    parts = sub_parts(value)
    if parts is not None:
        return re.sub(r"\$\{([^}]*)\}", r"<\1>", parts[0])
    fn = function_of(value)
    if fn is not None and fn[0] == "Fn::Join" and isinstance(fn[1], list) and len(fn[1]) == 2:
        delimiter, items = fn[1]
        if isinstance(delimiter, str) and isinstance(items, list):
            return str(delimiter).join(describe(item) for item in items)
    target = ref_target(value)
    if target is not None:
        return f"<{target}>"
    if isinstance(value, str):
        return value
    return "<computed>"


def sub_split_bucket(sub_template: str) -> tuple[str, str] | None:
    """Split a `s3://<bucket>/<key>` Sub template into its bucket and key parts."""
    if not sub_template.lower().startswith("s3://"):
        return None
    rest = sub_template[5:]
    # The first `/` outside a placeholder ends the bucket.
    depth = 0
    for index, char in enumerate(rest):
        if char == "{" and rest[index - 1 : index] == "$":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif char == "/" and not depth:
            return rest[:index], rest[index + 1 :]
    return rest, ""


__all__ = [
    "CONVENTION",
    "FINE",
    "GLOBAL_LOCATIONS",
    "LITERAL",
    "LOCATIONS",
    "Location",
    "classify",
    "classify_url",
    "describe",
    "fixed_value",
    "has_placeholders",
    "split_s3_uri",
    "sub_split_bucket",
]
