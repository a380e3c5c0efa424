"""Lazily created boto3 clients (created on first use, so tests can build them under moto)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode absorbs short throttling bursts inside one invocation; what is left
# is raised and becomes a Lambda asynchronous retry.
_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=5,
    read_timeout=20,
)


@cache
def client(service: str) -> Any:
    """Return the shared client for ``service`` (s3, dynamodb, sqs)."""
    return boto3.client(service, config=_CONFIG)


def reset_clients() -> None:
    """Forget cached clients (tests call this between mocks)."""
    client.cache_clear()
