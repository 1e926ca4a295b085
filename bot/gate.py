"""The channel allowlist (FAULTMAVEN_ALLOWED_CHANNELS), applied to everything Slack sends.

A Bolt middleware: what comes from a channel FaultMaven is not enabled in never reaches a
listener, so nothing is stored. A mention (or a direct question) gets one thread reply
saying so, a command or a click an ephemeral one; plain messages and uploads are ignored
without a word. The engine decides from settings alone, so the ack is not delayed; it keeps
the refusal in the audit log after the ack, and only the first delivery is answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot import parsing
from bot.deps import deps_of
from engine.core.authz import NotAllowed
from engine.core.models import ChannelRequest

log = logging.getLogger(__name__)

Next = Callable[[], Awaitable[None]]


class ChannelGate:
    """Register with `app.middleware(ChannelGate().middleware)` after deps are injected."""

    def __init__(self) -> None:
        # Replies sent after the ack; kept so they are not garbage-collected mid-flight.
        self._tasks: set[asyncio.Task[None]] = set()

    async def middleware(
        self, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient, next: Next
    ) -> BoltResponse | None:
        request = parsing.channel_request(body, context.team_id)
        service = deps_of(context).service
        refusal = None if request is None else service.channel_refusal(request.channel_id)
        if request is None or refusal is None:
            await next()
            return None
        if not request.asked:
            return BoltResponse(status=200, body="")  # a plain message: nothing to say
        self._later(self._tell(request, refusal, context, client))
        if request.asked.startswith("command"):
            # The ack is the reply: ephemeral, seen only by whoever typed the command.
            return BoltResponse(
                status=200, body={"response_type": "ephemeral", "text": refusal.user_message}
            )
        return BoltResponse(status=200, body="")

    def _later(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _tell(
        self,
        request: ChannelRequest,
        refusal: NotAllowed,
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """The engine keeps the refusal; the first delivery of a mention or click hears it."""
        try:
            if not await deps_of(context).service.keep_channel_refusal(request):
                return  # Slack redelivered it: it was answered already
            text = f"⚠️ {refusal.user_message}"
            if request.asked == "mention":
                await client.chat_postMessage(
                    channel=request.channel_id, thread_ts=request.thread_ts, text=text
                )
            elif request.asked == "click" and context.respond is not None:
                await context.respond(text=text, response_type="ephemeral", replace_original=False)
        except Exception:
            log.exception("could not answer a request from channel %s", request.channel_id)
