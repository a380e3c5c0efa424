"""HC001: code and artifacts loaded from an S3 bucket the template neither creates nor
receives as a parameter: the stack deploys only in its author's account."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnfix.changes import ReplaceValue, SetKey
from cfnfix.intrinsics import (
    NO_VALUE,
    If,
    Ref,
    Sub,
    escape_sub,
    function_of,
    getatt_target,
    ref_target,
    sub_parts,
)
from cfnfix.nodes import Path, to_plain, walk
from cfnfix.rule import Example, Finding, Fix, Rule, Severity
from cfnfix.template import Resource, Template

from ._artifacts import (
    FINE,
    GLOBAL_LOCATIONS,
    LITERAL,
    LOCATIONS,
    Location,
    classify,
    classify_url,
    describe,
    split_s3_uri,
    sub_split_bucket,
)
from ._aws import FUNCTION_TYPES
from ._params import Plan, param_name
from ._scan import has_placeholders, unescape_sub

BUCKET_DESCRIPTION = (
    "Replaces a hardcoded S3 bucket of deployment artifacts (the default is the old value); "
    "set it to a bucket of the deploying account that holds the artifact."
)
KEY_DESCRIPTION = (
    "Replaces a hardcoded S3 key of a deployment artifact (the default is the old value)."
)
VERSION_DESCRIPTION = (
    "Replaces a hardcoded S3 object version of a deployment artifact "
    "(the default is the old value)."
)
URL_DESCRIPTION = "Replaces a hardcoded template URL (the default is the old value)."
LAYER_TYPES = ("AWS::Lambda::LayerVersion", "AWS::Serverless::LayerVersion")


def convention_description(kind: str, convention: str) -> str:
    return (
        f"Replaces the {kind} naming convention '{convention}', which names a bucket only "
        f"its author has; leave empty to keep using the convention."
    )


def layer_description(layer: str) -> str:
    return (
        f"S3 bucket holding the content of the Lambda layer {layer}; leave empty to deploy "
        f"without the layer."
    )


def _parameter_or_convention(
    plan: Plan, base: str, value: Any, kind: str, description: str, what: str
) -> Any:
    """The value replacing a hardcoded ``value``: a parameter defaulting to it when it is
    a LITERAL; for a CONVENTION an empty parameter that, when set, overrides it."""
    if kind == LITERAL:
        return Ref(plan.parameter(base, value, description))
    parameter = plan.parameter(base, "", convention_description(what, describe(value)))
    return If(plan.has_value(parameter), Ref(parameter), to_plain(value))


def _used_variables(text: str, variables: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in variables.items() if "${" + k + "}" in text or "${" + k + "." in text}


def _sub(text: str, variables: dict[str, Any]) -> dict[str, Any]:
    return Sub(text, _used_variables(text, variables) or None)


class ArtifactOutsideTemplate(Rule):
    id = "HC001"
    name = "artifact-outside-template"
    family = "hardcoded"
    severity = Severity.ERROR
    summary = "Code or artifact loaded from an S3 bucket that only the template's author has"
    what = """
Reports artifact locations that name an S3 bucket the template neither creates nor
receives: a literal bucket, or a bucket named by a convention built only from pseudo
parameters (`!Sub '${AWS::Region}-lambda-layers'`). It looks at `AWS::Lambda::Function`
`Code`, `AWS::Lambda::LayerVersion` `Content`, SAM `CodeUri` / `ContentUri` /
`DefinitionUri` (`s3://bucket/key` or `{Bucket, Key}`, also in `Globals`),
`AWS::CloudFormation::Stack` / `StackSet` `TemplateURL`, `AWS::Serverless::Application`
`Location`, `AWS::ElasticBeanstalk::ApplicationVersion` `SourceBundle`, `AWS::Glue::Job`
`Command.ScriptLocation`, `AWS::StepFunctions::StateMachine` `DefinitionS3Location`,
`AWS::ApiGateway::RestApi` / `AWS::ApiGatewayV2::Api` `BodyS3Location`, AppSync S3
locations and the like.

A bucket from a parameter, a resource of the template (`!Ref`, `!GetAtt`), an import
or a dynamic reference is fine, and so is a local path (`CodeUri: src/`) that
`sam package` / `aws cloudformation package` uploads.
"""
    why = """
The bucket exists in one account: the author's. Deployed anywhere else, the stack fails
to create the function or layer (`S3 Error Code: NoSuchBucket` / `AccessDenied`) and
rolls back. A naming convention such as `${AWS::Region}-lambda-layers` looks portable
but is worse: it names a bucket in *every* region that nobody but the author created,
and S3 bucket names are global, so in another account the name is either missing or
someone else's bucket.
"""
    fix_safety = """
**Safe.** A literal bucket (and a literal key and version) become new parameters
(`<Resource>ArtifactBucket`, `<Resource>ArtifactKey`, `<Resource>ArtifactVersion`, or
`<Resource>TemplateUrl`) whose `Default` is the old value, referenced with `!Ref`; a
deploy with default parameters loads exactly the same object. A SAM `s3://bucket/key`
URI becomes the equivalent `{Bucket, Key}` mapping. A convention that no default can
express gets a parameter defaulting to empty, a `Has<Parameter>` condition, and
`!If [Has<Parameter>, !Ref <Parameter>, <the convention>]`, so the convention stays the
fallback. Fixing the same bucket twice reuses the parameter.

With the option `layer-fix = "optional-layer"`, a Lambda layer instead becomes optional
(the remedy the seed analysis proposes): its bucket parameter defaults to empty, the
layer resource gets a condition, and every function's `Layers` entry becomes
`!If [Has..., !Ref Layer, !Ref AWS::NoValue]`. This fix is **unsafe**: by default the
layer is no longer created, and code that imports from it must bundle the dependency.
It is offered only when the layer is referenced from `Layers` lists and outputs alone.

An `AWS::Serverless::Application` whose `Location` is a URL has no fix: the SAM transform
fetches that template itself and rejects anything but a literal there. Nor is a fix that
adds a condition offered while the template's `Parameters` or `Conditions` are malformed
(an `AllowedValues` that is not a list, a `Conditions` section that is not a mapping):
CloudFormation rejects such a template, and cfn-lint then sees none of its conditions, so
the new `!If` could not be checked.
"""
    fix_availability = "sometimes"
    options_schema = {
        "layer-fix": {
            "type": "string",
            "enum": ["parameters", "optional-layer"],
            "default": "parameters",
            "description": "how to fix a Lambda layer whose content is hardcoded: "
            "parameters (safe) or an optional layer behind a condition (unsafe)",
        }
    }
    examples = (
        Example(
            bad="""
Resources:
  PillowLayer:
    Type: AWS::Lambda::LayerVersion
    Properties:
      Content:
        S3Bucket: !Sub '${AWS::Region}-lambda-layers'
        S3Key: pillow-layer.zip
""",
            good="""
Parameters:
  PillowLayerArtifactBucket:
    Type: String
    Description: S3 bucket holding the layer content
  PillowLayerArtifactKey:
    Type: String
    Default: pillow-layer.zip
Resources:
  PillowLayer:
    Type: AWS::Lambda::LayerVersion
    Properties:
      Content:
        S3Bucket: !Ref PillowLayerArtifactBucket
        S3Key: !Ref PillowLayerArtifactKey
""",
        ),
        Example(
            bad="""
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: s3://acme-artifacts/fn.zip
""",
            good="""
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
""",
        ),
        Example(
            options={"layer-fix": "optional-layer"},
            bad="""
Resources:
  PillowLayer:
    Type: AWS::Lambda::LayerVersion
    Properties:
      Content:
        S3Bucket: !Sub '${AWS::Region}-lambda-layers'
        S3Key: pillow-layer.zip
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: "def handler(event, context): pass"
      Layers:
        - !Ref PillowLayer
""",
            good="""
Parameters:
  LayerBucket:
    Type: String
    Default: ''
Conditions:
  HasLayer: !Not [!Equals [!Ref LayerBucket, '']]
Resources:
  PillowLayer:
    Type: AWS::Lambda::LayerVersion
    Condition: HasLayer
    Properties:
      Content:
        S3Bucket: !Ref LayerBucket
        S3Key: pillow-layer.zip
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: "def handler(event, context): pass"
      Layers:
        - !If [HasLayer, !Ref PillowLayer, !Ref AWS::NoValue]
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        if _conditions_usable(template):
            yield from self._findings(template)
            return
        for finding in self._findings(template):
            if finding.fix is not None and _adds_condition(finding.fix):
                finding = finding.replace(fix=None)
            yield finding

    def _findings(self, template: Template) -> Iterator[Finding]:
        names: dict[tuple[str, str], str] = {}  # parameter names shared by this run's fixes
        for resource in template.resources.values():
            for location in LOCATIONS.get(resource.type, ()):
                yield from self._check(
                    template,
                    names,
                    resource.prop_path(),
                    resource.properties,
                    location,
                    resource.logical_id,
                    resource,
                )
        if template.is_sam:
            for section, location in GLOBAL_LOCATIONS.items():
                body = template.globals.get(section)
                if isinstance(body, dict):
                    yield from self._check(
                        template,
                        names,
                        ("Globals", section),
                        body,
                        location,
                        f"Globals{section}",
                        None,
                    )

    # -- checking --------------------------------------------------------------------

    def _check(
        self,
        template: Template,
        names: dict[tuple[str, str], str],
        base: Path,
        properties: dict[str, Any],
        location: Location,
        owner: str,
        resource: Resource | None,
    ) -> Iterator[Finding]:
        value: Any = properties
        for key in location.path:
            if not isinstance(value, dict) or key not in value:
                return
            value = value[key]
        path: Path = (*base, *location.path)
        what = location.what
        mapping = isinstance(value, dict) and function_of(value) is None
        if location.kind == "pair" or (location.sam and mapping):
            yield from self._check_pair(template, names, path, value, location, owner, resource)
            return
        kind = classify_url(template, value)
        if kind == FINE:
            return
        shown = describe(value)
        if kind == LITERAL:
            message = (
                f"the {what} is loaded from '{shown}', outside this template: the stack "
                f"deploys only where that location exists"
            )
        else:
            message = (
                f"the {what} is loaded from '{shown}', named by a convention only the "
                f"template's author follows: the stack deploys only in the author's account"
            )
        if resource is not None and resource.type == "AWS::Serverless::Application":
            # SAM fetches the template itself at transform time: Location must stay a
            # literal (a Ref is rejected: "missing the required [ApplicationId]").
            message += (
                "; SAM reads Location itself and takes no parameter there, so use an "
                "AWS::CloudFormation::Stack whose TemplateURL is a parameter"
            )
            yield self.finding(path, message)
            return
        fix = self._uri_fix(Plan(template, names), path, value, location, owner, kind)
        yield self.finding(path, message, fix=fix)

    def _check_pair(
        self,
        template: Template,
        names: dict[tuple[str, str], str],
        path: Path,
        value: Any,
        location: Location,
        owner: str,
        resource: Resource | None,
    ) -> Iterator[Finding]:
        if not isinstance(value, dict) or ref_target(value) is not None or len(value) == 0:
            return
        if location.bucket not in value:
            return
        bucket = value[location.bucket]
        kind = classify(template, bucket)
        if kind == FINE:
            return
        shown = describe(bucket)
        if kind == LITERAL:
            message = (
                f"the {location.what} is loaded from S3 bucket '{shown}', which this template "
                f"does not create: the stack deploys only where that bucket exists"
            )
        else:
            message = (
                f"the {location.what} is loaded from the S3 bucket named by the convention "
                f"'{shown}', which this template does not create: it exists only in the "
                f"account of the template's author"
            )
        fix: Fix | None
        if (
            self.options["layer-fix"] == "optional-layer"
            and resource is not None
            and resource.type in LAYER_TYPES
        ):
            fix = self._optional_layer_fix(Plan(template, names), resource, path, value, location)
        else:
            fix = self._pair_fix(Plan(template, names), path, value, location, owner, kind)
        yield self.finding((*path, location.bucket), message, fix=fix)

    # -- fixes -----------------------------------------------------------------------

    def _move_key_and_version(
        self, plan: Plan, path: Path, value: dict[str, Any], location: Location, owner: str
    ) -> None:
        """Move a literal key and version of the pair at ``path`` into parameters."""
        out: dict[str, Any] = {}
        for name, suffix, description in (
            (location.key, "ArtifactKey", KEY_DESCRIPTION),
            (location.version, "ArtifactVersion", VERSION_DESCRIPTION),
        ):
            if name is None or name not in value:
                continue
            item = value[name]
            if (
                isinstance(item, (str, int))
                and not isinstance(item, bool)
                and "${" not in str(item)
            ):
                parameter = plan.parameter(param_name(owner, suffix), str(item), description)
                out[name] = Ref(parameter)
            else:
                out[name] = to_plain(item)
        for name, new in out.items():
            if new != to_plain(value[name]):
                plan.add(ReplaceValue((*path, name), new))

    def _pair_fix(
        self,
        plan: Plan,
        path: Path,
        value: dict[str, Any],
        location: Location,
        owner: str,
        kind: str,
    ) -> Fix:
        bucket = _parameter_or_convention(
            plan,
            param_name(owner, "ArtifactBucket"),
            value[location.bucket],
            kind,
            BUCKET_DESCRIPTION,
            "S3 bucket",
        )
        plan.add(ReplaceValue((*path, location.bucket), bucket))
        self._move_key_and_version(plan, path, value, location, owner)
        return Fix.safe(_describe_fix(plan), *plan.changes)

    def _uri_fix(
        self,
        plan: Plan,
        path: Path,
        value: Any,
        location: Location,
        owner: str,
        kind: str,
    ) -> Fix | None:
        if location.kind == "url":
            new = _parameter_or_convention(
                plan, param_name(owner, "TemplateUrl"), value, kind, URL_DESCRIPTION, "template URL"
            )
            plan.add(ReplaceValue(path, new))
            return Fix.safe(_describe_fix(plan), *plan.changes)
        return self._s3_uri_fix(plan, path, value, location, owner)

    def _s3_uri_fix(
        self, plan: Plan, path: Path, value: Any, location: Location, owner: str
    ) -> Fix | None:
        """Fix an `s3://bucket/key` URI, literal or a Sub."""
        variables: dict[str, Any] = {}
        version_text: str | None = None
        if isinstance(value, str):
            parsed = split_s3_uri(value)
            if parsed is None:
                return None
            bucket_text, key_text, version_text = parsed
            bucket_part, key_sub = escape_sub(bucket_text), escape_sub(key_text)
            has_slash = "/" in value[5:]
        else:
            parts = sub_parts(value)
            split = sub_split_bucket(parts[0]) if parts else None
            if parts is None or split is None:
                return None
            variables = parts[1]
            bucket_part, key_sub = split
            has_slash = "/" in parts[0][5:]
        convention = has_placeholders(bucket_part)
        if convention:
            bucket_param = plan.parameter(
                param_name(owner, "ArtifactBucket"),
                "",
                convention_description("S3 bucket", describe(Sub(bucket_part))),
            )
            condition: str | None = plan.has_value(bucket_param)
        else:
            bucket_param = plan.parameter(
                param_name(owner, "ArtifactBucket"), unescape_sub(bucket_part), BUCKET_DESCRIPTION
            )
            condition = None
        key_value: Any
        if has_placeholders(key_sub) or "${" in unescape_sub(key_sub):
            key_value = _sub(key_sub, variables)
        elif key_sub:
            key_param = plan.parameter(
                param_name(owner, "ArtifactKey"), unescape_sub(key_sub), KEY_DESCRIPTION
            )
            key_value, key_sub = Ref(key_param), f"${{{key_param}}}"
        else:
            key_value = ""
        version_param = None
        if version_text:
            version_param = plan.parameter(
                param_name(owner, "ArtifactVersion"), version_text, VERSION_DESCRIPTION
            )
        if location.sam:
            if not key_value:
                return None  # SAM needs a key
            bucket_value: Any = Ref(bucket_param)
            if condition is not None:
                bucket_value = If(condition, bucket_value, _sub(bucket_part, variables))
            pair: dict[str, Any] = {"Bucket": bucket_value, "Key": key_value}
            if version_param:
                pair["Version"] = Ref(version_param)
            plan.add(ReplaceValue(path, pair))
            return Fix.safe(_describe_fix(plan), *plan.changes)
        # A plain s3:// URI property: rebuild it with Fn::Sub.
        suffix = f"/{key_sub}" if has_slash else ""
        if version_param:
            suffix += f"?versionId=${{{version_param}}}"
        new: Any = _sub(f"s3://${{{bucket_param}}}{suffix}", variables)
        if condition is not None:
            new = If(condition, new, _sub(f"s3://{bucket_part}{suffix}", variables))
        plan.add(ReplaceValue(path, new))
        return Fix.safe(_describe_fix(plan), *plan.changes)

    def _optional_layer_fix(
        self,
        plan: Plan,
        layer: Resource,
        path: Path,
        value: dict[str, Any],
        location: Location,
    ) -> Fix | None:
        template = plan.template
        if layer.condition is not None:
            return None
        parameter = plan.parameter(
            param_name(layer.logical_id, "ArtifactBucket"), "", layer_description(layer.logical_id)
        )
        condition = plan.has_value(parameter)
        before = "Properties" if "Properties" in layer.node else None
        plan.add(SetKey(layer.path, "Condition", condition, before=before))
        plan.add(ReplaceValue((*path, location.bucket), Ref(parameter)))
        self._move_key_and_version(plan, path, value, location, layer.logical_id)
        for ref_path, kind in _references(template, layer.logical_id):
            if kind == "layers-item":
                plan.add(ReplaceValue(ref_path, If(condition, Ref(layer.logical_id), NO_VALUE)))
            elif kind == "output":
                output = template.outputs.get(str(ref_path[1]))
                existing = output.get("Condition") if isinstance(output, dict) else None
                if existing is None:
                    plan.add(SetKey(ref_path[:2], "Condition", condition))
                elif existing != condition:
                    return None
            else:
                return None  # referenced in a way a condition would break
        return Fix.unsafe(
            f"make layer {layer.logical_id} optional behind condition {condition} "
            f"(parameter {parameter}, empty by default)",
            *plan.changes,
        )


def _conditions_usable(template: Template) -> bool:
    """Whether a new condition can be checked: no section CloudFormation would reject
    around it (cfn-lint 1.x drops every condition when an ``AllowedValues`` is no list)."""
    conditions = template.root.get("Conditions")
    if conditions is not None and not isinstance(conditions, dict):
        return False
    return not any(
        isinstance(body, dict)
        and "AllowedValues" in body
        and not isinstance(body["AllowedValues"], list)
        for body in template.parameters.values()
    )


def _adds_condition(fix: Fix) -> bool:
    """Whether ``fix`` adds a condition or a use of one."""
    for change in fix.changes:
        if isinstance(change, SetKey) and change.path == ("Conditions",):
            return True
        value = getattr(change, "value", None)
        if any(isinstance(v, dict) and "Fn::If" in v for _, v in walk(value)):
            return True
    return False


def _references(template: Template, logical_id: str) -> Iterator[tuple[Path, str]]:
    """Where ``logical_id`` is referenced: ``layers-item``, ``output`` or ``other``."""
    for resource in template.resources.values():
        if logical_id in resource.depends_on:
            yield resource.path, "other"
    for path, value in walk(template.root):
        if not path or path[0] not in ("Resources", "Outputs", "Globals", "Conditions"):
            continue
        refers = ref_target(value) == logical_id
        target = getatt_target(value)
        refers = refers or (target is not None and target[0] == logical_id)
        refers = refers or any(t.name == logical_id for t in template.sub_targets(value))
        if not refers:
            continue
        if path[0] == "Outputs":
            yield path, "output"
        elif ref_target(value) == logical_id and _is_layers_item(template, path):
            yield path, "layers-item"
        else:
            yield path, "other"


def _is_layers_item(template: Template, path: Path) -> bool:
    if len(path) == 3 and path[0] == "Globals" and path[1] == "Function" and path[2] != "Layers":
        return False
    if len(path) == 4 and path[:3] == ("Globals", "Function", "Layers"):
        return isinstance(path[3], int)
    if len(path) == 5 and path[0] == "Resources" and path[2:4] == ("Properties", "Layers"):
        resource = template.resources.get(str(path[1]))
        return resource is not None and resource.type in FUNCTION_TYPES and isinstance(path[4], int)
    return False


def _describe_fix(plan: Plan) -> str:
    names = ", ".join(plan.used)
    return f"move the artifact location into parameter{'s' if len(plan.used) > 1 else ''} {names}"
