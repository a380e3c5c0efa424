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


def test_replay_end_to_end_with_real_rejections(
    aws: Env,
    upload: Any,
    images: dict[str, bytes],
    context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAX_OBJECT_BYTES", "1000")
    assert handler(upload("uploads/big.jpg", images["jpeg"]), context) == {"rejected": 1}
    handler(upload("uploads/junk.png", images["not_an_image"]), context)
    aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody=json.dumps(DESTINATION_RECORD))
    fake = FakeLambda()

    dry = replay.replay(
        aws.sqs, fake, queue_url=aws.queue_url, function_name="fn", dry_run=True, delete=True
    )
    assert sorted((r["kind"], r["action"], r["reason"]) for r in dry) == [
        ("destination", "invoke", "RetriesExhausted TransientError"),
        ("rejected", "skip", "not_an_image: no limit change can fix this input"),
        ("rejected", "skip", "too_large: raise MaxObjectBytes, then use --include-rejected"),
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
    assert sorted((r["reason"], bool(r.get("deleted"))) for r in reports) == [
        ("RetriesExhausted TransientError", True),
        ("not_an_image: no limit change can fix this input", False),
        ("too_large", True),
    ]
    payloads = [call["Payload"] for call in fake.calls]
    assert EVENT in payloads
    (rejected,) = [p for p in payloads if p.get("reprocessRejected")]
    assert rejected["Records"][0]["s3"]["object"]["key"] == "uploads/big.jpg"
    assert all(call["InvocationType"] == "Event" for call in fake.calls)
    (left,) = aws.rejection_messages()  # the unfixable one stays, visible again
    assert left["reason"] == "not_an_image"


@pytest.mark.parametrize(
    "reason", ["not_an_image", "corrupt_image", "unsupported_format", "empty_object"]
)
def test_include_rejected_never_replays_what_no_limit_can_fix(reason: str) -> None:
    body = json.dumps({"type": "ImageRejected", "reason": reason, "record": EVENT["Records"][0]})
    decision = replay.plan(body, include_rejected=True)
    assert decision.action == "skip"
    assert "no limit change" in decision.reason


@pytest.mark.parametrize("reason", sorted(replay.LIMIT_REASONS))
def test_limit_rejections_replay_after_opt_in(reason: str) -> None:
    body = json.dumps({"type": "ImageRejected", "reason": reason, "record": EVENT["Records"][0]})
    assert replay.plan(body).action == "skip"
    assert replay.plan(body, include_rejected=True).action == "invoke"
