"""Slack payloads -> knowledge requests: `kb add` and `search` commands, files shared with
`kb add`, and Helpful / Outdated clicks."""

from __future__ import annotations

import re
from typing import Any, Literal

from bot.ids import ActionId, parse_document_value
from bot.parsing import file_refs, strip_mentions
from engine.core.models import KnowledgeAddRequest, KnowledgeSearchRequest, KnowledgeVoteRequest

# "kb add", "kb add --global", then what to add (may be empty when files carry it).
_KB_ADD = re.compile(r"^kb\s+add(?P<global>\s+--global)?(?:\s+(?P<rest>.*))?$", re.S | re.I)


def kb_add_request(
    channel_id: str,
    user: str,
    text: str,
    *,
    thread_ts: str | None = None,
    event: dict[str, Any] | None = None,
) -> KnowledgeAddRequest | None:
    """The request `text` ("kb add [--global] <url|text>") makes; None when it is not one."""
    match = _KB_ADD.match(strip_mentions(text).strip())
    if match is None:
        return None
    scope: Literal["channel", "global"] = "global" if match.group("global") else "channel"
    return KnowledgeAddRequest(
        channel_id=channel_id,
        user=user,
        text=(match.group("rest") or "").strip(),
        scope=scope,
        thread_ts=thread_ts,
        files=file_refs(event) if event else [],
    )


def shared_kb_add(body: dict[str, Any]) -> KnowledgeAddRequest | None:
    """Files shared with the message `kb add` (a mention of the bot or not)."""
    event = body["event"]
    if not event.get("files"):
        return None
    return kb_add_request(
        event["channel"],
        event.get("user", ""),
        event.get("text", ""),
        thread_ts=event.get("thread_ts") or event["ts"],
        event=event,
    )


def search_request(command: dict[str, Any], query: str) -> KnowledgeSearchRequest:
    return KnowledgeSearchRequest(
        channel_id=command["channel_id"], user=command["user_id"], query=query.strip()
    )


def vote_request(body: dict[str, Any]) -> KnowledgeVoteRequest | None:
    action = (body.get("actions") or [{}])[0]
    parsed = parse_document_value(str(action.get("value") or ""))
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    if parsed is None or not channel:
        return None
    verdict: Literal["helpful", "outdated"] = (
        "helpful" if action.get("action_id") == ActionId.KNOWLEDGE_HELPFUL else "outdated"
    )
    document_id, case_id = parsed
    return KnowledgeVoteRequest(
        document_id=document_id,
        user=body["user"]["id"],
        verdict=verdict,
        channel_id=channel,
        case_id=case_id,
    )
