"""The thumbnail handler against moto: happy paths, rejections, retries, idempotency."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from PIL import Image
from refstack_support import (
    THUMBNAIL_BUCKET,
    UPLOAD_BUCKET,
    Env,
    LambdaContext,
    client_error,
    s3_event,
)
from thumbnailer import aws as handler_aws
from thumbnailer.app import TransientError, handler

Upload = Callable[[str, bytes], dict[str, Any]]


def open_thumbnail(aws: Env, key: str) -> Image.Image:
    image = Image.open(io.BytesIO(aws.thumbnail(key)))
    image.load()
    return image


def emf_documents(output: str) -> list[dict[str, Any]]:
    documents = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            documents.append(json.loads(line))
    return documents


# --- happy paths --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key", "source_format", "expected_size"),
    [
        ("jpeg", "uploads/plain.jpg", "JPEG", (128, 96)),
        ("webp", "uploads/wide.webp", "WEBP", (128, 64)),
        ("cmyk_jpeg", "uploads/print/cmyk.jpg", "JPEG", (128, 96)),
    ],
)
def test_creates_thumbnail_and_metadata(
    aws: Env,
    upload: Upload,
    images: dict[str, bytes],
    context: LambdaContext,
    name: str,
    key: str,
    source_format: str,
    expected_size: tuple[int, int],
) -> None:
    event = upload(key, images[name])

    assert handler(event, context) == {"processed": 1}

    thumb_key = f"thumbnails/128/{key.removeprefix('uploads/')}.webp"
    thumbnail = open_thumbnail(aws, thumb_key)
    assert thumbnail.format == "WEBP"
    assert thumbnail.size == expected_size
    assert thumbnail.mode == "RGB"
    item = aws.item(key)
    assert item is not None
    assert item["status"] == "processed"
    assert item["format"] == source_format
    assert item["thumbnailKey"] == thumb_key
    assert item["thumbnailBucket"] == THUMBNAIL_BUCKET
    assert item["sourceEtag"] == event["Records"][0]["s3"]["object"]["eTag"]
    assert int(item["thumbnailBytes"]) == len(aws.thumbnail(thumb_key))
    assert aws.rejection_messages() == []


def test_cmyk_is_converted_to_rgb_with_sane_colours(
    aws: Env, upload: Upload, images: dict[str, bytes], context: LambdaContext
) -> None:
    handler(upload("uploads/cmyk.jpg", images["cmyk_jpeg"]), context)

    thumbnail = open_thumbnail(aws, "thumbnails/128/cmyk.jpg.webp")
    red, green, blue = thumbnail.getpixel((5, 48))  # left half was red
    assert red > 200 and green < 60 and blue < 60
    assert aws.item("uploads/cmyk.jpg")["mode"] == "CMYK"  # type: ignore[index]


def test_exif_orientation_is_applied(
    aws: Env, upload: Upload, images: dict[str, bytes], context: LambdaContext
) -> None:
    """Stored 400x200 with Orientation=6 displays as 200x400: the thumbnail must be portrait."""
    handler(upload("uploads/rotated.jpg", images["exif_rotated_jpeg"]), context)

    thumbnail = open_thumbnail(aws, "thumbnails/128/rotated.jpg.webp")
    assert thumbnail.size == (64, 128)
    # The stored left half (red) ends up on top after a 90 degree clockwise turn.
    top = thumbnail.getpixel((32, 5))
    bottom = thumbnail.getpixel((32, 122))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60
    item = aws.item("uploads/rotated.jpg")
    assert item is not None
    assert (int(item["width"]), int(item["height"])) == (200, 400)


def test_transparent_png_keeps_alpha(
    aws: Env, upload: Upload, images: dict[str, bytes], context: LambdaContext
) -> None:
    handler(upload("uploads/logo.png", images["transparent_png"]), context)

    thumbnail = open_thumbnail(aws, "thumbnails/128/logo.png.webp")
    assert thumbnail.mode == "RGBA"
    assert thumbnail.size == (128, 85)
    assert thumbnail.getpixel((10, 40))[3] == 0  # transparent half
    assert thumbnail.getpixel((118, 40))[3] == 255  # opaque half


def test_palette_gif_transparency_becomes_alpha(
    aws: Env, upload: Upload, images: dict[str, bytes], context: LambdaContext
) -> None:
    handler(upload("uploads/anim/icon.gif", images["palette_gif"]), context)

    thumbnail = open_thumbnail(aws, "thumbnails/128/anim/icon.gif.webp")
    assert thumbnail.mode == "RGBA"
    assert thumbnail.size == (128, 85)
    assert thumbnail.getpixel((5, 40))[3] == 0
    assert thumbnail.getpixel((120, 40))[:3] == pytest.approx((200, 30, 30), abs=8)
    item = aws.item("uploads/anim/icon.gif")
    assert item is not None and item["format"] == "GIF" and item["mode"] == "P"


def test_unicode_key_with_spaces(
    aws: Env, upload: Upload, images: dict[str, bytes], context: LambdaContext
) -> None:
    key = "uploads/été photo (1).jpg"
    event = upload(key, images["jpeg"])
    assert event["Records"][0]["s3"]["object"]["key"] == ("uploads/%C3%A9t%C3%A9+photo+%281%29.jpg")

    assert handler(event, context) == {"processed": 1}

    assert open_thumbnail(aws, "thumbnails/128/été photo (1).jpg.webp").size == (128, 96)
    item = aws.item(key)
    assert item is not None and item["status"] == "processed"


def test_logs_are_json_lines_and_metrics_are_emf(
    aws: Env,
    upload: Upload,
    images: dict[str, bytes],
    context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler(upload("uploads/a.jpg", images["jpeg"]), context)

    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    logs = [record for record in records if "_aws" not in record]
    assert any(log["message"] == "thumbnail created" for log in logs)
    assert all(log["requestId"] == context.aws_request_id for log in logs)
    (metric,) = [record for record in records if "_aws" in record]
    directive = metric["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "ImageProcessing"
    assert directive["Dimensions"] == [["FunctionName"]]
    assert {m["Name"] for m in directive["Metrics"]} == {"ThumbnailsCreated", "ProcessingTime"}
    assert metric["ThumbnailsCreated"] == 1
    assert metric["ProcessingTime"] > 0
    assert metric["FunctionName"] == "imgproc-test-function"


def test_ignores_s3_test_event(aws: Env, context: LambdaContext) -> None:
    event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": UPLOAD_BUCKET}
    assert handler(event, context) == {}


def test_skips_objects_outside_the_source_prefix(
    aws: Env, upload: Upload, images: dict[str, bytes], context: LambdaContext
) -> None:
    assert handler(upload("elsewhere/a.jpg", images["jpeg"]), context) == {"skipped": 1}
    assert aws.item("elsewhere/a.jpg") is None


# --- rejections: recorded, queued, no exception ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "key", "reason"),
    [
        ("corrupt_jpeg", "uploads/broken.jpg", "corrupt_image"),
        ("not_an_image", "uploads/notes.jpg", "not_an_image"),
        ("bmp", "uploads/old.png", "unsupported_format"),
        ("bomb_warning_png", "uploads/bomb-warning.png", "decompression_bomb"),
        ("bomb_error_png", "uploads/bomb-error.png", "decompression_bomb"),
    ],
)
def test_bad_input_is_rejected_to_the_rejection_queue(
    aws: Env,
    upload: Upload,
    images: dict[str, bytes],
    context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    name: str,
    key: str,
    reason: str,
) -> None:
    event = upload(key, images[name])

    assert handler(event, context) == {"rejected": 1}

    (message,) = aws.rejection_messages()
    assert message["type"] == "ImageRejected"
    assert message["reason"] == reason
    assert message["key"] == key
    assert message["record"] == event["Records"][0]
    item = aws.item(key)
    assert item is not None
    assert item["status"] == "rejected" and item["reason"] == reason
    listing = aws.s3.list_objects_v2(Bucket=THUMBNAIL_BUCKET)
    assert listing.get("KeyCount", 0) == 0
    (metric,) = emf_documents(capsys.readouterr().out)
    assert metric["ImagesRejected"] == 1 and metric["Reason"] == reason
    assert metric["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["FunctionName", "Reason"],
        ["FunctionName"],
    ]


def test_oversize_object_is_rejected_before_download(
    aws: Env,
    upload: Upload,
    images: dict[str, bytes],
    context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAX_OBJECT_BYTES", "1000")
    event = upload("uploads/huge.jpg", images["jpeg"])
    s3 = handler_aws.client("s3")

    def no_download(**_: Any) -> None:
        raise AssertionError("an oversize object must not be downloaded")

    monkeypatch.setattr(s3, "get_object", no_download)

    assert handler(event, context) == {"rejected": 1}

    (message,) = aws.rejection_messages()
    assert message["reason"] == "too_large"
    assert aws.item("uploads/huge.jpg")["reason"] == "too_large"  # type: ignore[index]


def test_record_without_size_uses_head_object(
    aws: Env,
    upload: Upload,
    images: dict[str, bytes],
    context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAX_OBJECT_BYTES", "1000")
    event = upload("uploads/nosize.jpg", images["jpeg"])
    del event["Records"][0]["s3"]["object"]["size"]

    assert handler(event, context) == {"rejected": 1}
    assert aws.rejection_messages()[0]["reason"] == "too_large"


def test_malformed_record_is_rejected(aws: Env, context: LambdaContext) -> None:
    assert handler({"Records": [{"eventName": "ObjectCreated:Put"}]}, context) == {"rejected": 1}
    (message,) = aws.rejection_messages()
    assert message["reason"] == "malformed_event"


# --- transient and unexpected errors raise --------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status"),
    [("SlowDown", 503), ("ThrottlingException", 400), ("InternalError", 500)],
)
def test_throttled_download_raises_for_retry(
    aws: Env,
    upload: Upload,
    images: dict[str, bytes],
    context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
    code: str,
    status: int,
) -> None:
    event = upload("uploads/busy.jpg", images["jpeg"])

    def throttled(**_: Any) -> None:
        raise client_error(code, status)

    monkeypatch.setattr(handler_aws.client("s3"), "get_object", throttled)

    with pytest.raises(TransientError, match=r"uploads/busy\.jpg"):
        handler(event, context)
    assert aws.rejection_messages() == []  # retried by Lambda, not reported as bad input
    item = aws.item("uploads/busy.jpg")
    assert item is not None
    assert item["status"] == "failed" and item["errorType"] == "ClientError"  # not "processing"
    assert code in item["error"]


@pytest.mark.parametrize(
    ("service", "method", "error"),
    [
        pytest.param(
            "dynamodb",
            "update_item",
            lambda: client_error("ProvisionedThroughputExceededException", 400, "UpdateItem"),
            id="throttled-metadata-write",
        ),
        pytest.param(
            "s3",
            "put_object",
            lambda: EndpointConnectionError(endpoint_url="https://s3.us-east-1.amazonaws.com"),
            id="network-error-on-upload",
        ),
    ],
)
def test_transient_failure_later_in_the_pipeline_raises_for_retry(
    aws: Env,
    upload: Upload,
    images: dict[str, bytes],
    context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
    service: str,
    method: str,
    error: Any,
) -> None:
    event = upload("uploads/busy.jpg", images["jpeg"])

    def failing(**_: Any) -> None:
        raise error()

    monkeypatch.setattr(handler_aws.client(service), method, failing)

    with pytest.raises(TransientError):
        handler(event, context)


def test_access_denied_raises_with_context(
    aws: Env,
    upload: Upload,
    images: dict[str, bytes],
    context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event = upload("uploads/secret.jpg", images["jpeg"])

    def denied(**_: Any) -> None:
        raise client_error("AccessDenied", 403)

    monkeypatch.setattr(handler_aws.client("s3"), "get_object", denied)

    with pytest.raises(ClientError) as raised:
        handler(event, context)
    assert not isinstance(raised.value, TransientError)
    assert any("uploads/secret.jpg" in note for note in raised.value.__notes__)


def test_unexpected_error_raises_with_context(
    aws: Env,
    upload: Upload,
    images: dict[str, bytes],
    context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import thumbnailer.app

    event = upload("uploads/bug.jpg", images["jpeg"])

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(thumbnailer.app, "make_thumbnail", broken)

    with pytest.raises(RuntimeError, match="boom") as raised:
        handler(event, context)
    assert any("s3://" in note and "uploads/bug.jpg" in note for note in raised.value.__notes__)
    logs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    (error,) = [log for log in logs if log.get("level") == "ERROR"]
    assert error["exceptionType"] == "RuntimeError" and error["key"] == "uploads/bug.jpg"
    assert aws.rejection_messages() == []  # not bad input: Lambda retries, then OnFailure


def test_retry_after_transient_failure_completes(
    aws: Env,
    upload: Upload,
    images: dict[str, bytes],
    context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event = upload("uploads/retry.jpg", images["jpeg"])
    s3 = handler_aws.client("s3")
    real_put = s3.put_object
    calls = {"n": 0}

    def flaky_put(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise client_error("SlowDown", 503, "PutObject")
        return real_put(**kwargs)

    monkeypatch.setattr(s3, "put_object", flaky_put)

    with pytest.raises(TransientError):
        handler(event, context)
    assert handler(event, context) == {"processed": 1}  # Lambda's retry
    item = aws.item("uploads/retry.jpg")
    assert item is not None and item["status"] == "processed" and item["attempts"] == "2"


# --- idempotency ----------------------------------------------------------------------------


def test_same_event_twice_does_the_work_once(
    aws: Env,
    upload: Upload,
    images: dict[str, bytes],
    context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event = upload("uploads/twice.jpg", images["jpeg"])
    s3 = handler_aws.client("s3")
    real_get, real_put = s3.get_object, s3.put_object
    calls = {"get": 0, "put": 0}

    def counting_get(**kwargs: Any) -> Any:
        calls["get"] += 1
        return real_get(**kwargs)

    def counting_put(**kwargs: Any) -> Any:
        calls["put"] += 1
        return real_put(**kwargs)

    monkeypatch.setattr(s3, "get_object", counting_get)
    monkeypatch.setattr(s3, "put_object", counting_put)

    assert handler(event, context) == {"processed": 1}
    first = aws.item("uploads/twice.jpg")
    assert handler(event, context) == {"duplicate": 1}

    assert calls == {"get": 1, "put": 1}
    assert aws.item("uploads/twice.jpg") == first
    versions = aws.s3.list_object_versions(Bucket=THUMBNAIL_BUCKET)
    assert len(versions.get("Versions", [])) == 1


def test_rejected_event_twice_queues_once(
    aws: Env, upload: Upload, images: dict[str, bytes], context: LambdaContext
) -> None:
    event = upload("uploads/junk.jpg", images["not_an_image"])

    assert handler(event, context) == {"rejected": 1}
    assert handler(event, context) == {"duplicate": 1}
    assert len(aws.rejection_messages()) == 1


def test_new_version_of_object_is_processed_again(
    aws: Env, upload: Upload, images: dict[str, bytes], context: LambdaContext
) -> None:
    first = upload("uploads/change.png", images["transparent_png"])
    assert handler(first, context) == {"processed": 1}
    second = upload("uploads/change.png", images["jpeg"])  # new content, new ETag

    assert handler(second, context) == {"processed": 1}
    item = aws.item("uploads/change.png")
    assert item is not None and item["format"] == "JPEG"
    assert item["sourceEtag"] == second["Records"][0]["s3"]["object"]["eTag"]


def test_stale_event_for_overwritten_object_is_skipped(
    aws: Env, upload: Upload, images: dict[str, bytes], context: LambdaContext
) -> None:
    stale = upload("uploads/race.jpg", images["jpeg"])
    upload("uploads/race.jpg", images["webp"])  # overwritten before the first event ran

    assert handler(stale, context) == {"skipped": 1}
    assert aws.item("uploads/race.jpg")["status"] == "superseded"  # type: ignore[index]


def test_reprocess_rejected_flag_allows_a_second_attempt(
    aws: Env,
    upload: Upload,
    images: dict[str, bytes],
    context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAX_OBJECT_BYTES", "1000")
    event = upload("uploads/later.jpg", images["jpeg"])
    assert handler(event, context) == {"rejected": 1}
    monkeypatch.setenv("MAX_OBJECT_BYTES", str(5 * 1024 * 1024))  # limit raised

    assert handler(event, context) == {"duplicate": 1}
    assert handler({**event, "reprocessRejected": True}, context) == {"processed": 1}


def test_event_for_the_thumbnail_bucket_is_ignored(aws: Env, context: LambdaContext) -> None:
    event = s3_event(THUMBNAIL_BUCKET, "uploads/loop.jpg", 10, "abc")
    assert handler(event, context) == {"skipped": 1}
