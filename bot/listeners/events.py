"""Events API: mentions answer, thread messages become history, files become evidence.

Listeners only translate and enqueue; Bolt has already acked the envelope.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot import parsing
from bot.deps import deps_of


async def on_mention(body: dict[str, Any], context: AsyncBoltContext) -> None:
    await deps_of(context).queue.submit(
        "answer_mention", parsing.mention_request(body), dedup_key=parsing.event_id(body)
    )


async def on_message(
    body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
) -> None:
    if parsing.is_direct_question(event):
        # No app_mention fires in a DM: every message there is addressed to the bot.
        await deps_of(context).queue.submit(
            "answer_mention", parsing.mention_request(body), dedup_key=parsing.event_id(body)
        )
        return
    if not parsing.is_person_in_thread(event) and event.get("subtype") != "file_share":
        return
    if parsing.mentions_user(event, context.bot_user_id):
        return  # the app_mention event for this message records it and answers
    queue = deps_of(context).queue
    key = parsing.event_id(body)
    if event.get("subtype") == "file_share" and event.get("thread_ts"):
        await queue.submit("add_files", parsing.files_request(body), dedup_key=key)
    elif parsing.is_person_in_thread(event):
        await queue.submit("record_message", parsing.message_request(body), dedup_key=key)


async def ignore(body: dict[str, Any]) -> None:
    """Events the manifest subscribes to that need no work (file_shared comes with a message)."""


def register(app: AsyncApp) -> None:
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
    app.event("file_shared")(ignore)
