"""Shared fixtures for the reference image-processing stack (moto, generated images, events)."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STACK_DIR = REPO_ROOT / "reference_stack"
HANDLER_DIR = STACK_DIR / "handler"
TEMPLATE = STACK_DIR / "template.yaml"
FIXTURES = REPO_ROOT / "fixtures" / "seed"

if str(HANDLER_DIR) not in sys.path:
    sys.path.insert(0, str(HANDLER_DIR))

REGION = "us-east-1"
UPLOAD_BUCKET = "imgproc-uploads-123456789012-us-east-1"
THUMBNAIL_BUCKET = "imgproc-thumbnails-test"
TABLE = "imgproc-metadata-test"
QUEUE = "imgproc-failures-test"


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region so nothing can ever reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


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

    def failure_messages(self) -> list[dict[str, Any]]:
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


@pytest.fixture
def aws(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """moto-backed buckets, table and queue, with the handler's environment pointing at them."""
    import boto3
    from moto import mock_aws
    from thumbnailer import aws as handler_aws

    with mock_aws():
        handler_aws.reset_clients()
        s3 = boto3.client("s3", region_name=REGION)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        for bucket in (UPLOAD_BUCKET, THUMBNAIL_BUCKET):
            s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(
            Bucket=UPLOAD_BUCKET, VersioningConfiguration={"Status": "Enabled"}
        )
        dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "objectKey", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "objectKey", "KeyType": "HASH"}],
        )
        queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
        for name, value in {
            "THUMBNAIL_BUCKET": THUMBNAIL_BUCKET,
            "METADATA_TABLE": TABLE,
            "FAILURE_QUEUE_URL": queue_url,
            "THUMBNAIL_SIZE": "128",
            "MAX_OBJECT_BYTES": str(5 * 1024 * 1024),
            "MAX_IMAGE_PIXELS": "1000000",
            "SOURCE_PREFIX": "uploads/",
            "THUMBNAIL_PREFIX": "thumbnails/",
            "OUTPUT_FORMAT": "WEBP",
            "METRICS_NAMESPACE": "ImageProcessing",
            "AWS_LAMBDA_FUNCTION_NAME": "imgproc-test-function",
        }.items():
            monkeypatch.setenv(name, value)
        yield Env(s3=s3, dynamodb=dynamodb, sqs=sqs, queue_url=queue_url)
        handler_aws.reset_clients()


def s3_event(bucket: str, key: str, size: int, etag: str) -> dict[str, Any]:
    """The documented S3 ObjectCreated:Put notification (event version 2.1), key URL-encoded."""
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
                        "sequencer": "0055AED6DCD90281E5",
                    },
                },
            }
        ]
    }


@pytest.fixture
def upload(aws: Env) -> Callable[[str, bytes], dict[str, Any]]:
    """Put ``body`` at ``key`` in the upload bucket; return the matching S3 event."""

    def _upload(key: str, body: bytes) -> dict[str, Any]:
        response = aws.s3.put_object(Bucket=UPLOAD_BUCKET, Key=key, Body=body)
        return s3_event(UPLOAD_BUCKET, key, len(body), response["ETag"].strip('"'))

    return _upload


class LambdaContext:
    """The attributes of the Lambda context object the handler reads."""

    aws_request_id = "8f507cfc-xmpl-4697-b07a-ac58fc914c95"
    function_name = "imgproc-test-function"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


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


@pytest.fixture(scope="session")
def images() -> dict[str, bytes]:
    """Small generated inputs, one per interesting case (generated once per session)."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    transparent = Image.new("RGBA", (300, 200), (0, 128, 0, 255))
    transparent.paste((0, 0, 0, 0), (0, 0, 150, 200))  # left half fully transparent
    palette = Image.new("P", (240, 160), 1)
    palette.putpalette([255, 255, 255, 200, 30, 30] + [0, 0, 0] * 254)
    palette.paste(0, (0, 0, 120, 160))
    jpeg = encode(two_tone((400, 300)), "JPEG", quality=90)
    return {
        "jpeg": jpeg,
        "exif_rotated_jpeg": encode(two_tone((400, 200)), "JPEG", quality=90, exif=exif),
        "cmyk_jpeg": encode(two_tone((320, 240), "CMYK"), "JPEG", quality=90),
        "transparent_png": encode(transparent, "PNG"),
        "palette_gif": encode(palette, "GIF", transparency=0),
        "webp": encode(two_tone((500, 250)), "WEBP", quality=80),
        "corrupt_jpeg": jpeg[: len(jpeg) // 2],
        "not_an_image": b"%!this is a text file pretending to be a photo\n" * 20,
        "bmp": encode(two_tone((64, 64)), "BMP"),
        # 1200 x 1200 = 1.44 MP: above the 1 MP test limit (warning -> made fatal) ...
        "bomb_warning_png": encode(Image.new("L", (1200, 1200)), "PNG"),
        # ... and 3000 x 3000 = 9 MP: above twice the limit (Pillow's own error).
        "bomb_error_png": encode(Image.new("1", (3000, 3000)), "PNG"),
    }
