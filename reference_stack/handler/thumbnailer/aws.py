"""Lazily created boto3 clients (created on first use, so tests can build them under moto)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode absorbs short throttling bursts inside one invocation; what is left
# is raised and becomes a Lambda asynchronous retry. One call's worst case (every attempt
# hangs until its timeouts, plus the backoff between attempts) must end well inside the
# function's 30 s timeout, so that the handler still logs the error and marks the item.
CONNECT_TIMEOUT_S = 2
READ_TIMEOUT_S = 5
TOTAL_MAX_ATTEMPTS = 2
#: botocore's standard mode sleeps at most random() * 2 ** (attempt - 1) s between attempts.
MAX_BACKOFF_S = sum(2 ** (attempt - 1) for attempt in range(1, TOTAL_MAX_ATTEMPTS))
CALL_BUDGET_S = TOTAL_MAX_ATTEMPTS * (CONNECT_TIMEOUT_S + READ_TIMEOUT_S) + MAX_BACKOFF_S
_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": TOTAL_MAX_ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT_S,
    read_timeout=READ_TIMEOUT_S,
)


@cache
def client(service: str) -> Any:
    """Return the shared client for ``service`` (s3, dynamodb, sqs)."""
    return boto3.client(service, config=_CONFIG)


def reset_clients() -> None:
    """Forget cached clients (tests call this between mocks)."""
    client.cache_clear()
