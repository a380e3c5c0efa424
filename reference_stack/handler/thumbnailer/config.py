"""Runtime configuration, read from environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

OUTPUT_FORMATS = {
    "WEBP": ("webp", "image/webp"),
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
}


class ConfigError(RuntimeError):
    """A required setting is missing or malformed (a deployment problem, not bad input)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the handler needs to know about its environment."""

    thumbnail_bucket: str
    metadata_table: str
    rejection_queue_url: str
    thumbnail_size: int = 256
    max_object_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    source_prefix: str = "uploads/"
    thumbnail_prefix: str = "thumbnails/"
    output_format: str = "WEBP"
    metrics_namespace: str = "ImageProcessing"
    function_name: str = "local"
    #: The function's memory size (MB, set by Lambda): bounds the pixels a render may decode.
    memory_mb: int | None = None

    @property
    def output_extension(self) -> str:
        return OUTPUT_FORMATS[self.output_format][0]

    @property
    def output_content_type(self) -> str:
        return OUTPUT_FORMATS[self.output_format][1]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default: ``os.environ``); raise ConfigError if invalid."""
        env = os.environ if env is None else env
        output_format = env.get("OUTPUT_FORMAT", "WEBP").upper()
        if output_format not in OUTPUT_FORMATS:
            raise ConfigError(f"OUTPUT_FORMAT must be one of {sorted(OUTPUT_FORMATS)}")
        return cls(
            thumbnail_bucket=_required(env, "THUMBNAIL_BUCKET"),
            metadata_table=_required(env, "METADATA_TABLE"),
            rejection_queue_url=_required(env, "REJECTION_QUEUE_URL"),
            thumbnail_size=_positive_int(env, "THUMBNAIL_SIZE", 256),
            max_object_bytes=_positive_int(env, "MAX_OBJECT_BYTES", 20 * 1024 * 1024),
            max_image_pixels=_positive_int(env, "MAX_IMAGE_PIXELS", 40_000_000),
            source_prefix=env.get("SOURCE_PREFIX", "uploads/"),
            thumbnail_prefix=env.get("THUMBNAIL_PREFIX", "thumbnails/"),
            output_format=output_format,
            metrics_namespace=env.get("METRICS_NAMESPACE", "ImageProcessing"),
            function_name=env.get("AWS_LAMBDA_FUNCTION_NAME", "local"),
            memory_mb=_positive_int(env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 0) or None,
        )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is required")
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value
