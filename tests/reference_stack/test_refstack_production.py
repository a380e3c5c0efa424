"""Issue 13: the defects a production review found in the reference stack, one regression
test (or a few) per item, against moto with real image bytes."""

from __future__ import annotations

import contextlib
import io
import json
import re
import struct
import subprocess
import sys
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cfn_flip import load_yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from refstack_support import (
    BUILD_SCRIPT,
    HANDLER_DIR,
    TEMPLATE,
    THUMBNAIL_BUCKET,
    UPLOAD_BUCKET,
    Env,
    LambdaContext,
    client_error,
    encode,
    pinned_pillow,
    s3_event,
    two_tone,
)
from thumbnailer import aws as handler_aws
from thumbnailer.app import THUMBNAIL_CACHE_CONTROL, handler, normalise_sequencer
from thumbnailer.imaging import PEAK_BYTES_PER_PIXEL, ImageRejected, make_thumbnail

Upload = Callable[[str, bytes], dict[str, Any]]


def template() -> dict[str, Any]:
    return dict(load_yaml(TEMPLATE.read_text()))


# --- item 1: any decoder failure on untrusted bytes is a rejection --------------------------


def tiff_ifd(entries: list[tuple[int, int, int, bytes]]) -> bytes:
    """A little-endian TIFF header + one IFD: (tag, type, count, 4-byte value) entries."""
    ifd = struct.pack("<H", len(entries))
    for tag, type_, count, value in entries:
        ifd += struct.pack("<HHI", tag, type_, count) + value.ljust(4, b"\0")
    return b"II*\0" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)


def exif_type_error_jpeg() -> bytes:
    """A ~700-byte JPEG whose EXIF makes Pillow's exif_transpose raise TypeError.

    Orientation 6 (so the image must be turned) and XResolution stored as BYTE instead of
    RATIONAL: rewriting the EXIF block after the transpose fails with "bad operand type for
    abs(): 'bytes'" in Pillow 13.0.0.
    """
    exif = tiff_ifd([(0x0112, 3, 1, struct.pack("<H", 6)), (0x011A, 1, 1, b"\x01")])
    return encode(Image.new("RGB", (8, 8), (1, 2, 3)), "JPEG", exif=b"Exif\0\0" + exif)


def test_the_crafted_exif_really_breaks_exif_transpose() -> None:
    """The fixture is what the issue describes (else the regression test below proves nothing).

    Checked with the Pillow the deployment package pins; a later Pillow may fix the bug.
    """
    import PIL
    from PIL import ImageOps

    pinned = pinned_pillow()
    if PIL.__version__ != pinned:
        pytest.skip(f"the fixture was crafted for Pillow {pinned}, not {PIL.__version__}")

    image = Image.open(io.BytesIO(exif_type_error_jpeg()))
    with pytest.raises(TypeError):
        ImageOps.exif_transpose(image)


def test_malformed_exif_is_not_an_error(aws: Env, upload: Upload, context: LambdaContext) -> None:
    event = upload("uploads/crafted.jpg", exif_type_error_jpeg())

    outcome = handler(event, context)  # raised TypeError before: retries, DLQ, page

    assert outcome in ({"processed": 1}, {"rejected": 1})
    item = aws.item("uploads/crafted.jpg")
    assert item is not None and item["status"] in {"processed", "rejected"}
    if outcome == {"processed": 1}:  # orientation still applied: 8x8 stays 8x8, turned
        assert (int(item["width"]), int(item["height"])) == (8, 8)


SEEDS = {
    "jpeg": lambda: encode(two_tone((64, 48)), "JPEG", quality=80),
    "exif_jpeg": exif_type_error_jpeg,
    "png": lambda: encode(Image.new("RGBA", (40, 30), (9, 80, 200, 128)), "PNG"),
    "gif": lambda: encode(two_tone((40, 30)).convert("P"), "GIF"),
    "webp": lambda: encode(two_tone((40, 30)), "WEBP", quality=50),
}
SEED_BYTES = {name: make() for name, make in SEEDS.items()}


@st.composite
def hostile_bytes(draw: st.DrawFn) -> bytes:
    """Real images with flipped, overwritten, inserted or cut bytes; or raw noise."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=512))
    data = bytearray(SEED_BYTES[draw(st.sampled_from(sorted(SEED_BYTES)))])
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "set", "insert", "cut"]))
        if action == "flip":
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "set":
            data[position] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF]))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[position:]
            if not data:
                break
    return bytes(data)


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(data=hostile_bytes())
def test_decoder_never_raises_anything_but_a_rejection(data: bytes) -> None:
    with contextlib.suppress(ImageRejected):
        make_thumbnail(data, size=32, max_pixels=1_000_000, memory_mb=256)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=hostile_bytes())
def test_handler_never_raises_on_any_byte_string(
    aws: Env, upload: Upload, context: LambdaContext, data: bytes
) -> None:
    event = upload("uploads/fuzz.png", data)
    outcome = handler(event, context)
    assert set(outcome) <= {"processed", "rejected"} and sum(outcome.values()) == 1
    item = aws.item("uploads/fuzz.png")
    assert item is not None and item["status"] != "processing"
    aws.rejection_messages()  # drain


# --- item 3: a late event for an older version never replaces newer metadata ---------------


def test_sequencers_compare_after_left_padding() -> None:
    assert normalise_sequencer("FF") < normalise_sequencer("0100")  # as strings "FF" > "0100"
    assert normalise_sequencer("0055aed6dcd90281e5") == normalise_sequencer("55AED6DCD90281E5")
    for bad in ("", "xyz", "1" * 65, None, 12):
        with pytest.raises(ValueError):
            normalise_sequencer(bad)


def test_stale_event_never_replaces_newer_metadata(
    aws: Env, upload: Upload, images: dict[str, bytes], context: LambdaContext
) -> None:
    old = upload("uploads/late.jpg", images["jpeg"])
    new = upload("uploads/late.jpg", images["webp"])  # overwritten: higher sequencer
    assert handler(new, context) == {"processed": 1}
    newest = aws.item("uploads/late.jpg")

    # S3 delivered the first write's event last (events are not ordered).
    assert handler(old, context) == {"stale": 1}

    assert aws.item("uploads/late.jpg") == newest
    assert newest is not None and newest["status"] == "processed"
    assert newest["sourceEtag"] == new["Records"][0]["s3"]["object"]["eTag"]


def test_sequencer_of_a_different_length_still_orders(
    aws: Env, images: dict[str, bytes], context: LambdaContext
) -> None:
    put = aws.s3.put_object(Bucket=UPLOAD_BUCKET, Key="uploads/len.jpg", Body=images["jpeg"])
    etag = put["ETag"].strip('"')
    newer = s3_event(UPLOAD_BUCKET, "uploads/len.jpg", len(images["jpeg"]), etag, "0100")
    older = s3_event(UPLOAD_BUCKET, "uploads/len.jpg", len(images["jpeg"]), etag, "FF")
    assert handler(newer, context) == {"processed": 1}
    assert handler(older, context) == {"stale": 1}


def test_record_without_sequencer_is_malformed(
    aws: Env, upload: Upload, images: dict[str, bytes], context: LambdaContext
) -> None:
    event = upload("uploads/noseq.jpg", images["jpeg"])
    del event["Records"][0]["s3"]["object"]["sequencer"]
    assert handler(event, context) == {"rejected": 1}
    assert aws.rejection_messages()[0]["reason"] == "malformed_event"


# --- item 4: rejections and real failures are apart; failures and backlog age alarm -------


def test_rejections_and_failures_use_different_queues_and_alarms() -> None:
    resources = template()["Resources"]
    config = resources["ProcessorInvokeConfig"]["Properties"]["DestinationConfig"]
    assert config["OnFailure"]["Destination"] == {"Fn::GetAtt": ["FailureQueue", "Arn"]}
    variables = resources["ProcessorFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["REJECTION_QUEUE_URL"] == {"Ref": "RejectionQueue"}
    assert "FAILURE_QUEUE_URL" not in variables
    alarms = {
        name: r["Properties"]
        for name, r in resources.items()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"]["Namespace"] == "AWS/SQS"
    }
    watched = {(a["MetricName"], json.dumps(a["Dimensions"][0]["Value"])) for a in alarms.values()}
    failure_queue = json.dumps({"Fn::GetAtt": ["FailureQueue", "QueueName"]})
    assert watched == {
        ("ApproximateNumberOfMessagesVisible", failure_queue),
        ("ApproximateAgeOfOldestMessage", failure_queue),
    }
    age = alarms["FailureQueueAgeAlarm"]
    retention = resources["FailureQueue"]["Properties"]["MessageRetentionPeriod"]
    assert 0 < age["Threshold"] < retention  # fires well before messages expire


def test_a_rejection_is_no_failure_queue_message(
    aws: Env, upload: Upload, images: dict[str, bytes], context: LambdaContext
) -> None:
    failure_queue = aws.sqs.create_queue(QueueName="imgproc-failures-test")["QueueUrl"]
    assert handler(upload("uploads/junk.jpg", images["not_an_image"]), context) == {"rejected": 1}
    assert [m["reason"] for m in aws.rejection_messages()] == ["not_an_image"]
    assert "Messages" not in aws.sqs.receive_message(QueueUrl=failure_queue)


# --- item 5: pixels bounded by the function's memory -------------------------------------


PEAK_CHECK = r"""
import io, json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from PIL import Image
from thumbnailer.imaging import make_thumbnail

def rss():
    fields = dict(l.split(":", 1) for l in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024

data = Path(sys.argv[2]).read_bytes()
before, _ = rss()
make_thumbnail(data, size=256, max_pixels=100_000_000)
growth = rss()[1] - before
image = Image.open(io.BytesIO(data))
if image.format == "JPEG":
    image.draft(None, (512, 512))  # what the handler decodes for a 256 px thumbnail
print(json.dumps({"growth": growth, "decoded": image.size[0] * image.size[1]}))
"""
#: Fixed cost of one render whatever its size (decoder and encoder buffers, first-use
#: allocations), covered by BASELINE_MIB's headroom rather than the per-pixel figure.
FIXED_RENDER_BYTES = 12 * 1024 * 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
@pytest.mark.parametrize(
    ("fmt", "mode"), [("PNG", "RGBA"), ("WEBP", "RGBA"), ("GIF", "P"), ("JPEG", "RGB")]
)
def test_measured_peak_stays_inside_the_memory_model(tmp_path: Any, fmt: str, mode: str) -> None:
    """A real render in a fresh process: peak RSS growth <= PEAK_BYTES_PER_PIXEL x pixels."""
    width, height = 2400, 1800  # 4.3 MP
    noise = Image.effect_noise((width, height), 40)
    if mode == "P":
        image = Image.merge("RGB", (noise, noise, noise)).quantize(64)
    elif mode == "RGBA":
        image = Image.merge("RGBA", (noise, noise, noise, noise))
    else:
        image = Image.merge("RGB", (noise, noise, noise))
    path = tmp_path / f"image.{fmt.lower()}"
    params = {"PNG": {"compress_level": 1}, "WEBP": {"quality": 50, "method": 0}}
    image.save(path, fmt, **params.get(fmt, {}))
    result = subprocess.run(
        [sys.executable, "-c", PEAK_CHECK, str(HANDLER_DIR), str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    measured = json.loads(result.stdout)
    growth, decoded = measured["growth"], measured["decoded"]
    assert decoded < width * height if fmt == "JPEG" else decoded == width * height
    assert growth <= PEAK_BYTES_PER_PIXEL[fmt] * decoded + FIXED_RENDER_BYTES, (
        fmt,
        growth / decoded,
    )


def test_image_too_big_for_the_memory_size_is_rejected_not_decoded(
    aws: Env,
    upload: Upload,
    context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 160 MB a 3 MP RGBA PNG (~36 MiB to render) does not fit: exceeds_memory."""
    monkeypatch.setenv("MAX_IMAGE_PIXELS", "40000000")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "160")
    png = encode(Image.new("RGBA", (2000, 1500), (1, 2, 3, 4)), "PNG")
    jpeg = encode(Image.new("RGB", (2000, 1500), (1, 2, 3)), "JPEG")

    assert handler(upload("uploads/wide.png", png), context) == {"rejected": 1}
    # The same pixels as JPEG are decoded at 1/8 scale (draft): they fit.
    assert handler(upload("uploads/wide.jpg", jpeg), context) == {"processed": 1}

    (message,) = aws.rejection_messages()
    assert message["reason"] == "exceeds_memory" and "PNG" in message["detail"]


def test_memory_limit_comes_from_the_lambda_environment() -> None:
    from thumbnailer.config import Settings

    base = {"THUMBNAIL_BUCKET": "b", "METADATA_TABLE": "t", "REJECTION_QUEUE_URL": "q"}
    assert Settings.from_env(base).memory_mb is None
    assert Settings.from_env({**base, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512"}).memory_mb == 512


def test_every_allowed_memory_size_renders_the_default_pixel_limit_of_jpeg() -> None:
    """The cost estimate's 512 MB handles a default-limit (40 MP) JPEG: draft decodes it small."""
    from thumbnailer.imaging import memory_pixel_limit

    parameters = template()["Parameters"]
    default_pixels = int(parameters["MaxImagePixels"]["Default"])
    for memory in parameters["MemorySize"]["AllowedValues"]:
        drafted = default_pixels // 16  # at least 1/4 scale for thumbnails <= 1024 px
        assert memory_pixel_limit(int(memory), "JPEG", 100 * 1024 * 1024) > drafted, memory


# --- item 6: a deleted object is skipped, not retried ---------------------------------------


def policy_allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """Allow statements matching ``action`` on ``resource`` (names resolved by the caller)."""
    for statement in statements:
        actions = statement["Action"]
        resources = statement["Resource"]
        for candidate in resources if isinstance(resources, list) else [resources]:
            pattern = candidate if isinstance(candidate, str) else json.dumps(candidate)
            for granted in actions if isinstance(actions, list) else [actions]:
                if fnmatchcase(action, granted) and fnmatchcase(resource, pattern):
                    return True
    return False


def function_policy_statements() -> list[dict[str, Any]]:
    """The template's FunctionPolicy with the upload bucket's name substituted."""
    statements = template()["Resources"]["FunctionPolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    resolved = []
    for statement in statements:
        resources = statement["Resource"]
        out = []
        for resource in resources if isinstance(resources, list) else [resources]:
            if isinstance(resource, dict) and "Fn::Sub" in resource:
                resource = re.sub(
                    r"\$\{([^}]+)\}",
                    lambda m: {
                        "AWS::Partition": "aws",
                        "NamePrefix": "imgproc",
                        "AWS::AccountId": "123456789012",
                        "AWS::Region": "us-east-1",
                    }.get(m.group(1), m.group(0)),
                    resource["Fn::Sub"],
                )
            out.append(resource)
        resolved.append({**statement, "Resource": out})
    return resolved


@pytest.fixture
def s3_answers_like_iam(aws: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make moto's S3 answer a missing key as S3 does for the template's role.

    S3 returns 404 for a missing key only to callers allowed s3:ListBucket on the bucket,
    and 403 AccessDenied to everyone else (moto always says 404).
    """
    can_list = policy_allows(
        function_policy_statements(), "s3:ListBucket", f"arn:aws:s3:::{UPLOAD_BUCKET}"
    )
    s3 = handler_aws.client("s3")
    for name in ("get_object", "head_object"):
        real = getattr(s3, name)

        def answer(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
            try:
                return _real(*args, **kwargs)
            except ClientError as exc:
                status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
                if status == 404 and not can_list:
                    raise ClientError(
                        {
                            "Error": {"Code": "AccessDenied", "Message": "Access Denied"},
                            "ResponseMetadata": {"HTTPStatusCode": 403},
                        },
                        exc.operation_name,
                    ) from exc
                raise

        monkeypatch.setattr(s3, name, answer)


@pytest.mark.parametrize("with_size", [True, False], ids=["get", "head-then-get"])
def test_object_deleted_before_processing_is_skipped(
    aws: Env,
    upload: Upload,
    images: dict[str, bytes],
    context: LambdaContext,
    s3_answers_like_iam: None,
    with_size: bool,
) -> None:
    event = upload("uploads/gone.jpg", images["jpeg"])
    if not with_size:
        del event["Records"][0]["s3"]["object"]["size"]
    aws.s3.delete_object(Bucket=UPLOAD_BUCKET, Key="uploads/gone.jpg")

    assert handler(event, context) == {"skipped": 1}  # AccessDenied, retried, before

    item = aws.item("uploads/gone.jpg")
    assert item is not None and item["status"] == "superseded"


# --- item 7: cost guards and access are the stack's -----------------------------------------


def test_thumbnails_are_cacheable_but_not_immutable(
    aws: Env, upload: Upload, images: dict[str, bytes], context: LambdaContext
) -> None:
    handler(upload("uploads/c.jpg", images["jpeg"]), context)
    head = aws.s3.head_object(Bucket=THUMBNAIL_BUCKET, Key="thumbnails/128/c.jpg.webp")
    assert head["CacheControl"] == THUMBNAIL_CACHE_CONTROL
    directives = dict(
        [*part.strip().split("="), ""][:2] for part in head["CacheControl"].split(",")
    )
    assert "immutable" not in directives  # the key is rewritten when the original changes
    assert int(directives["max-age"]) <= 3600


def test_budget_watches_only_this_stack() -> None:
    resources = template()["Resources"]
    budget = resources["MonthlyCostBudget"]["Properties"]["Budget"]
    assert budget["CostFilters"] == {
        "TagKeyValue": [{"Fn::Sub": "aws:cloudformation:stack-name$${AWS::StackName}"}]
    }
    # AWS/Billing EstimatedCharges has no tag dimension: an alarm on it would compare the
    # whole account's bill with this stack's budget, so there is none.
    billing = [
        name
        for name, r in resources.items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"].get("Namespace") == "AWS/Billing"
    ]
    assert billing == []


# --- item 8: smaller ---------------------------------------------------------------------


def test_item_is_failed_not_processing_after_the_last_retry(
    aws: Env,
    upload: Upload,
    images: dict[str, bytes],
    context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event = upload("uploads/doomed.jpg", images["jpeg"])

    def broken(**_: Any) -> None:
        raise client_error("KMS.DisabledException", 400, "PutObject")

    monkeypatch.setattr(handler_aws.client("s3"), "put_object", broken)
    retries = template()["Resources"]["ProcessorInvokeConfig"]["Properties"]["MaximumRetryAttempts"]
    for _ in range(1 + retries):  # the first attempt and Lambda's retries
        with pytest.raises(ClientError):
            handler(event, context)

    item = aws.item("uploads/doomed.jpg")
    assert item is not None
    assert item["status"] == "failed" and item["attempts"] == str(1 + retries)
    assert "KMS.DisabledException" in item["error"]


def test_sdk_retry_budget_ends_inside_the_function_timeout(aws: Env) -> None:
    timeout = template()["Resources"]["ProcessorFunction"]["Properties"]["Timeout"]
    config = handler_aws.client("s3").meta.config
    attempts = config.retries["total_max_attempts"]
    backoff = sum(2 ** (n - 1) for n in range(1, attempts))  # standard mode's ceiling
    worst = attempts * (config.connect_timeout + config.read_timeout) + backoff
    assert worst == handler_aws.CALL_BUDGET_S
    # A hung call gives up with time left to log the error and mark the item failed.
    assert worst <= timeout / 2, (worst, timeout)


def test_pillow_is_pinned_with_hashes() -> None:
    requirements = (HANDLER_DIR / "requirements.txt").read_text()
    logical = re.sub(r"\\\n", " ", requirements)
    pins = [line for line in logical.splitlines() if line.strip() and not line.startswith("#")]
    assert pins and all(re.search(r"--hash=sha256:[0-9a-f]{64}", pin) for pin in pins)


def test_build_refuses_requirements_without_hashes(tmp_path: Any) -> None:
    """--require-hashes: an unhashed pin fails before anything is downloaded."""
    unhashed = tmp_path / "requirements.txt"
    unhashed.write_text("Pillow==13.0.0\n")
    result = subprocess.run(
        [
            sys.executable,
            str(BUILD_SCRIPT),
            "--requirements",
            str(unhashed),
            "--output",
            str(tmp_path / "f.zip"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1
    assert "hash" in result.stderr.lower()
    assert not (tmp_path / "f.zip").exists()


def test_memory_error_while_rendering_is_an_exceeds_memory_rejection(
    monkeypatch: pytest.MonkeyPatch, images: dict[str, bytes]
) -> None:
    """Not "corrupt": replay.py may retry it after MemorySize is raised."""
    from thumbnailer import imaging

    def out_of_memory(*_: Any, **__: Any) -> None:
        raise MemoryError

    monkeypatch.setattr(imaging, "_normalise_mode", out_of_memory)
    with pytest.raises(ImageRejected) as rejected:
        make_thumbnail(images["jpeg"], size=64, max_pixels=1_000_000)
    assert rejected.value.reason == "exceeds_memory"
