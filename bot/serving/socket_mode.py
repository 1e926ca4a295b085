"""Bolt's socket-mode handler, counting envelopes and timing their acks.

In socket mode Bolt acks in `AsyncSocketModeHandler.handle`: it dispatches the envelope through
the app (middleware, then the listener's `ack()`; with process_before_response=False the
listener body runs in a task of its own) and then writes the ack frame. Timing that method
therefore measures what Slack's 3-second limit applies to on our side: from the socket client
handing the envelope over to the ack being written back to the socket.
"""

from __future__ import annotations

import time
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from engine.ops import prometheus


def event_type(kind: str, payload: dict[str, Any]) -> str:
    """A bounded label for an envelope: the event type, the interaction type, or "command"."""
    if kind == "events_api":
        event = payload.get("event")
        return str(event.get("type") or "unknown") if isinstance(event, dict) else "unknown"
    if kind == "interactive":
        return str(payload.get("type") or "unknown")
    if kind == "slash_commands":
        return "command"
    return "other"


class MeteredSocketModeHandler(AsyncSocketModeHandler):
    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        start, started_at = time.perf_counter(), time.time()
        kind, type_ = req.type, event_type(req.type, req.payload)
        prometheus.EVENTS_RECEIVED.labels(kind, type_).inc()
        bolt_resp = await run_async_bolt_app(self.app, req)
        await send_async_response(client, req, bolt_resp, started_at)
        if bolt_resp.status == 200:  # otherwise no ack was sent: Slack will redeliver
            prometheus.ACK_LATENCY.labels(kind).observe(time.perf_counter() - start)
            prometheus.EVENTS_ACKED.labels(kind, type_).inc()
