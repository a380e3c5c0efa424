#!/usr/bin/env python3
"""Replay messages from the image-processing failure or rejection queue.

Two kinds of message, on two queues:

* the failure queue (``FailureQueueUrl``) holds Lambda OnFailure destination records
  (retries exhausted, event too old); the original S3 event is in ``requestPayload``. These
  are replayed as they are: the handler's idempotency check lets unfinished work through
  and skips what was completed meanwhile.
* the rejection queue (``RejectionQueueUrl``) holds rejections sent by the handler
  (``"type": "ImageRejected"``): bad input. Only ``--include-rejected`` replays them, as
  ``{"Records": [record], "reprocessRejected": true}``, and only those a limit change can
  fix (``too_large``: MaxObjectBytes, ``decompression_bomb``: MaxImagePixels,
  ``exceeds_memory``: MemorySize). Not an image, corrupt, refused format, empty object or
  malformed event would be rejected again whatever the limits: they are skipped, saying so.

    python3 reference_stack/replay.py --queue-url FAILURES --function-name NAME --dry-run
    python3 reference_stack/replay.py --queue-url FAILURES --function-name NAME --delete
    # after raising the limit that the rejection reason names:
    python3 reference_stack/replay.py --queue-url REJECTIONS --function-name NAME --include-rejected

Functions are invoked asynchronously (InvocationType=Event), so a replay gets the same
retries and OnFailure handling as the original delivery. A message is deleted only with
``--delete`` and only after Lambda accepted the invocation; every other message is made
visible again when the run ends.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

#: Rejection reasons a parameter change can fix, and the parameter to raise first.
LIMIT_REASONS = {
    "too_large": "MaxObjectBytes",
    "decompression_bomb": "MaxImagePixels",
    "exceeds_memory": "MemorySize",
}


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do with one message: ``action`` is ``invoke`` or ``skip``."""

    action: str
    kind: str
    reason: str
    event: dict[str, Any] | None = None


def plan(body: str, *, include_rejected: bool = False) -> Plan:
    """Decide how to replay one failure-queue message body."""
    try:
        message = json.loads(body)
    except json.JSONDecodeError:
        return Plan("skip", "unknown", "body is not JSON")
    if not isinstance(message, dict):
        return Plan("skip", "unknown", "body is not a JSON object")
    if "requestPayload" in message:
        condition = str(message.get("requestContext", {}).get("condition", "unknown"))
        error = str(message.get("responsePayload", {}).get("errorType", "") or "")
        return Plan(
            "invoke", "destination", f"{condition} {error}".strip(), message["requestPayload"]
        )
    if message.get("type") == "ImageRejected":
        reason = str(message.get("reason", "unknown"))
        if reason == "malformed_event" or not isinstance(message.get("record"), dict):
            return Plan("skip", "rejected", f"{reason}: cannot be replayed")
        if reason not in LIMIT_REASONS:
            return Plan("skip", "rejected", f"{reason}: no limit change can fix this input")
        if not include_rejected:
            return Plan(
                "skip",
                "rejected",
                f"{reason}: raise {LIMIT_REASONS[reason]}, then use --include-rejected",
            )
        event = {"Records": [message["record"]], "reprocessRejected": True}
        return Plan("invoke", "rejected", reason, event)
    return Plan("skip", "unknown", "not a failure-queue message")


def replay(
    sqs: Any,
    lambda_client: Any,
    *,
    queue_url: str,
    function_name: str,
    max_messages: int = 100,
    include_rejected: bool = False,
    delete: bool = False,
    dry_run: bool = False,
) -> list[dict[str, Any]]:
    """Receive up to ``max_messages`` messages and replay them; return one report per message."""
    reports: list[dict[str, Any]] = []
    kept: list[str] = []  # receipt handles of messages left on the queue
    while len(reports) < max_messages:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, max_messages - len(reports)),
            WaitTimeSeconds=1,
            VisibilityTimeout=120,
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            decision = plan(message["Body"], include_rejected=include_rejected)
            report: dict[str, Any] = {
                "messageId": message["MessageId"],
                "kind": decision.kind,
                "action": decision.action,
                "reason": decision.reason,
            }
            if decision.action == "invoke" and not dry_run:
                response = lambda_client.invoke(
                    FunctionName=function_name,
                    InvocationType="Event",
                    Payload=json.dumps(decision.event).encode(),
                )
                report["status"] = response.get("StatusCode")
                if delete and response.get("StatusCode") == 202:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                    report["deleted"] = True
            if not report.get("deleted"):
                kept.append(message["ReceiptHandle"])
            reports.append(report)
    for receipt in kept:  # hidden while we worked (no double reads); visible again now
        sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
        )
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--queue-url", required=True, help="FailureQueueUrl or RejectionQueueUrl stack output"
    )
    parser.add_argument("--function-name", required=True, help="FunctionName stack output")
    parser.add_argument("--max-messages", type=int, default=100)
    parser.add_argument("--include-rejected", action="store_true")
    parser.add_argument("--delete", action="store_true", help="delete replayed messages")
    parser.add_argument("--dry-run", action="store_true", help="only print the plan")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)

    import boto3

    session = boto3.session.Session(region_name=args.region)
    reports = replay(
        session.client("sqs"),
        session.client("lambda"),
        queue_url=args.queue_url,
        function_name=args.function_name,
        max_messages=args.max_messages,
        include_rejected=args.include_rejected,
        delete=args.delete,
        dry_run=args.dry_run,
    )
    for report in reports:
        print(json.dumps(report))
    print(json.dumps({"messages": len(reports)}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
