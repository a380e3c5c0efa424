"""Structured JSON logging and CloudWatch Embedded Metric Format (EMF) output."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    """One JSON object per record; keys passed as ``extra={"fields": {...}}`` are merged."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        current_request = request_id.get()
        if current_request:
            payload["requestId"] = current_request
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            payload.update(fields)
        if record.exc_info:
            payload["exceptionType"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


class _StdoutHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stdout`` is *now* (pytest's capture swaps it per test)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout  # emit() runs under the handler's lock
        super().emit(record)


def get_logger(name: str = "thumbnailer", level: str | int = "INFO") -> logging.Logger:
    """A logger emitting JSON lines to stdout, not propagating to the runtime's root logger."""
    logger = logging.getLogger(name)
    if not any(isinstance(handler, _StdoutHandler) for handler in logger.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)
    return logger


class Metrics:
    """Emit CloudWatch metrics as EMF documents printed to stdout (no API calls)."""

    def __init__(self, namespace: str, function_name: str, stream: TextIO | None = None) -> None:
        self.namespace = namespace
        self.function_name = function_name
        self._stream = stream

    def emit(
        self,
        values: Mapping[str, tuple[float, str]],
        *,
        dimensions: Mapping[str, str] | None = None,
        dimension_sets: Sequence[Sequence[str]] | None = None,
    ) -> dict[str, Any]:
        """Write one EMF document; ``values`` maps metric name to (value, unit)."""
        all_dimensions = {"FunctionName": self.function_name, **(dimensions or {})}
        sets = [list(s) for s in dimension_sets] if dimension_sets else [list(all_dimensions)]
        document: dict[str, Any] = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": sets,
                        "Metrics": [
                            {"Name": name, "Unit": unit} for name, (_, unit) in values.items()
                        ],
                    }
                ],
            },
            **all_dimensions,
            **{name: value for name, (value, _) in values.items()},
        }
        current_request = request_id.get()
        if current_request:
            document["requestId"] = current_request  # a property, not a dimension
        stream = self._stream or sys.stdout
        stream.write(json.dumps(document, ensure_ascii=False) + "\n")
        stream.flush()
        return document

    def thumbnail_created(self, processing_ms: float) -> None:
        self.emit(
            {"ThumbnailsCreated": (1, "Count"), "ProcessingTime": (processing_ms, "Milliseconds")}
        )

    def image_rejected(self, reason: str) -> None:
        # Two dimension sets: per reason (for the dashboard) and in total (for the alarm).
        self.emit(
            {"ImagesRejected": (1, "Count")},
            dimensions={"Reason": reason},
            dimension_sets=[["FunctionName", "Reason"], ["FunctionName"]],
        )

    def duplicate_skipped(self) -> None:
        self.emit({"DuplicateEventsSkipped": (1, "Count")})
