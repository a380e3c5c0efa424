"""Hypothesis strategies: random CloudFormation templates in random formatting.

A template is built as data first (dicts, lists, scalars and :class:`Fn` for
intrinsics) from the resource types the rules care about, then rendered by a small
renderer of our own in a drawn :class:`Style`: indent width, indented or flush
sequences, flow or block collections, quoting, comments everywhere, CRLF, a BOM, no
final newline, short or long intrinsics, or JSON at several indents.

Every comment the renderer writes is ``# cN`` with a unique N, so a test can check that
each one survives a fix.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st


@dataclass(frozen=True)
class Fn:
    """An intrinsic function: ``name`` is the long form (``Ref``, ``Fn::GetAtt``...)."""

    name: str
    arg: Any


def ref(name: str) -> Fn:
    return Fn("Ref", name)


def getatt(resource: str, attribute: str) -> Fn:
    return Fn("Fn::GetAtt", [resource, attribute])


def sub(text: str) -> Fn:
    return Fn("Fn::Sub", text)


@dataclass
class Style:
    json: bool = False
    indent: int = 2  # mapping indent (YAML) or JSON indent
    indent_sequences: bool = True  # `key:\n  - a` rather than `key:\n- a`
    flow: float = 0.0  # chance that a small collection is written in flow style
    quote: str = "plain"  # "plain" (when possible), "single" or "double"
    comments: float = 0.0  # chance of a comment before a key / after a value
    short_tags: bool = True  # `!Ref X` rather than `Ref: X`
    crlf: bool = False
    bom: bool = False
    final_newline: bool = True
    seed: int = 0
    comment_ids: list[str] = field(default_factory=list)  # filled in while rendering


# -- rendering -------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./\-]*")
_PLAIN_BLOCK = re.compile(r"[A-Za-z_/][A-Za-z0-9_./\-]*(:{1,2}[A-Za-z0-9_./\-*]+)*")  # `s3:Get*`
_RESERVED = re.compile(
    r"(?i)y|n|yes|no|true|false|on|off|null|~|\.inf|\.nan"  # YAML 1.1 reads these as non-strings
)


class _Renderer:
    def __init__(self, style: Style) -> None:
        self.style = style
        self.rnd = random.Random(style.seed)

    def comment(self) -> str | None:
        if self.rnd.random() >= self.style.comments:
            return None
        ident = f"c{len(self.style.comment_ids) + 1}"
        self.style.comment_ids.append(ident)
        return f"# {ident}"

    def scalar(self, value: Any, flow: bool = True) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        text = str(value)
        quote = self.style.quote
        plain = _PLAIN if flow else _PLAIN_BLOCK
        if quote == "plain" and plain.fullmatch(text) and not _RESERVED.fullmatch(text):
            return text
        if not text.isprintable():  # a newline folds in single quotes
            return json.dumps(text)
        if quote == "single" or (quote == "plain" and self.rnd.random() < 0.5):
            return "'" + text.replace("'", "''") + "'"
        return json.dumps(text)

    def inline(self, value: Any) -> str | None:
        """``value`` on one line, or ``None`` when it is to be written in block style."""
        if isinstance(value, Fn):
            if not self.style.short_tags:
                return self.inline({value.name: value.arg})
            if isinstance(value.arg, (dict, list)) and value.arg and self.rnd.random() < 0.3:
                return None  # the argument in block style, under the tag
            return self.flow(value)
        if isinstance(value, (dict, list)):
            if not value:
                return "{}" if isinstance(value, dict) else "[]"
            if self.rnd.random() < self.style.flow and _small(value):
                return self.flow(value)
            return None
        return self.scalar(value, flow=False)

    def flow(self, value: Any) -> str:
        if isinstance(value, Fn):
            if not self.style.short_tags:
                return self.flow({value.name: value.arg})
            tag = "!" + value.name.removeprefix("Fn::")
            if value.name == "Fn::GetAtt" and self.rnd.random() < 0.5:
                return f"{tag} {value.arg[0]}.{value.arg[1]}"
            return f"{tag} {self.flow(value.arg)}"
        if isinstance(value, dict):
            return (
                "{" + ", ".join(f"{self.scalar(k)}: {self.flow(v)}" for k, v in value.items()) + "}"
            )
        if isinstance(value, list):
            return "[" + ", ".join(self.flow(v) for v in value) + "]"
        return self.scalar(value)

    def mapping(self, value: dict[str, Any], column: int) -> list[str]:
        lines: list[str] = []
        pad = " " * column
        for key, item in value.items():
            comment = self.comment()
            if comment:
                lines.append(pad + comment)
            head = f"{pad}{self.scalar(key, flow=False)}:"
            lines.extend(self.value_lines(head, item, column))
        return lines

    def value_lines(self, head: str, value: Any, column: int) -> list[str]:
        """``head`` (``key:`` or ``-``) followed by ``value``."""
        if isinstance(value, Fn) and not self.style.short_tags:
            value = {value.name: value.arg}
        one_line = self.inline(value)
        if one_line is not None:
            comment = self.comment()
            return [f"{head} {one_line}" + (f" {comment}" if comment else "")]
        if isinstance(value, Fn):  # short form over a collection written in block style
            tag = "!" + value.name.removeprefix("Fn::")
            return [f"{head} {tag}", *self.block(value.arg, column + self.style.indent, True)]
        if head.endswith("-"):  # a block collection as a sequence item
            inner = self.block(value, column + 2, True)
            first = inner[0][column + 2 :] if inner[0].startswith(" " * (column + 2)) else inner[0]
            if first.startswith("#"):
                return [head, *inner]
            return [f"{head} {first}", *inner[1:]]
        nested = column + self.style.indent
        if isinstance(value, list) and not self.style.indent_sequences:
            nested = column
        return [head, *self.block(value, nested, False)]

    def block(self, value: Any, column: int, item: bool) -> list[str]:
        if isinstance(value, dict):
            return self.mapping(value, column)
        if isinstance(value, list):
            lines: list[str] = []
            for entry in value:
                lines.extend(self.value_lines(" " * column + "-", entry, column))
            return lines
        return [" " * column + self.scalar(value)]  # pragma: no cover - scalars are inline

    def document(self, template: dict[str, Any]) -> str:
        lines: list[str] = []
        for key, value in template.items():
            comment = self.comment()
            if comment:
                lines.append(comment)
            lines.extend(self.value_lines(f"{key}:", value, 0))
        comment = self.comment()
        if comment:
            lines.append(comment)
        return "\n".join(lines) + "\n"


def _small(value: Any) -> bool:
    return len(json.dumps(_plain(value))) < 60


def _plain(value: Any) -> Any:
    if isinstance(value, Fn):
        return {value.name: _plain(value.arg)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def render(template: dict[str, Any], style: Style) -> str:
    """The template's text in ``style`` (BOM included when the style has one)."""
    if style.json:
        text = json.dumps(_plain(template), indent=style.indent) + "\n"
    else:
        text = _Renderer(style).document(template)
    if not style.final_newline:
        text = text.rstrip("\n")
    if style.crlf:
        text = text.replace("\n", "\r\n")
    return ("\ufeff" if style.bom else "") + text


# -- templates -------------------------------------------------------------------------

_ASYNC_PRINCIPALS = ["s3.amazonaws.com", "sns.amazonaws.com", "events.amazonaws.com"]


@st.composite
def _code(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["zip", "literal", "convention"]))
    if kind == "zip":
        return {"ZipFile": "def handler(event, context):\n    return event\n"}
    bucket = "my-artifacts" if kind == "literal" else sub("${AWS::Region}-lambda-code")
    return {"S3Bucket": bucket, "S3Key": "code/function.zip"}


@st.composite
def _function(draw: st.DrawFn, names: dict[str, list[str]]) -> dict[str, Any]:
    props: dict[str, Any] = {
        "Runtime": "python3.12",
        "Handler": "index.handler",
        "Code": draw(_code()),
    }
    if names["role"]:
        props["Role"] = getatt(draw(st.sampled_from(names["role"])), "Arn")
    if names["layer"] and draw(st.booleans()):
        props["Layers"] = [ref(draw(st.sampled_from(names["layer"])))]
    if names["queue"] and draw(st.booleans()):
        props["DeadLetterConfig"] = {
            "TargetArn": getatt(draw(st.sampled_from(names["queue"])), "Arn")
        }
    if draw(st.booleans()):
        props["Tags"] = [{"Key": "team", "Value": "data"}]
    return {"Type": "AWS::Lambda::Function", "Properties": props}


@st.composite
def _resource(draw: st.DrawFn, kind: str, name: str, names: dict[str, list[str]]) -> dict[str, Any]:
    if kind == "function":
        return draw(_function(names))
    if kind == "bucket":
        props: dict[str, Any] = {}
        if names["function"] and draw(st.booleans()):
            target = draw(st.sampled_from(names["function"]))
            props["NotificationConfiguration"] = {
                "LambdaConfigurations": [
                    {"Event": "s3:ObjectCreated:*", "Function": getatt(target, "Arn")}
                ]
            }
        if draw(st.booleans()):
            props["BucketName"] = draw(
                st.sampled_from(["uploads-bucket", sub("${AWS::StackName}-data")])
            )
        body: dict[str, Any] = {"Type": "AWS::S3::Bucket"}
        if props or draw(st.booleans()):
            body["Properties"] = props
        if draw(st.booleans()):
            body["DeletionPolicy"] = "Retain"
        return body
    if kind == "permission":
        target = draw(st.sampled_from(names["function"] or ["Missing"]))
        return {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": ref(target),
                "Action": "lambda:InvokeFunction",
                "Principal": draw(st.sampled_from(_ASYNC_PRINCIPALS)),
            },
        }
    if kind == "layer":
        bucket = draw(st.sampled_from(["layers-bucket", sub("${AWS::Region}-lambda-layers")]))
        return {
            "Type": "AWS::Lambda::LayerVersion",
            "Properties": {"Content": {"S3Bucket": bucket, "S3Key": "layer.zip"}},
        }
    if kind == "role":
        policy_name = draw(st.sampled_from(["send", sub("${AWS::StackName}-send")]))
        return {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": policy_name,
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
                            ],
                        },
                    }
                ],
            },
        }
    if kind == "table":
        return {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            },
        }
    if kind == "queue":
        props = {}
        if draw(st.booleans()):
            props["MessageRetentionPeriod"] = 1209600
        return {"Type": "AWS::SQS::Queue", **({"Properties": props} if props else {})}
    if kind == "topic":
        return {"Type": "AWS::SNS::Topic"}
    if kind == "log_group":
        props = {}
        if draw(st.booleans()):
            props["RetentionInDays"] = draw(st.sampled_from([7, 30, 365]))
        if names["function"] and draw(st.booleans()):
            function = draw(st.sampled_from(names["function"]))
            props["LogGroupName"] = sub("/aws/lambda/${" + function + "}")
        return {"Type": "AWS::Logs::LogGroup", **({"Properties": props} if props else {})}
    if kind == "alarm":
        props = {
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        }
        if names["topic"] and draw(st.booleans()):
            props["AlarmActions"] = [ref(draw(st.sampled_from(names["topic"])))]
        return {"Type": "AWS::CloudWatch::Alarm", "Properties": props}
    assert kind == "sam_function"
    events: dict[str, Any] = {}
    for index, event in enumerate(
        draw(st.lists(st.sampled_from(["S3", "SQS", "SNS", "Schedule"]), max_size=2))
    ):
        if event == "S3" and names["bucket"]:
            events[f"Upload{index}"] = {
                "Type": "S3",
                "Properties": {"Bucket": ref(names["bucket"][0]), "Events": "s3:ObjectCreated:*"},
            }
        elif event == "SQS" and names["queue"]:
            events[f"Queue{index}"] = {
                "Type": "SQS",
                "Properties": {"Queue": getatt(names["queue"][0], "Arn")},
            }
        elif event == "SNS" and names["topic"]:
            events[f"Topic{index}"] = {
                "Type": "SNS",
                "Properties": {"Topic": ref(names["topic"][0])},
            }
        elif event == "Schedule":
            events[f"Every{index}"] = {
                "Type": "Schedule",
                "Properties": {"Schedule": "rate(5 minutes)"},
            }
    props = {
        "Handler": "app.handler",
        "CodeUri": draw(st.sampled_from(["src/", "s3://my-artifacts/code.zip"])),
    }
    if events:
        props["Events"] = events
    return {"Type": "AWS::Serverless::Function", "Properties": props}


KINDS = [
    "function",
    "bucket",
    "permission",
    "layer",
    "role",
    "table",
    "queue",
    "topic",
    "log_group",
    "alarm",
    "sam_function",
]
_NAMES = {
    "function": "Fn",
    "bucket": "Bucket",
    "permission": "Perm",
    "layer": "Layer",
    "role": "Role",
    "table": "Table",
    "queue": "Queue",
    "topic": "Topic",
    "log_group": "Logs",
    "alarm": "Alarm",
    "sam_function": "SamFn",
}


@st.composite
def templates(draw: st.DrawFn) -> dict[str, Any]:
    """A template of 1 to 8 resources; SAM (Transform and Globals) when one is SAM."""
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=8))
    names: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for index, kind in enumerate(kinds):  # names first, so resources can reference any
        names[kind].append(f"{_NAMES[kind]}{index}")
    resources: dict[str, Any] = {}
    for kind in kinds:
        for name in names[kind]:
            if name not in resources:
                resources[name] = draw(_resource(kind, name, names))
    template: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09"}
    if names["sam_function"]:
        template["Transform"] = "AWS::Serverless-2016-10-31"
        if draw(st.booleans()):
            template["Globals"] = {"Function": {"Runtime": "python3.12", "Timeout": 30}}
    if draw(st.booleans()):
        template["Parameters"] = {"Stage": {"Type": "String", "Default": "dev"}}
        if draw(st.booleans()):
            template["Conditions"] = {"IsProd": Fn("Fn::Equals", [ref("Stage"), "prod"])}
    template["Resources"] = resources
    if draw(st.booleans()):
        first = next(iter(resources))
        template["Outputs"] = {"First": {"Value": ref(first)}}
    return template


@st.composite
def styles(draw: st.DrawFn) -> Style:
    if draw(st.integers(0, 4)) == 0:
        return Style(
            json=True,
            indent=draw(st.sampled_from([1, 2, 4])),
            crlf=draw(st.booleans()),
            bom=draw(st.booleans()),
            final_newline=draw(st.booleans()),
        )
    return Style(
        indent=draw(st.sampled_from([2, 3, 4])),
        indent_sequences=draw(st.booleans()),
        flow=draw(st.sampled_from([0.0, 0.3, 1.0])),
        quote=draw(st.sampled_from(["plain", "single", "double"])),
        comments=draw(st.sampled_from([0.0, 0.2, 0.6])),
        short_tags=draw(st.booleans()),
        crlf=draw(st.booleans()),
        bom=draw(st.booleans()),
        final_newline=draw(st.booleans()),
        seed=draw(st.integers(0, 2**16)),
    )
