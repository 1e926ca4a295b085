"""Events API: mentions answer, thread messages become history, files become evidence.

Listeners only translate and enqueue; Bolt acks the envelope once they return (bot/app.py).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot import parsing
from bot.deps import deps_of
from engine.worker.jobs import JobKind


async def on_mention(body: dict[str, Any], context: AsyncBoltContext) -> None:
    if await _kb_add(body, context):
        return
    await deps_of(context).queue.submit(
        JobKind.ANSWER_MENTION, parsing.mention_request(body), dedup_key=parsing.event_id(body)
    )


async def _kb_add(body: dict[str, Any], context: AsyncBoltContext) -> bool:
    """Files shared with the message `kb add`: knowledge, not evidence. True when it was."""
    request = parsing.shared_kb_add(body)
    if request is None:
        return False
    await deps_of(context).queue.submit(
        JobKind.ADD_KNOWLEDGE, request, dedup_key=parsing.event_id(body)
    )
    return True


async def on_message(
    body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
) -> None:
    mentioned = parsing.mentions_user(event, context.bot_user_id)
    in_dm = event.get("channel_type") == "im"
    # A mention outside a DM also fires app_mention, whose listener takes its `kb add`.
    if (
        event.get("subtype") == "file_share"
        and (in_dm or not mentioned)
        and await _kb_add(body, context)
    ):
        return
    if parsing.is_direct_question(event):
        # No app_mention fires in a DM: every message there is addressed to the bot.
        await deps_of(context).queue.submit(
            JobKind.ANSWER_MENTION, parsing.mention_request(body), dedup_key=parsing.event_id(body)
        )
        return
    if not parsing.is_person_in_thread(event) and event.get("subtype") != "file_share":
        return
    if mentioned:
        return  # the app_mention event for this message records it and answers
    queue = deps_of(context).queue
    key = parsing.event_id(body)
    if event.get("subtype") == "file_share" and event.get("thread_ts"):
        await queue.submit(JobKind.ADD_FILES, parsing.files_request(body), dedup_key=key)
    elif parsing.is_person_in_thread(event):
        await queue.submit(JobKind.RECORD_MESSAGE, parsing.message_request(body), dedup_key=key)


async def ignore(body: dict[str, Any]) -> None:
    """Events the manifest subscribes to that need no work (file_shared comes with a message)."""


def register(app: AsyncApp) -> None:
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
    app.event("file_shared")(ignore)
