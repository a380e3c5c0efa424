"""Create the reference stack in moto's CloudFormation and drive the handler through it.

moto (5.2) creates buckets, table, queue, key, log group, role, policy, function, permission,
topic and dashboard; it silently skips AWS::Lambda::EventInvokeConfig, bucket/queue/topic
policies, SNS subscriptions, CloudWatch alarms and budgets, ignores bucket notifications,
and never runs the function (no docker). Those parts are covered by the static template
tests; here we check what moto can check, then run the handler against the stack's own
resources with the environment the template gives the function.

The function's code is the zip ``build.py`` builds (session fixtures ``lambda_zip`` and
``host_zip``), not a dummy: the deployed function's CodeSha256 is the build's, the handler
modules the tests run are byte for byte the ones in the deployed archive, and the archive
built for this host, deployed with ``Architecture`` set to match, is unpacked and its
handler runs (with the archive's own Pillow, in another process) against the stack served
by moto over HTTP.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfn_flip import dump_json, load_yaml
from refstack_support import (
    HANDLER_DIR,
    REGION,
    TEMPLATE,
    LambdaContext,
    fast_default_session,
    s3_event,
)

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")

STACK = "imgproc-test"
ARTIFACT_BUCKET = "imgproc-artifacts-test"
ARTIFACT_KEY = "image-processor/function.zip"


def template_for_moto() -> str:
    """The template, with one moto bug worked around.

    moto passes AWS::KMS::Key ``Tags`` straight to its KMS API model, which expects
    ``TagKey``/``TagValue`` (KeyError 'TagKey'); CloudFormation itself takes ``Key``/``Value``.
    """
    template = copy.deepcopy(load_yaml(TEMPLATE.read_text()))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::KMS::Key":
            resource["Properties"]["Tags"] = [
                {"TagKey": tag["Key"], "TagValue": tag["Value"]}
                for tag in resource["Properties"]["Tags"]
            ]
    return str(dump_json(template))


def create_stack(s3: Any, cloudformation: Any, code: bytes, **parameters: str) -> dict[str, Any]:
    """Upload ``code`` as the function's artifact, create the stack with the required
    parameters and ``parameters``; return the stack's description."""
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)  # the function's code must exist first
    s3.put_object(Bucket=ARTIFACT_BUCKET, Key=ARTIFACT_KEY, Body=code)
    values = {
        "ArtifactBucket": ARTIFACT_BUCKET,
        "ArtifactKey": ARTIFACT_KEY,
        "AlarmEmail": "ops@example.com",
        **parameters,
    }
    cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=template_for_moto(),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
    )
    (description,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    return dict(description)


def outputs_of(description: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in description["Outputs"]}


@pytest.fixture
def stack(
    aws_credentials: None, monkeypatch: pytest.MonkeyPatch, lambda_zip: Path
) -> Iterator[dict[str, Any]]:
    import boto3
    from moto import mock_aws
    from thumbnailer import aws as handler_aws

    with mock_aws():
        fast_default_session()
        handler_aws.reset_clients()
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        description = create_stack(
            boto3.client("s3", region_name=REGION),
            cloudformation,
            lambda_zip.read_bytes(),
            Environment="staging",
        )
        resources = cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
        yield {
            "status": description["StackStatus"],
            "outputs": outputs_of(description),
            "resources": {r["LogicalResourceId"]: r for r in resources},
            "boto3": boto3,
            "zip": lambda_zip,
        }
        handler_aws.reset_clients()


def test_stack_creates_the_resources_moto_supports(stack: dict[str, Any]) -> None:
    boto3 = stack["boto3"]
    outputs = stack["outputs"]
    assert stack["status"] == "CREATE_COMPLETE"
    assert {
        "EncryptionKey",
        "UploadBucket",
        "ThumbnailBucket",
        "MetadataTable",
        "FailureQueue",
        "FunctionLogGroup",
        "FunctionRole",
        "FunctionPolicy",
        "ProcessorFunction",
        "ProcessorInvokePermission",
        "AlarmTopic",
        "Dashboard",
    } <= set(stack["resources"])

    account = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
    assert outputs["UploadBucketName"] == f"imgproc-uploads-{account}-{REGION}"
    bucket_names = {b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]}
    assert {outputs["UploadBucketName"], outputs["ThumbnailBucketName"]} <= bucket_names

    table = boto3.client("dynamodb").describe_table(TableName=outputs["MetadataTableName"])
    assert table["Table"]["KeySchema"] == [{"AttributeName": "objectKey", "KeyType": "HASH"}]

    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=outputs["FailureQueueUrl"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["MessageRetentionPeriod"] == "1209600"

    function = boto3.client("lambda").get_function(FunctionName=outputs["FunctionArn"])
    config = function["Configuration"]
    assert config["Runtime"] == "python3.12"
    assert config["Handler"] == "thumbnailer.app.handler"
    assert config["Timeout"] == 30

    # moto keeps tags for these (not for the function): the stack's tags arrive intact.
    bucket_tags = boto3.client("s3").get_bucket_tagging(Bucket=outputs["UploadBucketName"])
    queue_tags = boto3.client("sqs").list_queue_tags(QueueUrl=outputs["FailureQueueUrl"])
    table_tags = boto3.client("dynamodb").list_tags_of_resource(
        ResourceArn=table["Table"]["TableArn"]
    )
    for tags in (
        {t["Key"]: t["Value"] for t in bucket_tags["TagSet"]},
        queue_tags["Tags"],
        {t["Key"]: t["Value"] for t in table_tags["Tags"]},
    ):
        assert tags["iac-rlhf-amazon"] == "true"
        assert tags["Environment"] == "staging"
        assert tags["Purpose"]

    topics = boto3.client("sns").list_topics()["Topics"]
    assert {"TopicArn": outputs["AlarmTopicArn"]} in topics
    dashboards = boto3.client("cloudwatch").list_dashboards()["DashboardEntries"]
    assert outputs["DashboardName"] in {d["DashboardName"] for d in dashboards}
    key_id = outputs["EncryptionKeyArn"].rsplit("/", 1)[-1]
    assert boto3.client("kms").get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
    # ReservedConcurrency defaults to 0 = unreserved: no reservation that a new account's
    # quota of 10 could refuse (moto ignores Architectures, so that is checked statically).
    concurrency = boto3.client("lambda").get_function_concurrency(
        FunctionName=outputs["FunctionArn"]
    )
    assert "ReservedConcurrentExecutions" not in concurrency


def test_the_deployed_code_is_the_build(stack: dict[str, Any]) -> None:
    """CloudFormation deployed build.py's zip, and the tests run exactly its handler code."""
    boto3 = stack["boto3"]
    built = stack["zip"].read_bytes()
    config = boto3.client("lambda").get_function_configuration(
        FunctionName=stack["outputs"]["FunctionArn"]
    )
    assert config["CodeSha256"] == base64.b64encode(hashlib.sha256(built).digest()).decode()
    assert config["CodeSize"] == len(built)
    with zipfile.ZipFile(stack["zip"]) as archive:
        deployed = {
            name: archive.read(name)
            for name in archive.namelist()
            if name.startswith("thumbnailer/") and name.endswith(".py")
        }
    local = {
        f"thumbnailer/{path.name}": path.read_bytes()
        for path in (HANDLER_DIR / "thumbnailer").glob("*.py")
    }
    assert deployed == local


def test_handler_runs_against_the_stack(
    stack: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    images: dict[str, bytes],
) -> None:
    """The function's environment, as the template sets it, works with the handler."""
    from thumbnailer.app import handler

    boto3 = stack["boto3"]
    outputs = stack["outputs"]
    config = boto3.client("lambda").get_function_configuration(FunctionName=outputs["FunctionArn"])
    for name, value in config["Environment"]["Variables"].items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", config["FunctionName"])
    s3 = boto3.client("s3")
    key = "uploads/stack test.png"
    put = s3.put_object(Bucket=outputs["UploadBucketName"], Key=key, Body=images["transparent_png"])
    event = s3_event(
        outputs["UploadBucketName"], key, len(images["transparent_png"]), put["ETag"].strip('"')
    )

    assert handler(event, LambdaContext()) == {"processed": 1}

    thumbnail = s3.get_object(
        Bucket=outputs["ThumbnailBucketName"], Key="thumbnails/256/stack test.png.webp"
    )
    assert thumbnail["ContentType"] == "image/webp"
    item = boto3.client("dynamodb").get_item(
        TableName=outputs["MetadataTableName"], Key={"objectKey": {"S": key}}
    )["Item"]
    assert item["status"] == {"S": "processed"}

    junk = s3.put_object(Bucket=outputs["UploadBucketName"], Key="uploads/x.gif", Body=b"GIF")
    event = s3_event(outputs["UploadBucketName"], "uploads/x.gif", 3, junk["ETag"].strip('"'))
    assert handler(event, LambdaContext()) == {"rejected": 1}
    sqs = boto3.client("sqs")
    rejections = sqs.receive_message(QueueUrl=outputs["RejectionQueueUrl"])
    assert len(rejections["Messages"]) == 1
    # Bad input never reaches the failure queue, whose depth alarm means "act now" (item 4).
    assert "Messages" not in sqs.receive_message(QueueUrl=outputs["FailureQueueUrl"])


RUN_DEPLOYED = r"""
import json, os, sys
root = sys.argv[1]
sys.path.insert(0, root)
import PIL
from thumbnailer.app import handler  # the Handler the template names, from the archive

assert PIL.__file__.startswith(root), PIL.__file__
event = json.loads(sys.argv[2])


class Context:
    aws_request_id = "deployed-run"


print(json.dumps({"outcome": handler(event, Context()), "pil": PIL.__file__}))
"""


def test_the_deployed_archive_runs_against_the_stack(
    aws_credentials: None, host_zip: Path, images: dict[str, bytes], tmp_path: Path
) -> None:
    """Deploy build.py's zip for this host (Architecture=x86_64 where the host is x86_64)
    into moto's CloudFormation served over HTTP, unpack what was deployed, and run its
    handler, with its own Pillow, in a separate process against the stack's resources."""
    import json
    import os
    import platform
    import subprocess
    import sys

    import boto3
    from moto.server import ThreadedMotoServer

    machine = platform.machine().lower()
    architecture = "arm64" if machine in {"aarch64", "arm64"} else "x86_64"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"

        def client(service: str) -> Any:
            return boto3.client(service, region_name=REGION, endpoint_url=endpoint)

        built = host_zip.read_bytes()
        description = create_stack(
            client("s3"), client("cloudformation"), built, Architecture=architecture
        )
        assert description["StackStatus"] == "CREATE_COMPLETE"
        outputs = outputs_of(description)
        config = client("lambda").get_function_configuration(FunctionName=outputs["FunctionArn"])
        assert config["CodeSha256"] == base64.b64encode(hashlib.sha256(built).digest()).decode()

        root = tmp_path / "task"  # what Lambda unpacks into /var/task
        with zipfile.ZipFile(host_zip) as archive:
            archive.extractall(root)
        key = "uploads/deployed run.png"
        put = client("s3").put_object(
            Bucket=outputs["UploadBucketName"], Key=key, Body=images["transparent_png"]
        )
        event = s3_event(
            outputs["UploadBucketName"], key, len(images["transparent_png"]), put["ETag"].strip('"')
        )
        env = {
            name: value
            for name, value in os.environ.items()
            if name.startswith(("AWS_", "PATH", "HOME", "LANG"))
        }
        env.update({name: str(v) for name, v in config["Environment"]["Variables"].items()})
        env.update(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_LAMBDA_FUNCTION_NAME": config["FunctionName"],
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config["MemorySize"]),
            }
        )
        result = subprocess.run(
            [sys.executable, "-I", "-c", RUN_DEPLOYED, str(root), json.dumps(event)],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
            env=env,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        report = json.loads(result.stdout.strip().splitlines()[-1])
        assert report["outcome"] == {"processed": 1}
        head = client("s3").head_object(
            Bucket=outputs["ThumbnailBucketName"], Key="thumbnails/256/deployed run.png.webp"
        )
        assert head["ContentType"] == "image/webp"
        item = client("dynamodb").get_item(
            TableName=outputs["MetadataTableName"], Key={"objectKey": {"S": key}}
        )["Item"]
        assert item["status"] == {"S": "processed"}
    finally:
        server.stop()
