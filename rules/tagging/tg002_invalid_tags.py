"""TG002: tags that CloudFormation or the service rejects."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.nodes import Path
from cfnfix.rule import Example, Finding, Rule, Severity
from cfnfix.template import SAM_GLOBALS, Template

from ._tags import (
    GLOBALS_WITH_TAGS,
    MAX_TAGS,
    SHAPE_WORDS,
    TagRead,
    key_problem,
    read_tags,
    resource_sites,
    shape_fits,
    tag_spec,
    tags_refused,
    value_problem,
)

_FORM_WORDS = {"list": "a list", "map": "a map", "json-string": "a JSON string"}


class InvalidTags(Rule):
    id = "TG002"
    name = "invalid-tags"
    family = "tagging"
    severity = Severity.ERROR
    summary = "Tags in a shape the type does not take, or with keys or values AWS rejects"
    what = """
Reports tags that make a deployment fail:

- a list of `{Key, Value}` items where the type takes a map (every `AWS::Serverless::*`
  type, `AWS::SSM::Parameter`, `AWS::Batch::*`, `Globals.<Section>.Tags`), a map where it
  takes a list (most `AWS::` types), or a JSON string where it takes neither;
- a list item without `Key`, or (Auto Scaling groups) without `PropagateAtLaunch`;
- the same key twice in one list;
- a key that starts with `aws:` (in any case), is empty or is longer than 128 characters;
- a value longer than 256 characters;
- `Tags` in a `Globals` section other than `Function` and `HttpApi` (SAM rejects them);
- more than 50 tags on one resource (SAM: `Globals` tags and the resource's own together);
- tags on an `AWS::Serverless::HttpApi` (its own or from `Globals.HttpApi.Tags`) defined
  by `DefinitionUri` or by a `DefinitionBody` that is not an inline OpenAPI 3 document:
  SAM puts HttpApi tags into the OpenAPI document and fails without one.

Keys and values given by intrinsic functions are not judged; entries inside an `Fn::If`
branch are checked for length and prefix but do not count as duplicates or towards the
limit.
"""
    why = """
CloudFormation validates tag properties against the resource schema before it creates
anything, and the tagging APIs reject reserved prefixes, over-long keys or values,
duplicate keys and more than 50 user tags: the stack update fails and rolls back. SAM
fails to transform a template whose `Tags` is a list.
"""
    examples = (
        Example(
            bad="""
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Tags:
        - Key: Purpose
          Value: thumbnails
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
      Tags:
        Purpose: thumbnails
""",
        ),
        Example(
            bad="""
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      Tags:
        - Key: aws:owner
          Value: data-team
        - Key: Purpose
          Value: uploads
        - Key: Purpose
          Value: thumbnails
""",
            good="""
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      Tags:
        - Key: owner
          Value: data-team
        - Key: Purpose
          Value: uploads
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        if template.is_sam:
            for section in SAM_GLOBALS:
                defaults = template.globals.get(section)
                if isinstance(defaults, dict) and "Tags" in defaults:
                    path: Path = ("Globals", section, "Tags")
                    if section not in GLOBALS_WITH_TAGS:
                        yield self.finding(
                            path,
                            f"Globals.{section} does not take Tags (SAM accepts them only in "
                            f"{' and '.join(f'Globals.{s}' for s in GLOBALS_WITH_TAGS)})",
                        )
                        continue
                    read = read_tags(defaults["Tags"], path)
                    yield from self._check_read(read, path, "map", f"Globals.{section}.Tags", ())
        for resource in template.resources.values():
            spec = tag_spec(resource.type)
            if spec is None:
                continue
            sites = resource_sites(template, resource, spec)
            refused = tags_refused(template, resource)
            if refused:
                tagged = [s for s in sites if s.read.form != "absent"]
                if tagged:
                    yield self.finding(
                        tagged[-1].path, f"{resource.type} cannot take Tags here: {refused}"
                    )
            total: set[str] = set()
            hidden = 0
            for site in sites:
                unconditional = [e for e in site.read.entries if not e.conditional]
                total |= {e.key for e in unconditional if isinstance(e.key, str)}
                hidden += sum(1 for e in unconditional if not isinstance(e.key, str))
                if site.kind != "tags":
                    continue  # Globals: checked once above; new-specification: nothing yet
                what = f"{resource.type} {'.'.join(str(p) for p in site.path[3:])}"
                yield from self._check_read(
                    site.read, site.path, spec.shape, what, spec.item_required
                )
            count = len(total) + hidden
            if count > MAX_TAGS:
                own = sites[-1]
                path = own.path if own.read.form != "absent" else resource.path
                yield self.finding(
                    path,
                    f"{resource.type} has {count} tags; at most {MAX_TAGS} are allowed",
                )

    def _check_read(
        self, read: TagRead, path: Path, shape: str, what: str, required: tuple[str, ...]
    ) -> Iterator[Finding]:
        if not shape_fits(read.form, shape):
            yield self.finding(
                path,
                f"{what} must be {SHAPE_WORDS[shape]}, not {_FORM_WORDS[read.form]}",
            )
            return
        seen: dict[str, Path] = {}
        for entry in read.entries:
            if entry.item_keys is not None and "Key" not in entry.item_keys:
                yield self.finding(entry.path, "tag item has no Key")
                continue
            missing = [k for k in required if k not in (entry.item_keys or {k})]
            if missing:
                yield self.finding(entry.path, f"tag item has no {', '.join(missing)}")
            if not isinstance(entry.key, str):
                continue
            problem = key_problem(entry.key)
            if problem:
                yield self.finding(entry.path, f"tag key {_short(entry.key)} {problem}")
            problem = value_problem(entry.value)
            if problem:
                yield self.finding(entry.path, f"value of tag {_short(entry.key)} {problem}")
            if entry.conditional or read.form not in ("list",):
                continue
            if entry.key in seen:
                first = seen[entry.key]
                yield self.finding(
                    entry.path,
                    f"duplicate tag key {_short(entry.key)} (first at index {first[-1]})",
                )
            else:
                seen[entry.key] = entry.path


def _short(key: str) -> str:
    return repr(key if len(key) <= 40 else key[:37] + "...")
