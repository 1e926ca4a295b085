"""The channel allowlist (FAULTMAVEN_ALLOWED_CHANNELS), applied to everything Slack sends.

A Bolt middleware: what comes from a channel FaultMaven is not enabled in never reaches a
listener, so nothing is stored. A mention (or a direct question) gets one thread reply
saying so, a command or a click an ephemeral one; plain messages and uploads are ignored
without a word. The check reads settings only, so the ack is not delayed: the reply and the
audit entry are sent after it.
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
from engine.store import audit

log = logging.getLogger(__name__)

Next = Callable[[], Awaitable[None]]
# Subcommands that act on nothing and so answer anywhere.
OPEN_EVERYWHERE = {"help"}


def _where(body: dict[str, Any]) -> tuple[str | None, str]:
    """The channel a request comes from and what it asks ("mention", "command close", ...);
    no channel for requests that belong to none (App Home, modals)."""
    if body.get("type") == "event_callback":
        event = body.get("event") or {}
        if event.get("type") == "app_mention":
            return event.get("channel"), "mention"
        if event.get("type") == "message" and parsing.is_direct_question(event):
            return event.get("channel"), "mention"
        if event.get("type") in ("message", "file_shared"):
            return event.get("channel") or event.get("channel_id"), ""  # ignored quietly
        return None, ""
    if "command" in body and "channel_id" in body:
        name, _ = parsing.split_command(body.get("text", ""))
        return (None if name in OPEN_EVERYWHERE else body["channel_id"]), f"command {name}"
    if body.get("type") == "block_actions":
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        return channel, "click"
    return None, ""


def _actor(body: dict[str, Any]) -> str:
    event = body.get("event") or {}
    user = body.get("user")
    return str(
        event.get("user")
        or body.get("user_id")
        or (user.get("id") if isinstance(user, dict) else user)
        or ""
    )


class ChannelGate:
    """Register with `app.middleware(ChannelGate().middleware)` after deps are injected."""

    def __init__(self) -> None:
        # Replies sent after the ack; kept so they are not garbage-collected mid-flight.
        self._tasks: set[asyncio.Task[None]] = set()

    async def middleware(
        self, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient, next: Next
    ) -> BoltResponse | None:
        channel, asked = _where(body)
        authz = deps_of(context).service.authz
        if channel is None or authz.channel_allowed(channel):
            await next()
            return None
        if not asked:
            return BoltResponse(status=200, body="")  # a plain message: nothing to say
        try:
            await authz.check_channel(channel)
        except NotAllowed as denied:
            self._later(self._tell(body, context, client, channel, asked, denied))
            if asked.startswith("command"):
                # The ack is the reply: ephemeral, seen only by whoever typed the command.
                return BoltResponse(
                    status=200, body={"response_type": "ephemeral", "text": denied.user_message}
                )
        return BoltResponse(status=200, body="")

    def _later(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _tell(
        self,
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        channel: str,
        asked: str,
        denied: NotAllowed,
    ) -> None:
        """Record the refusal; the first delivery of a mention or click also says so."""
        try:
            trigger = body.get("event_id") or body.get("trigger_id")
            first = await audit.record(
                deps_of(context).service.pool,
                actor=_actor(body),
                action=audit.DENIED,
                target=channel,
                detail={"asked": asked, "reason": "channel not enabled"},
                team_id=context.team_id,
                key=f"denied:{trigger}" if trigger else None,
            )
            if not first:
                return  # Slack redelivered it: it was answered already
            text = f"⚠️ {denied.user_message}"
            if asked == "mention":
                event = body["event"]
                await client.chat_postMessage(
                    channel=channel, thread_ts=event.get("thread_ts") or event["ts"], text=text
                )
            elif asked == "click" and context.respond is not None:
                await context.respond(text=text, response_type="ephemeral", replace_original=False)
        except Exception:
            log.exception("could not answer a request from channel %s", channel)
