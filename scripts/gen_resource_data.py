#!/usr/bin/env python3
"""Generate ``src/cfnfix/data/resource_types.json`` from cfn-lint's provider schemas.

cfnfix never imports cfn-lint at run time: this script is the only consumer of the
CloudFormation resource provider schemas that ship inside the ``cfn-lint`` package
(``cfnlint/data/schemas/providers/<region>.py`` maps each type name to a schema file in
``cfnlint/data/schemas/resources/<hash>.json``; those files are already patched by cfn-lint).

Usage::

    python3 scripts/gen_resource_data.py           # (re)write the data file
    python3 scripts/gen_resource_data.py --check   # exit 1 if the file on disk is stale

Output format (deterministic for a given cfn-lint version: sorted keys, one line per type)::

    {
    "meta":{...},
    "types":{
    "AWS::S3::Bucket":{"stateful":true,"tag_shape":"list","taggable":true},
    ...
    }
    }

Keys equal to their default are omitted from a type's entry to keep the file small; the
defaults are listed in ``meta.defaults`` and mirrored by ``cfnfix.resource_data``.
``taggable`` is always written.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.resources
import json
import pkgutil
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT = REPO_ROOT / "src" / "cfnfix" / "data" / "resource_types.json"

PROVIDERS_PKG = "cfnlint.data.schemas.providers"
RESOURCES_PKG = "cfnlint.data.schemas.resources"
PRIMARY_REGION = "us_east_1"

FORMAT_VERSION = 1

# A JSON-schema fragment of a provider schema.
Schema = dict[str, Any]

# Types whose deletion destroys customer data (databases, file systems, object stores,
# queues/streams, logs, encryption keys, user directories, secrets, backups, repositories).
# Curated by hand; every entry must exist in the schemas or generation fails.
# Deliberately NOT listed: caches that only hold derived data (DAX), catalog/metadata-only
# resources (Glue::Database/Table), configuration-like resources (SSM::Parameter,
# Route53::HostedZone) and compute (EC2::Instance, EMR::Cluster).
STATEFUL_TYPES: frozenset[str] = frozenset(
    {
        # Key-value / document / wide-column / ledger databases
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::Cassandra::Keyspace",  # Amazon Keyspaces
        "AWS::Cassandra::Table",
        "AWS::QLDB::Ledger",
        "AWS::Timestream::Database",
        "AWS::Timestream::Table",
        "AWS::Timestream::InfluxDBInstance",
        # Relational / graph databases and warehouses
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::DocDB::DBCluster",
        "AWS::DocDB::DBInstance",
        "AWS::Neptune::DBInstance",  # like DocDB instances; cfn-lint's I3011 lists it too
        "AWS::DocDBElastic::Cluster",
        "AWS::Neptune::DBCluster",
        "AWS::NeptuneGraph::Graph",
        "AWS::DSQL::Cluster",
        "AWS::Redshift::Cluster",
        "AWS::RedshiftServerless::Namespace",
        "AWS::Lightsail::Database",
        # In-memory stores that can be the system of record
        "AWS::ElastiCache::CacheCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::ElastiCache::ServerlessCache",
        "AWS::MemoryDB::Cluster",
        # Search
        "AWS::OpenSearchService::Domain",
        "AWS::Elasticsearch::Domain",
        "AWS::OpenSearchServerless::Collection",
        # Object, block and file storage
        "AWS::S3::Bucket",
        "AWS::S3Express::DirectoryBucket",
        "AWS::S3Tables::TableBucket",
        "AWS::S3Tables::Table",
        "AWS::S3Vectors::VectorBucket",
        "AWS::EC2::Volume",
        "AWS::Lightsail::Disk",
        "AWS::EFS::FileSystem",
        "AWS::FSx::FileSystem",
        "AWS::FSx::Volume",
        "AWS::WorkSpaces::Workspace",  # user and root volumes
        # Queues, streams, brokers, event stores
        "AWS::SQS::Queue",
        "AWS::Kinesis::Stream",
        "AWS::KinesisVideo::Stream",
        "AWS::MSK::Cluster",
        "AWS::MSK::ServerlessCluster",
        "AWS::AmazonMQ::Broker",
        "AWS::Events::Archive",
        "AWS::CloudTrail::EventDataStore",
        "AWS::Logs::LogGroup",
        # Keys, secrets, identities, backups
        "AWS::KMS::Key",  # deleting a key makes everything encrypted with it unreadable
        "AWS::KMS::ReplicaKey",
        "AWS::SecretsManager::Secret",
        "AWS::Cognito::UserPool",
        "AWS::Backup::BackupVault",
        "AWS::Backup::LogicallyAirGappedBackupVault",
        # Source, image and package repositories
        "AWS::ECR::Repository",
        "AWS::CodeCommit::Repository",
        "AWS::CodeArtifact::Repository",
    }
)

# Types for which DeletionPolicy/UpdateReplacePolicy "Snapshot" is valid, as listed in the
# CloudFormation "DeletionPolicy attribute" documentation (and cfn-lint's
# cfnlint.helpers.valid_snapshot_types, which backs rule E3035). Every type accepts
# Delete, Retain and RetainExceptOnCreate.
# AWS::ElastiCache::ServerlessCache is intentionally absent: the documentation does not list
# it and cfn-lint rejects "Snapshot" on it (a final snapshot is requested through its
# FinalSnapshotName property instead). DynamoDB tables do not support "Snapshot" either.
SNAPSHOT_TYPES: frozenset[str] = frozenset(
    {
        "AWS::DocDB::DBCluster",
        "AWS::EC2::Volume",
        "AWS::ElastiCache::CacheCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::Neptune::DBCluster",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
        "AWS::Redshift::Cluster",
    }
)

# AWS SAM (AWS::Serverless-2016-10-31 transform) types are not in the provider schemas;
# written by hand from the SAM specification. SAM takes Tags as a string->string map on the
# resources that support them; LayerVersion and Connector take no Tags.
SAM_TYPES: dict[str, dict[str, Any]] = {
    "AWS::Serverless::Api": {"taggable": True, "tag_shape": "map"},
    "AWS::Serverless::Application": {"taggable": True, "tag_shape": "map"},
    "AWS::Serverless::CapacityProvider": {"taggable": True, "tag_shape": "map"},
    "AWS::Serverless::Connector": {"taggable": False},
    "AWS::Serverless::Function": {"taggable": True, "tag_shape": "map"},
    "AWS::Serverless::GraphQLApi": {"taggable": True, "tag_shape": "map"},
    "AWS::Serverless::HttpApi": {"taggable": True, "tag_shape": "map"},
    "AWS::Serverless::LayerVersion": {"taggable": False},
    "AWS::Serverless::SimpleTable": {"taggable": True, "tag_shape": "map", "stateful": True},
    "AWS::Serverless::StateMachine": {"taggable": True, "tag_shape": "map"},
    "AWS::Serverless::WebSocketApi": {"taggable": True, "tag_shape": "map"},
}

DEFAULTS: dict[str, Any] = {
    "snapshot": False,
    "stateful": False,
    "tag_item_required": [],
    "tag_path": ["Tags"],
    "tag_shape": None,
    "taggable": False,
    "tags_create_only": False,
}


class SchemaError(Exception):
    """A provider schema has a shape this generator does not understand."""


def _region_modules() -> list[str]:
    """Region module names under the providers package: primary first, then sorted."""
    pkg = importlib.import_module(PROVIDERS_PKG)
    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__))
    if PRIMARY_REGION not in names:
        raise SystemExit(f"cfn-lint has no {PRIMARY_REGION} provider schemas")
    names.remove(PRIMARY_REGION)
    return [PRIMARY_REGION, *names]


def load_schemas() -> tuple[dict[str, Schema], dict[str, str]]:
    """Load every ``AWS::`` provider schema.

    Returns ``(schemas, other_region)``: schemas come from the primary region (us-east-1);
    types absent there are taken from the first other region (alphabetical) that has them,
    and ``other_region`` maps those types to that region (e.g. ``us-west-2``).
    """
    resources = importlib.resources.files(RESOURCES_PKG)
    schemas: dict[str, Schema] = {}
    other_region: dict[str, str] = {}
    for region in _region_modules():
        module = importlib.import_module(f"{PROVIDERS_PKG}.{region}")
        types: dict[str, str] = module.types
        for type_name in sorted(types):
            if not type_name.startswith("AWS::") or type_name in schemas:
                continue
            schema = json.loads(resources.joinpath(f"{types[type_name]}.json").read_text("utf-8"))
            if schema.get("typeName") != type_name:
                raise SchemaError(f"{type_name}: schema file declares {schema.get('typeName')}")
            schemas[type_name] = schema
            if region != PRIMARY_REGION:
                other_region[type_name] = region.replace("_", "-")
    return schemas, other_region


def _resolve(schema: Schema, node: Any) -> Any:
    """Follow local ``$ref`` pointers (``#/definitions/...``) until a concrete node."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/definitions/") or ref in seen:
            raise SchemaError(f"unsupported $ref {ref!r}")
        seen.add(ref)
        node = schema.get("definitions", {}).get(ref.removeprefix("#/definitions/"))
    return node


def _types(node: Schema) -> set[str]:
    declared = node.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {t for t in declared if isinstance(t, str)}
    return set()


def _list_item_required(schema: Schema, node: Schema, where: str) -> list[str]:
    """For a list-of-tags node: extra required item keys beyond Key/Value."""
    item = _resolve(schema, node.get("items"))
    if isinstance(item, dict) and "oneOf" in item:
        # e.g. AWS::AppStream::AppBlock accepts {Key, Value} or {TagKey, TagValue} items.
        variants = [_resolve(schema, v) for v in item["oneOf"]]
        keyed = [v for v in variants if isinstance(v, dict) and "Key" in v.get("properties", {})]
        if not keyed:
            raise SchemaError(f"{where}: no Key/Value variant in tag item oneOf")
        item = keyed[0]
    if not isinstance(item, dict):
        raise SchemaError(f"{where}: tag list items are not objects")
    props = item.get("properties", {})
    if "Key" not in props or "Value" not in props:
        raise SchemaError(f"{where}: tag list items lack Key/Value: {sorted(props)}")
    return sorted(set(item.get("required", [])) - {"Key", "Value"})


def classify_tags(schema: Schema, path: list[str], where: str) -> tuple[list[str], str, list[str]]:
    """Resolve the tag property at ``path`` and return ``(path, shape, item_required)``.

    ``shape`` is ``"list"`` ([{Key, Value}]), ``"map"`` ({key: value}) or ``"json"`` (a
    loosely typed JSON object or string). ``path`` may grow when tags are wrapped in an
    object (AWS::CloudFront::AnycastIpList: ``Tags: {Items: [{Key, Value}]}``).
    """
    node: Any = {"type": "object", "properties": schema.get("properties", {})}
    for part in path:
        if part == "*":
            node = _resolve(schema, node.get("items"))
        else:
            node = _resolve(schema, node.get("properties", {}).get(part))
        if not isinstance(node, dict):
            raise SchemaError(f"{where}: tag property {'/'.join(path)} not found")
    types = _types(node)
    if "array" in types:
        return path, "list", _list_item_required(schema, node, where)
    if node.get("format") == "json" or "string" in types:
        return path, "json", []
    if types <= {"object"}:
        if "patternProperties" in node or isinstance(node.get("additionalProperties"), dict):
            return path, "map", []
        props = node.get("properties", {})
        if len(props) == 1:
            (inner,) = props
            return classify_tags(schema, [*path, inner], where)
        if not props and node.get("additionalProperties") is not False:
            return path, "json", []
    raise SchemaError(f"{where}: cannot classify tag property {'/'.join(path)}: {node}")


def _pointer(path: list[str]) -> str:
    return "/properties/" + "/".join(path)


def type_entry(type_name: str, schema: Schema) -> dict[str, Any]:
    """The full (defaults included) record for one provider schema."""
    tagging = schema.get("tagging") or {}
    properties = schema.get("properties", {})
    tag_property = tagging.get("tagProperty", "/properties/Tags")
    if not tag_property.startswith("/properties/"):
        raise SchemaError(f"{type_name}: unexpected tagProperty {tag_property!r}")
    path = tag_property.removeprefix("/properties/").split("/")
    # Taggable is the union of the schema's tagging metadata and the presence of a top-level
    # Tags property (about a hundred older schemas have Tags but no "tagging" block, e.g.
    # AWS::CodeBuild::Project, AWS::ApiGatewayV2::Stage). A few schemas say
    # "taggable": false yet declare Tags (AWS::AppStream::ImageBuilder, AWS::EC2::SpotFleet):
    # the template still accepts the property, the flag only means CloudFormation does not
    # manage those tags through its tagging contract (stack-level tag propagation, in-place
    # tag updates). cfnfix cares whether Tags can be written in the template, so those count
    # as taggable.
    taggable = tagging.get("taggable") is True or "Tags" in properties
    entry = dict(DEFAULTS, taggable=taggable)
    if taggable:
        if path[0] not in properties:
            raise SchemaError(f"{type_name}: tag property {tag_property} is not declared")
        path, shape, item_required = classify_tags(schema, path, type_name)
        pointer = _pointer(path)
        create_only = [p for p in schema.get("createOnlyProperties", []) if isinstance(p, str)]
        entry.update(
            tag_path=path,
            tag_shape=shape,
            tag_item_required=item_required,
            # Replacement on tag change: the tag property or an ancestor is create-only.
            tags_create_only=any(pointer == p or pointer.startswith(p + "/") for p in create_only),
        )
    entry["stateful"] = type_name in STATEFUL_TYPES
    entry["snapshot"] = type_name in SNAPSHOT_TYPES
    return entry


def _compact(entry: dict[str, Any]) -> dict[str, Any]:
    """Drop keys equal to their default (``taggable`` is always kept)."""
    return {k: v for k, v in entry.items() if k == "taggable" or v != DEFAULTS[k]}


def build(schemas: dict[str, Schema], other_region: dict[str, str]) -> dict[str, Any]:
    missing = sorted((STATEFUL_TYPES | SNAPSHOT_TYPES) - set(schemas))
    if missing:
        raise SchemaError(f"curated types missing from the schemas: {', '.join(missing)}")
    if not SNAPSHOT_TYPES <= STATEFUL_TYPES:
        raise SchemaError("every Snapshot type must also be stateful")
    clash = sorted(set(SAM_TYPES) & set(schemas))
    if clash:
        raise SchemaError(f"SAM types unexpectedly present in the schemas: {clash}")

    types = {name: _compact(type_entry(name, schema)) for name, schema in schemas.items()}
    for name, sam in SAM_TYPES.items():
        types[name] = _compact(dict(DEFAULTS, **sam))

    version = importlib.metadata.version("cfn-lint")
    extra = f" + {len(other_region)} types from other regions" if other_region else ""
    meta = {
        "format": FORMAT_VERSION,
        "generator": "scripts/gen_resource_data.py",
        "source": f"cfn-lint {version} provider schemas (us-east-1{extra})",
        "cfn_lint_version": version,
        "schemas": (
            "cfnlint/data/schemas/providers/us_east_1.py -> cfnlint/data/schemas/resources/"
        ),
        "other_region_types": other_region,
        "defaults": DEFAULTS,
        "deletion_policies": ["Delete", "Retain", "RetainExceptOnCreate"],
        "snapshot_policy": "Snapshot",
    }
    return {"meta": meta, "types": types}


def render(data: dict[str, Any]) -> str:
    def dump(value: Any) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    lines = ["{", '"meta":' + dump(data["meta"]) + ",", '"types":{']
    names = sorted(data["types"])
    for i, name in enumerate(names):
        comma = "," if i < len(names) - 1 else ""
        lines.append(f"{dump(name)}:{dump(data['types'][name])}{comma}")
    lines += ["}", "}"]
    text = "\n".join(lines) + "\n"
    if json.loads(text) != json.loads(dump(data)):  # paranoia: the layout must be lossless
        raise AssertionError("rendered JSON does not round-trip")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the data file on disk is out of date"
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    try:
        importlib.import_module("cfnlint")
    except ImportError:
        print(
            "gen_resource_data: cfn-lint is not installed (pip install cfn-lint)", file=sys.stderr
        )
        return 2

    try:
        data = build(*load_schemas())
    except SchemaError as exc:
        print(f"gen_resource_data: {exc}", file=sys.stderr)
        return 2
    text = render(data)
    output: Path = args.output
    try:
        shown = output.relative_to(REPO_ROOT)
    except ValueError:
        shown = output
    if args.check:
        current = output.read_text("utf-8") if output.exists() else None
        if current != text:
            print(f"{shown} is out of date; run: python3 scripts/gen_resource_data.py")
            return 1
        print(f"{shown} is up to date")
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, "utf-8", newline="\n")
    print(f"wrote {shown} ({len(data['types'])} types, {len(text.encode())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
