"""build_app(deps) -> AsyncApp: middleware and listener registration, nothing else."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import BotDeps
from bot.gate import ChannelGate
from bot.listeners import actions, alert_messages, commands, events, home, knowledge, outcomes
from engine.core.errors import FaultMavenError, new_error_id
from engine.ops import log_setup
from engine.worker.queue import QueueUnavailable

log = logging.getLogger(__name__)


def build_app(
    deps: BotDeps, client: AsyncWebClient, *, signing_secret: str | None = None
) -> AsyncApp:
    # With a signing secret (HTTP mode) Bolt refuses requests not signed by Slack or older
    # than 5 minutes; socket-mode envelopes are not signed and skip that check.
    # process_before_response: the ack goes out once the listener has returned, i.e. once
    # its job is in Redis. A listener that could not queue (QueueUnavailable) leaves the
    # envelope unacked, so Slack delivers it again instead of it being lost. Listeners only
    # enqueue or read a little from the database, so acks stay far inside Slack's 3 s.
    app = AsyncApp(client=client, process_before_response=True, signing_secret=signing_secret)

    async def inject_deps(context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
        context["deps"] = deps
        await next()

    async def bind_event_id(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> None:
        # Every log line of this envelope, the listener's task included, names its event
        # (commands and clicks have a trigger id instead). Each envelope runs in a task of
        # its own, so the id does not outlive it.
        event_id = body.get("event_id") or body.get("trigger_id")
        log_setup.bind(event_id=str(event_id) if event_id else None)
        await next()

    app.middleware(bind_event_id)
    app.middleware(inject_deps)
    app.middleware(ChannelGate().middleware)  # channels not enabled stop here

    async def on_error(error: Exception, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Unexpected errors: log with an id the user can quote, and tell them in the thread."""
        if isinstance(error, QueueUnavailable):
            # Not acked: Slack sends the event again (a command or click shows Slack's own
            # error). A notice per delivery would only add noise to the thread.
            log.warning("not acked, the queue is unavailable: %s", error)
            return
        if isinstance(error, FaultMavenError):
            text = error.user_message
        else:
            error_id = new_error_id()
            log.exception("listener failed (error id %s)", error_id, exc_info=error)
            text = f"Something went wrong on my side (error id `{error_id}`). Please try again."
        event = body.get("event") or {}
        channel, ts = event.get("channel"), event.get("thread_ts") or event.get("ts")
        if channel and ts:
            await client.chat_postMessage(channel=channel, thread_ts=ts, text=f"⚠️ {text}")

    app.error(on_error)
    alert_messages.register(app)  # first: it takes alert messages before events' listener
    events.register(app)
    commands.register(app)
    home.register(app)
    actions.register(app)
    knowledge.register(app)
    outcomes.register(app)
    return app
