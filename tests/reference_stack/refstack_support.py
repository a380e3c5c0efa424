"""Helpers shared by the reference-stack tests: paths, names, S3 events, generated images.

(Fixtures live in conftest.py; this module has a unique name so that test modules can import
it without depending on which ``conftest`` module pytest loaded last.)
"""

from __future__ import annotations

import io
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

REPO_ROOT = Path(__file__).resolve().parents[2]
STACK_DIR = REPO_ROOT / "reference_stack"
HANDLER_DIR = STACK_DIR / "handler"
TEMPLATE = STACK_DIR / "template.yaml"
BUILD_SCRIPT = STACK_DIR / "build.py"
FIXTURES = REPO_ROOT / "fixtures" / "seed"

if str(HANDLER_DIR) not in sys.path:
    sys.path.insert(0, str(HANDLER_DIR))

REGION = "us-east-1"
UPLOAD_BUCKET = "imgproc-uploads-123456789012-us-east-1"
THUMBNAIL_BUCKET = "imgproc-thumbnails-test"
TABLE = "imgproc-metadata-test"
QUEUE = "imgproc-rejections-test"
#: S3 sequencers grow with every write to a key; each generated event gets the next one.
_SEQUENCERS = itertools.count(0x0055AED6DCD90281E5)


def next_sequencer() -> str:
    return f"{next(_SEQUENCERS):X}"


_SHARED_LOADER: Any = None


def fast_default_session() -> None:
    """Make boto3's default session reuse one botocore loader across tests.

    ``mock_aws`` resets ``boto3.DEFAULT_SESSION``, so every test would otherwise re-read
    the service model JSON for every client (about 0.1 s per client). Call inside the mock.
    """
    import boto3
    import botocore.loaders
    import botocore.session

    global _SHARED_LOADER
    if _SHARED_LOADER is None:
        _SHARED_LOADER = botocore.loaders.create_loader()
    session = botocore.session.get_session()
    session.register_component("data_loader", _SHARED_LOADER)
    boto3.setup_default_session(botocore_session=session, region_name=REGION)


@dataclass
class Env:
    """Clients and names of the moto-backed resources the handler talks to."""

    s3: Any
    dynamodb: Any
    sqs: Any
    queue_url: str

    def item(self, key: str) -> dict[str, Any] | None:
        response = self.dynamodb.get_item(
            TableName=TABLE, Key={"objectKey": {"S": key}}, ConsistentRead=True
        )
        item = response.get("Item")
        if item is None:
            return None
        return {name: next(iter(value.values())) for name, value in item.items()}

    def rejection_messages(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while True:
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            batch = response.get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def thumbnail(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=THUMBNAIL_BUCKET, Key=key)["Body"].read())


def client_error(code: str, status: int, operation: str = "GetObject") -> ClientError:
    """The ``ClientError`` botocore raises for an AWS error ``code`` with HTTP ``status``."""
    from botocore.exceptions import ClientError

    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


def s3_event(
    bucket: str, key: str, size: int, etag: str, sequencer: str | None = None
) -> dict[str, Any]:
    """The documented S3 ObjectCreated:Put notification (event version 2.1), key URL-encoded.

    Each call gets a higher ``sequencer`` than the last, as each S3 write does.
    """
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2025-01-01T12:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
                "requestParameters": {"sourceIPAddress": "198.51.100.7"},
                "responseElements": {
                    "x-amz-request-id": "C3D13FE58DE4C810",
                    "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "ImageUploadJpg",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": size,
                        "eTag": etag,
                        "versionId": "096fKKXTRTtl3on89fVO.nfljtsv6qko",
                        "sequencer": sequencer or next_sequencer(),
                    },
                },
            }
        ]
    }


class LambdaContext:
    """The attributes of the Lambda context object the handler reads."""

    aws_request_id = "8f507cfc-xmpl-4697-b07a-ac58fc914c95"
    function_name = "imgproc-test-function"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


# --- generated images ---------------------------------------------------------------------


def encode(image: Any, fmt: str, **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def two_tone(size: tuple[int, int], mode: str = "RGB") -> Any:
    """Left half red, right half blue: lets a test see which way the image was turned."""
    from PIL import Image, ImageDraw

    width, height = size
    image = Image.new("RGB", size, (0, 0, 255))
    ImageDraw.Draw(image).rectangle((0, 0, width // 2 - 1, height - 1), fill=(255, 0, 0))
    return image.convert(mode) if mode != "RGB" else image


# --- the deployment package -----------------------------------------------------------------

NETWORK_HINTS = (
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "No matching distribution found",
    "Could not fetch URL",
    "ConnectionError",
    "Read timed out",
    "Network is unreachable",
)


def pinned_pillow() -> str:
    """The Pillow version requirements.txt pins for the deployment package."""
    import re

    text = (HANDLER_DIR / "requirements.txt").read_text()
    match = re.search(r"^Pillow==([^\s\\]+)", text, re.MULTILINE | re.IGNORECASE)
    assert match, "requirements.txt must pin Pillow exactly"
    return match.group(1)


def load_build_module() -> Any:
    """``reference_stack/build.py`` imported as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("refstack_build", BUILD_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while executing
    spec.loader.exec_module(module)
    return module


def run_build(output: Path, *args: str) -> Path:
    """Run ``build.py --output OUTPUT ARGS``; skip the test if PyPI is unreachable."""
    import subprocess

    import pytest

    result = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--output", str(output), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if result.returncode != 0:
        if any(hint in result.stderr for hint in NETWORK_HINTS):
            pytest.skip(f"cannot download wheels from PyPI: {result.stderr.strip()[-300:]}")
        pytest.fail(f"build failed:\n{result.stdout}\n{result.stderr}")
    return output
