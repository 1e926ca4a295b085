"""Alerts other integrations post (Alertmanager's Slack notifier, Grafana, PagerDuty, …): an
**Investigate** button under each, which opens a case on the alert's thread.

- A top-level message from another app or integration (a `bot_id`, or subtype bot_message)
  that reads as a firing alert (engine/cases/alert_words.py) gets one thread reply with the
  button, once per message however often Slack delivers the event. People's messages and
  FaultMaven's own never do; channels FaultMaven is not enabled in never reach this listener
  (bot/gate.py), and FAULTMAVEN_ALERT_BUTTONS=false turns the offer off.
- A click reads the alert message back (its text, attachments and blocks) and queues the
  job that opens the case with that text as the first evidence and answers it
  (engine/cases/alert_cases.py); the offer then says who asked, so nobody clicks again.

The offer is posted here, before the ack, not by a job: the engine has no words for a
button of the chat surface, and one post keeps the ack well inside Slack's 3 s.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks
from bot.deps import deps_of
from bot.ids import ActionId
from engine.cases.alert_words import looks_like_alert_message
from engine.core.models import AlertMessageRequest, ThreadRef
from engine.worker.jobs import JobKind
from engine.worker.queue import CLAIM_TTL_S, UNREACHABLE, QueueUnavailable

log = logging.getLogger(__name__)

MAX_TEXT = 20_000  # an alert message's text kept as evidence; a wall of attachments is cut
# Subtypes of messages that are not a new post (edits, deletions, joins…).
_NEW_POST_SUBTYPES = {None, "bot_message"}
_ATTACHMENT_KEYS = ("pretext", "title", "text", "footer")


def message_text(message: dict[str, Any]) -> str:
    """What a message says: its text, its attachments' titles, texts and fields, and every
    text of its blocks, one line each, repeats left out (the text often repeats the blocks)."""
    lines: list[str] = [message.get("text") or ""]
    for attachment in message.get("attachments") or []:
        if not isinstance(attachment, dict):
            continue
        said = [str(attachment.get(k) or "") for k in _ATTACHMENT_KEYS]
        for field in attachment.get("fields") or []:
            if isinstance(field, dict):
                said.append(f"{field.get('title') or ''}: {field.get('value') or ''}".strip(": "))
        said += _block_texts(attachment.get("blocks"))
        lines += said if any(said) else [str(attachment.get("fallback") or "")]
    lines += _block_texts(message.get("blocks"))
    seen: set[str] = set()
    kept = []
    for line in (part.strip() for text in lines for part in text.splitlines()):
        if line and line not in seen:
            seen.add(line)
            kept.append(line)
    return "\n".join(kept)[:MAX_TEXT]


def _block_texts(node: object) -> list[str]:
    """Every text string in Block Kit blocks (headers, sections, fields, context, rich text)."""
    found: list[str] = []
    if isinstance(node, list):
        for item in node:
            found += _block_texts(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                found.append(value)
            elif isinstance(value, dict | list):
                found += _block_texts(value)
    return found


async def is_integration_alert(event: dict[str, Any], context: AsyncBoltContext) -> bool:
    """A new top-level post by another app or integration that reads as a firing alert."""
    from_app = bool(event.get("bot_id")) or event.get("subtype") == "bot_message"
    ours = (event.get("bot_id") and event.get("bot_id") == context.bot_id) or (
        event.get("user") and event.get("user") == context.bot_user_id
    )
    thread_ts = event.get("thread_ts")
    return (
        from_app
        and not ours
        and event.get("subtype") in _NEW_POST_SUBTYPES
        and event.get("channel_type") != "im"
        and (not thread_ts or thread_ts == event.get("ts"))
        and deps_of(context).service.settings.alert_buttons
        and looks_like_alert_message(message_text(event))
    )


async def offer_investigation(
    event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    channel, ts = event["channel"], event["ts"]
    redis = deps_of(context).queue.redis
    try:
        first = await redis.set(f"faultmaven:offer:{channel}:{ts}", "1", nx=True, ex=CLAIM_TTL_S)
    except UNREACHABLE as exc:  # not acked: Slack delivers the event again
        raise QueueUnavailable(f"could not claim the offer for {channel}/{ts}: {exc}") from exc
    if not first:
        return  # a redelivery: the button is there already
    try:
        await client.chat_postMessage(channel=channel, thread_ts=ts, **blocks.investigate_offer(ts))
    except SlackApiError as exc:
        # Not in the channel, or it is archived: nothing to offer, and no one to tell.
        log.warning("could not offer to investigate %s/%s: %s", channel, ts, exc)


async def on_investigate(
    ack: AsyncAck,
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    await ack()
    action = (body.get("actions") or [{}])[0]
    alert_ts = str(action.get("value") or "")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    user = str((body.get("user") or {}).get("id") or "")
    alert = await _read_alert(client, str(channel or ""), alert_ts)
    if alert is None or not channel:
        await respond(
            text="⚠️ I can no longer read that alert message (was it deleted?), so there is "
            "nothing to investigate.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    request = AlertMessageRequest(
        thread=ThreadRef(team_id=context.team_id or "", channel_id=channel, thread_ts=alert_ts),
        user=user,
        text=message_text(alert),
    )
    queued = await deps_of(context).queue.submit(
        JobKind.INVESTIGATE_ALERT, request, dedup_key=f"investigate:{channel}:{alert_ts}"
    )
    if not queued:
        await respond(
            text="I'm already investigating this alert: the case is in this thread.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    offer_ts = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get(
        "message_ts"
    )
    if offer_ts:
        said = f"🔎 <@{user}> asked me to investigate this alert: the case is in this thread."
        try:
            await client.chat_update(channel=channel, ts=offer_ts, **blocks.message(said))
        except SlackApiError as exc:  # the button stays; a second click is told it is in hand
            log.warning("could not update the offer %s/%s: %s", channel, offer_ts, exc)


async def _read_alert(client: AsyncWebClient, channel: str, ts: str) -> dict[str, Any] | None:
    """The alert message as it reads now; None when it is gone."""
    if not channel or not ts:
        return None
    try:
        found = await client.conversations_replies(channel=channel, ts=ts, limit=1)
    except SlackApiError as exc:
        log.info("alert message %s/%s unreadable: %s", channel, ts, exc)
        return None
    for message in found.get("messages") or []:
        if message.get("ts") == ts:
            return dict(message)
    return None


def register(app: AsyncApp) -> None:
    """Before events.register: this listener takes the alert messages, every other message
    event goes on to events.on_message."""
    app.event("message", matchers=[is_integration_alert])(offer_investigation)
    app.action(ActionId.INVESTIGATE_ALERT.value)(on_investigate)
