"""Lambda entry point: S3 ObjectCreated event -> thumbnail + metadata item.

Outcomes per record:

* ``processed``  thumbnail written, metadata item ``status=processed``;
* ``rejected``   bad input (not an image, corrupt, too large, bomb, refused format, more
  pixels than the memory size affords): metadata ``status=rejected`` + reason, a message on
  the *rejection* queue, metric ``ImagesRejected``, and *no* exception: retrying cannot help;
* ``duplicate``  the same object version (S3 ``sequencer``) was already handled;
* ``stale``      the item already holds a newer version of the key (higher ``sequencer``):
  a late event for an overwritten object never replaces newer metadata;
* ``skipped``    outside the source prefix, or the object changed/vanished meanwhile.

Transient AWS errors (throttling, 5xx, timeouts) raise ``TransientError`` so that Lambda's
asynchronous retries and finally the OnFailure destination (the *failure* queue) take over.
Anything else raises as well, with a note naming the object. Before raising, the item is
marked ``status=failed`` with the error, so nothing stays at ``processing`` after the last
retry (only a crash or a timeout can leave it there; see the README's stuck-item query).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote_plus

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from . import aws
from .config import Settings
from .imaging import ImageRejected, Thumbnail, make_thumbnail
from .observability import Metrics, get_logger, request_id

logger = get_logger("thumbnailer")

#: Error codes that mean "try again later" (S3, DynamoDB, SQS, KMS, STS spellings).
TRANSIENT_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "RequestThrottledException",
        "LimitExceededException",
        "TransactionInProgressException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "KMSInternalException",
        "KeyUnavailableException",
    }
)
_SKIP_CODES = frozenset({"PreconditionFailed", "NoSuchKey", "404", "NotFound"})
_S3_KEY_LIMIT = 1024
#: S3 sequencers are hex strings of varying length; compared after left-padding to this.
SEQUENCER_WIDTH = 64
#: Thumbnail keys are deterministic and overwritten when the original changes: caches may
#: keep a copy for five minutes, then must revalidate (S3 answers 304 while the ETag holds).
THUMBNAIL_CACHE_CONTROL = "public, max-age=300, must-revalidate"


def normalise_sequencer(value: object) -> str:
    """Upper-case hex, left-padded to SEQUENCER_WIDTH: string order is then S3's order."""
    if not isinstance(value, str) or not value or len(value) > SEQUENCER_WIDTH:
        raise ValueError(f"invalid S3 sequencer {value!r}")
    int(value, 16)  # ValueError unless hex
    return value.upper().rjust(SEQUENCER_WIDTH, "0")


class TransientError(RuntimeError):
    """A retryable failure; raised so Lambda retries the event."""


@dataclass(frozen=True, slots=True)
class S3Object:
    """The object an S3 event record points at (key already URL-decoded)."""

    bucket: str
    key: str
    etag: str
    size: int | None
    event_name: str
    sequencer: str

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> S3Object:
        s3 = record["s3"]
        obj = s3["object"]
        size = obj.get("size")
        return cls(
            bucket=s3["bucket"]["name"],
            key=unquote_plus(obj["key"]),
            etag=str(obj.get("eTag", "")).strip('"'),
            size=int(size) if size is not None else None,
            event_name=str(record.get("eventName", "")),
            sequencer=normalise_sequencer(obj["sequencer"]),
        )

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.key} (etag {self.etag})"

    def fields(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "key": self.key,
            "etag": self.etag,
            "size": self.size,
            "sequencer": self.sequencer.lstrip("0") or "0",
        }


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Process every record of an S3 notification; return a count per outcome."""
    token = request_id.set(getattr(context, "aws_request_id", None))
    try:
        settings = Settings.from_env()
        metrics = Metrics(settings.metrics_namespace, settings.function_name)
        records = event.get("Records")
        if not isinstance(records, list):
            # e.g. the s3:TestEvent S3 sends when the notification is configured.
            logger.info("event without records ignored", extra={"fields": {"event": event}})
            return {}
        force = bool(event.get("reprocessRejected", False))
        counts: dict[str, int] = {}
        for record in records:
            outcome = process_record(record, settings, metrics, reprocess_rejected=force)
            counts[outcome] = counts.get(outcome, 0) + 1
        logger.info("invocation finished", extra={"fields": {"outcomes": counts}})
        return counts
    finally:
        request_id.reset(token)


def process_record(
    record: dict[str, Any],
    settings: Settings,
    metrics: Metrics,
    *,
    reprocess_rejected: bool = False,
) -> str:
    """Handle one record; return its outcome or raise for retryable/unexpected failures."""
    try:
        obj = S3Object.from_record(record)
    except (KeyError, TypeError, ValueError) as exc:
        reject_malformed(record, exc, settings, metrics)
        return "rejected"
    if not obj.key.startswith(settings.source_prefix) or obj.bucket == settings.thumbnail_bucket:
        logger.warning("object outside the source prefix skipped", extra={"fields": obj.fields()})
        return "skipped"
    started = time.perf_counter()
    try:
        return _process(obj, record, settings, metrics, started, reprocess_rejected)
    except TransientError as exc:
        mark_failed(obj, settings, exc)
        raise
    except (ClientError, BotoCoreError) as exc:
        mark_failed(obj, settings, exc)
        if is_transient(exc):
            logger.warning(
                "transient AWS error; Lambda will retry",
                extra={"fields": {**obj.fields(), "error": str(exc)}},
            )
            raise TransientError(f"transient error processing {obj.location}: {exc}") from exc
        _report_unexpected(exc, obj)
        raise
    except Exception as exc:
        mark_failed(obj, settings, exc)
        _report_unexpected(exc, obj)
        raise


def _process(
    obj: S3Object,
    record: dict[str, Any],
    settings: Settings,
    metrics: Metrics,
    started: float,
    reprocess_rejected: bool,
) -> str:
    claimed = claim(obj, settings, reprocess_rejected=reprocess_rejected)
    if claimed != "claimed":
        metrics.duplicate_skipped()
        message = "duplicate event skipped" if claimed == "duplicate" else "stale event skipped"
        logger.info(message, extra={"fields": obj.fields()})
        return claimed
    try:
        data = download(obj, settings)
        thumbnail = make_thumbnail(
            data,
            size=settings.thumbnail_size,
            max_pixels=settings.max_image_pixels,
            output_format=settings.output_format,
            memory_mb=settings.memory_mb,
        )
    except ImageRejected as rejection:
        reject(obj, record, rejection, settings, metrics)
        return "rejected"
    except ClientError as exc:
        if error_code(exc) not in _SKIP_CODES:
            raise
        mark(obj, settings, "superseded", {"reason": error_code(exc)})
        logger.info("object changed or deleted before processing", extra={"fields": obj.fields()})
        return "skipped"
    key = thumbnail_key(obj.key, settings)
    upload_thumbnail(obj, key, thumbnail, settings)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if not record_success(obj, key, thumbnail, elapsed_ms, settings):
        logger.info("newer version claimed the item meanwhile", extra={"fields": obj.fields()})
        return "skipped"
    metrics.thumbnail_created(elapsed_ms)
    logger.info(
        "thumbnail created",
        extra={"fields": {**obj.fields(), "thumbnailKey": key, "durationMs": round(elapsed_ms, 1)}},
    )
    return "processed"


# --- error classification -----------------------------------------------------------------


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_transient(exc: BaseException) -> bool:
    """True for throttling, server-side (5xx) and network errors."""
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return error_code(exc) in TRANSIENT_ERROR_CODES or status >= 500 or status == 429
    return isinstance(exc, BotoConnectionError | HTTPClientError)


def _report_unexpected(exc: Exception, obj: S3Object) -> None:
    """Log with the traceback and name the object on the exception itself."""
    logger.error(
        "unexpected error processing object",
        exc_info=exc,
        extra={"fields": {**obj.fields(), "error": str(exc)}},
    )
    exc.add_note(f"while processing {obj.location}")


# --- S3 -----------------------------------------------------------------------------------


def download(obj: S3Object, settings: Settings) -> bytes:
    """Fetch exactly the version the event announced, refusing oversize objects first."""
    s3 = aws.client("s3")
    size = obj.size
    if size is None:
        size = int(s3.head_object(Bucket=obj.bucket, Key=obj.key)["ContentLength"])
    _check_size(size, settings)
    kwargs: dict[str, Any] = {"Bucket": obj.bucket, "Key": obj.key}
    if obj.etag:
        kwargs["IfMatch"] = f'"{obj.etag}"'
    response = s3.get_object(**kwargs)
    _check_size(int(response.get("ContentLength", 0)), settings)
    body = response["Body"]
    try:
        data: bytes = body.read(settings.max_object_bytes + 1)
    finally:
        body.close()
    _check_size(len(data), settings)
    return data


def _check_size(size: int, settings: Settings) -> None:
    if size > settings.max_object_bytes:
        raise ImageRejected("too_large", f"{size} bytes > limit {settings.max_object_bytes}")


def thumbnail_key(source_key: str, settings: Settings) -> str:
    """Deterministic output key: ``thumbnails/<size>/<key below the source prefix>.<ext>``."""
    base = f"{settings.thumbnail_prefix}{settings.thumbnail_size}/"
    extension = settings.output_extension
    key = f"{base}{source_key[len(settings.source_prefix) :]}.{extension}"
    if len(key.encode()) > _S3_KEY_LIMIT:
        key = f"{base}_long/{hashlib.sha256(source_key.encode()).hexdigest()}.{extension}"
    return key


def upload_thumbnail(obj: S3Object, key: str, thumbnail: Thumbnail, settings: Settings) -> None:
    aws.client("s3").put_object(
        Bucket=settings.thumbnail_bucket,
        Key=key,
        Body=thumbnail.data,
        ContentType=settings.output_content_type,
        CacheControl=THUMBNAIL_CACHE_CONTROL,
        Metadata={"source-key": quote(obj.key, safe="/"), "source-etag": obj.etag},
    )


# --- DynamoDB -----------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def claim(obj: S3Object, settings: Settings, *, reprocess_rejected: bool = False) -> str:
    """Mark the object version as being processed: ``claimed``, ``duplicate`` or ``stale``.

    The conditional write is the idempotency and ordering check. S3's ``sequencer`` grows
    with every write to a key, so an event may proceed if the item is new, holds an older
    version (lower sequencer), or holds this very version after an attempt that did not
    finish (``processing`` or ``failed``). A late event for an older version never does.
    """
    retryable = [":processing", ":failed"] + ([":rejected"] if reprocess_rejected else [])
    condition = (
        "attribute_not_exists(objectKey) OR attribute_not_exists(sequencer) "
        "OR sequencer < :seq "
        f"OR (sequencer = :seq AND #status IN ({', '.join(retryable)}))"
    )
    values: dict[str, Any] = {
        ":seq": {"S": obj.sequencer},
        ":etag": {"S": obj.etag},
        ":processing": {"S": "processing"},
        ":failed": {"S": "failed"},
        ":bucket": {"S": obj.bucket},
        ":now": {"S": _now()},
        ":zero": {"N": "0"},
        ":one": {"N": "1"},
    }
    if reprocess_rejected:
        values[":rejected"] = {"S": "rejected"}
    try:
        aws.client("dynamodb").update_item(
            TableName=settings.metadata_table,
            Key={"objectKey": {"S": obj.key}},
            UpdateExpression=(
                "SET #status = :processing, sequencer = :seq, sourceEtag = :etag, "
                "sourceBucket = :bucket, updatedAt = :now, "
                "attempts = if_not_exists(attempts, :zero) + :one"
            ),
            ConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            held = str(exc.response.get("Item", {}).get("sequencer", {}).get("S", ""))
            return "stale" if held > obj.sequencer else "duplicate"
        raise
    return "claimed"


def mark(
    obj: S3Object,
    settings: Settings,
    status: str,
    attributes: dict[str, Any],
    *,
    only_if_processing: bool = False,
) -> bool:
    """Set ``status`` and ``attributes`` if the item still holds our version (sequencer)."""
    names = {"#status": "status"}
    values: dict[str, Any] = {
        ":status": {"S": status},
        ":seq": {"S": obj.sequencer},
        ":now": {"S": _now()},
    }
    condition = "sequencer = :seq"
    if only_if_processing:
        condition += " AND #status = :processing"
        values[":processing"] = {"S": "processing"}
    assignments = ["#status = :status", "updatedAt = :now"]
    for index, (name, value) in enumerate(sorted(attributes.items())):
        names[f"#a{index}"] = name
        values[f":a{index}"] = _attribute(value)
        assignments.append(f"#a{index} = :a{index}")
    try:
        aws.client("dynamodb").update_item(
            TableName=settings.metadata_table,
            Key={"objectKey": {"S": obj.key}},
            UpdateExpression="SET " + ", ".join(assignments),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def mark_failed(obj: S3Object, settings: Settings, exc: BaseException) -> None:
    """Best effort: record why this attempt failed (the exception is raised anyway)."""
    try:
        mark(
            obj,
            settings,
            "failed",
            {"errorType": type(exc).__name__, "error": str(exc)[:1000]},
            only_if_processing=True,
        )
    except Exception as mark_error:  # the table may be what is failing
        logger.warning(
            "could not mark the item failed",
            extra={"fields": {**obj.fields(), "error": str(mark_error)}},
        )


def _attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    return {"S": str(value)}


def record_success(
    obj: S3Object, key: str, thumbnail: Thumbnail, elapsed_ms: float, settings: Settings
) -> bool:
    return mark(
        obj,
        settings,
        "processed",
        {
            "sourceSize": obj.size if obj.size is not None else -1,
            "width": thumbnail.source_width,
            "height": thumbnail.source_height,
            "format": thumbnail.source_format,
            "mode": thumbnail.source_mode,
            "animated": thumbnail.animated,
            "thumbnailBucket": settings.thumbnail_bucket,
            "thumbnailKey": key,
            "thumbnailWidth": thumbnail.width,
            "thumbnailHeight": thumbnail.height,
            "thumbnailBytes": len(thumbnail.data),
            "thumbnailFormat": settings.output_format,
            "processedAt": _now(),
            "durationMs": round(elapsed_ms, 1),
        },
    )


# --- rejections ---------------------------------------------------------------------------


def reject(
    obj: S3Object,
    record: dict[str, Any],
    rejection: ImageRejected,
    settings: Settings,
    metrics: Metrics,
) -> None:
    """Report bad input: rejection-queue message first, then the metadata item."""
    send_rejection(
        settings,
        {
            "type": "ImageRejected",
            "reason": rejection.reason,
            "detail": rejection.detail,
            **obj.fields(),
            "record": record,
        },
    )
    mark(obj, settings, "rejected", {"reason": rejection.reason, "detail": rejection.detail[:1000]})
    metrics.image_rejected(rejection.reason)
    logger.warning(
        "image rejected",
        extra={"fields": {**obj.fields(), "reason": rejection.reason, "detail": rejection.detail}},
    )


def reject_malformed(
    record: dict[str, Any], exc: Exception, settings: Settings, metrics: Metrics
) -> None:
    detail = f"{type(exc).__name__}: {exc}"
    send_rejection(
        settings,
        {"type": "ImageRejected", "reason": "malformed_event", "detail": detail, "record": record},
    )
    metrics.image_rejected("malformed_event")
    logger.error("malformed S3 event record", extra={"fields": {"detail": detail}})


def send_rejection(settings: Settings, body: dict[str, Any]) -> None:
    """Queue a rejection on the rejection queue (never the failure queue: see the README)."""
    try:
        aws.client("sqs").send_message(
            QueueUrl=settings.rejection_queue_url,
            MessageBody=json.dumps(body, ensure_ascii=False, default=str),
            MessageAttributes={
                "type": {"DataType": "String", "StringValue": str(body["type"])},
                "reason": {"DataType": "String", "StringValue": str(body["reason"])},
            },
        )
    except (ClientError, BotoCoreError) as exc:
        if is_transient(exc):
            raise TransientError(f"could not queue rejection: {exc}") from exc
        raise
