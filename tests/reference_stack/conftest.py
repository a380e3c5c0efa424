"""Shared fixtures for the reference image-processing stack (moto, generated images, events)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Importable under any --import-mode (prepend mode adds this directory anyway).
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from refstack_support import (
    QUEUE,
    REGION,
    TABLE,
    THUMBNAIL_BUCKET,
    UPLOAD_BUCKET,
    Env,
    LambdaContext,
    encode,
    fast_default_session,
    run_build,
    s3_event,
    two_tone,
)


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


@pytest.fixture
def aws(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """moto-backed buckets, table and queue, with the handler's environment pointing at them."""
    import boto3
    from moto import mock_aws
    from thumbnailer import aws as handler_aws

    with mock_aws():
        fast_default_session()
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
            "REJECTION_QUEUE_URL": queue_url,
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


@pytest.fixture
def upload(aws: Env) -> Callable[[str, bytes], dict[str, Any]]:
    """Put ``body`` at ``key`` in the upload bucket; return the matching S3 event."""

    def _upload(key: str, body: bytes) -> dict[str, Any]:
        response = aws.s3.put_object(Bucket=UPLOAD_BUCKET, Key=key, Body=body)
        return s3_event(UPLOAD_BUCKET, key, len(body), response["ETag"].strip('"'))

    return _upload


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


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


@pytest.fixture(scope="session")
def lambda_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `python3 reference_stack/build.py` produces for the template (built once)."""
    return run_build(tmp_path_factory.mktemp("lambda") / "function.zip")


@pytest.fixture(scope="session")
def host_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same requirements for this host's architecture and Python (importable here)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    output = tmp_path_factory.mktemp("host") / "function.zip"
    return run_build(output, "--host-arch", "--python-version", version)
