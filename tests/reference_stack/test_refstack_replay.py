"""reference_stack/replay.py: planning per message kind, and replay against a moto queue."""

from __future__ import annotations

import importlib.util
import json
import sys
from typing import Any

import pytest
from refstack_support import STACK_DIR, UPLOAD_BUCKET, Env, LambdaContext, s3_event
from thumbnailer.app import handler


def load_replay() -> Any:
    spec = importlib.util.spec_from_file_location("refstack_replay", STACK_DIR / "replay.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while executing
    spec.loader.exec_module(module)
    return module


replay = load_replay()
EVENT = s3_event(UPLOAD_BUCKET, "uploads/a b.jpg", 100, "0123abcd")
DESTINATION_RECORD = {
    "version": "1.0",
    "timestamp": "2025-01-01T12:00:00.000Z",
    "requestContext": {
        "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
        "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    },
    "requestPayload": EVENT,
    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
    "responsePayload": {"errorMessage": "SlowDown", "errorType": "TransientError"},
}


def test_destination_records_are_replayed_with_the_original_event() -> None:
    decision = replay.plan(json.dumps(DESTINATION_RECORD))
    assert decision.action == "invoke" and decision.kind == "destination"
    assert decision.event == EVENT
    assert decision.reason == "RetriesExhausted TransientError"


def test_rejections_need_opt_in() -> None:
    body = json.dumps(
        {"type": "ImageRejected", "reason": "too_large", "record": EVENT["Records"][0]}
    )
    assert replay.plan(body).action == "skip"
    decision = replay.plan(body, include_rejected=True)
    assert decision.action == "invoke"
    assert decision.event == {"Records": EVENT["Records"], "reprocessRejected": True}


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        json.dumps({"hello": "world"}),
        json.dumps({"type": "ImageRejected", "reason": "malformed_event", "record": {}}),
    ],
)
def test_other_messages_are_never_replayed(body: str) -> None:
    assert replay.plan(body, include_rejected=True).action == "skip"


class FakeLambda:
    """Records async invocations (moto cannot run functions without docker)."""

    def __init__(self, status: int = 202) -> None:
        self.status = status
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append({**kwargs, "Payload": json.loads(kwargs["Payload"])})
        return {"StatusCode": self.status}


def test_replay_end_to_end_with_a_real_rejection(
    aws: Env, upload: Any, images: dict[str, bytes], context: LambdaContext
) -> None:
    handler(upload("uploads/junk.png", images["not_an_image"]), context)
    aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody=json.dumps(DESTINATION_RECORD))
    fake = FakeLambda()

    dry = replay.replay(
        aws.sqs, fake, queue_url=aws.queue_url, function_name="fn", dry_run=True, delete=True
    )
    assert sorted((r["kind"], r["action"]) for r in dry) == [
        ("destination", "invoke"),
        ("rejected", "skip"),
    ]
    assert fake.calls == []

    reports = replay.replay(
        aws.sqs,
        fake,
        queue_url=aws.queue_url,
        function_name="fn",
        include_rejected=True,
        delete=True,
    )
    assert len(reports) == 2 and all(r.get("deleted") for r in reports)
    payloads = [call["Payload"] for call in fake.calls]
    assert EVENT in payloads
    assert any(p.get("reprocessRejected") for p in payloads)
    assert all(call["InvocationType"] == "Event" for call in fake.calls)
    assert aws.rejection_messages() == []
