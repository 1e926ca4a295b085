"""Slack payloads -> engine requests. The only module that reads Slack payload keys.

Cases (mentions, thread messages, files, commands, buttons), knowledge (`kb add`, `search`,
Helpful / Outdated), and what the channel allowlist judges (bot/gate.py).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from bot.ids import VALUE_SEPARATOR, ActionId, parse_document_value
from engine.core.models import (
    ChannelRequest,
    FeedbackRequest,
    FileRef,
    FilesRequest,
    KnowledgeAddRequest,
    KnowledgeSearchRequest,
    KnowledgeVoteRequest,
    MentionRequest,
    MessageRequest,
    OpenCaseRequest,
    OutcomeRequest,
    OutcomeVerdict,
    RunCheckRequest,
    ThreadMessage,
    ThreadRef,
)

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(\|[^>]*)?>")
_CASE_REF = re.compile(r"^#?(\d+)$")
# "kb add", "kb add --global", then what to add (may be empty when files carry it).
_KB_ADD = re.compile(r"^kb\s+add(?P<global>\s+--global)?(?:\s+(?P<rest>.*))?$", re.S | re.I)
# Subcommands that act on nothing and so answer in any channel.
_OPEN_EVERYWHERE = {"help"}

# Message subtypes that are not people talking (edits, joins, bot posts...).
_IGNORED_SUBTYPES = {
    "message_changed",
    "message_deleted",
    "message_replied",
    "bot_message",
    "channel_join",
    "channel_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "group_join",
    "group_leave",
    "thread_broadcast_deleted",
    "ekm_access_denied",
    "tombstone",
}


def strip_mentions(text: str) -> str:
    return _MENTION.sub("", text).strip()


def event_id(body: dict[str, Any]) -> str:
    return str(body.get("event_id") or body["event"]["ts"])


def _thread(body: dict[str, Any], event: dict[str, Any]) -> ThreadRef:
    return ThreadRef(
        team_id=str(body.get("team_id") or event.get("team") or ""),
        channel_id=event["channel"],
        # A top-level mention starts a thread on itself.
        thread_ts=event.get("thread_ts") or event["ts"],
    )


def file_refs(event: dict[str, Any]) -> list[FileRef]:
    refs = []
    for f in event.get("files") or []:
        if f.get("mode") == "tombstone":  # deleted before we got to it
            continue
        refs.append(
            FileRef(
                source_id=f["id"],
                name=f.get("name") or f.get("title") or f["id"],
                size=f.get("size"),
                mimetype=f.get("mimetype"),
                # Partial file objects ("file_access": "check_file_info") carry no URL;
                # the FileSource then asks files.info.
                url=f.get("url_private_download") or f.get("url_private"),
            )
        )
    return refs


def mention_request(body: dict[str, Any]) -> MentionRequest:
    event = body["event"]
    return MentionRequest(
        thread=_thread(body, event),
        ts=event["ts"],
        user=event.get("user", ""),
        text=strip_mentions(event.get("text", "")),
        files=file_refs(event),
    )


def is_person_in_thread(event: dict[str, Any]) -> bool:
    """A message a person wrote inside a thread (the only messages recorded as case history)."""
    return (
        bool(event.get("thread_ts"))
        and event.get("subtype") not in _IGNORED_SUBTYPES
        and not event.get("bot_id")
        and bool(event.get("user"))
    )


def is_direct_question(event: dict[str, Any]) -> bool:
    """A person's message (or file share) in a direct message with the bot."""
    return (
        event.get("channel_type") == "im"
        and event.get("subtype") in (None, "file_share")
        and not event.get("bot_id")
        and bool(event.get("user"))
    )


def mentions_user(event: dict[str, Any], user_id: str | None) -> bool:
    return bool(user_id) and f"<@{user_id}" in (event.get("text") or "")


def message_request(body: dict[str, Any]) -> MessageRequest:
    event = body["event"]
    return MessageRequest(
        thread=_thread(body, event), ts=event["ts"], user=event["user"], text=event.get("text", "")
    )


def files_request(body: dict[str, Any]) -> FilesRequest:
    event = body["event"]
    return FilesRequest(
        thread=_thread(body, event),
        ts=event["ts"],
        user=event.get("user", ""),
        text=event.get("text", ""),
        files=file_refs(event),
    )


def thread_messages(messages: list[dict[str, Any]]) -> list[ThreadMessage]:
    """conversations.replies messages -> what people said and shared (bots left out)."""
    people = []
    for m in messages:
        if m.get("bot_id") or not m.get("user") or m.get("subtype") in _IGNORED_SUBTYPES:
            continue
        people.append(
            ThreadMessage(ts=m["ts"], user=m["user"], text=m.get("text", ""), files=file_refs(m))
        )
    return people


def split_command(text: str) -> tuple[str, str]:
    """'/faultmaven close #3 fixed it' -> ('close', '#3 fixed it')."""
    parts = (text or "").strip().split(maxsplit=1)
    if not parts:
        return "help", ""
    return parts[0].lower(), parts[1] if len(parts) > 1 else ""


def case_ref_and_rest(text: str) -> tuple[int | None, str]:
    """'#12 raised the pool size' -> (12, 'raised the pool size')."""
    parts = text.strip().split(maxsplit=1)
    if parts and (m := _CASE_REF.match(parts[0])):
        return int(m.group(1)), parts[1] if len(parts) > 1 else ""
    return None, text.strip()


def open_request(command: dict[str, Any], title: str) -> OpenCaseRequest:
    return OpenCaseRequest(
        team_id=command.get("team_id", ""),
        channel_id=command["channel_id"],
        user=command["user_id"],
        title=title,
    )


def feedback_request(body: dict[str, Any]) -> FeedbackRequest | None:
    """A Confirm / Rule out click on a hypothesis; None for a value we did not send."""
    action = (body.get("actions") or [{}])[0]
    case_part, _, key = str(action.get("value") or "").partition(VALUE_SEPARATOR)
    if not case_part.isdigit() or not key:
        return None
    kind: Literal["confirm", "rule_out"] = (
        "confirm" if action.get("action_id") == ActionId.CONFIRM_HYPOTHESIS else "rule_out"
    )
    return FeedbackRequest(
        case_id=int(case_part), hypothesis_key=key, kind=kind, user=body["user"]["id"]
    )


def run_check_request(body: dict[str, Any]) -> RunCheckRequest | None:
    """A Run check click on a hypothesis; None for a value we did not send."""
    action = (body.get("actions") or [{}])[0]
    case_part, _, key = str(action.get("value") or "").partition(VALUE_SEPARATOR)
    if not case_part.isdigit() or not key:
        return None
    return RunCheckRequest(case_id=int(case_part), hypothesis_key=key, user=body["user"]["id"])


_VERDICTS: dict[str, OutcomeVerdict] = {
    ActionId.OUTCOME_ROOT_CAUSE: "root_cause",
    ActionId.OUTCOME_CONTRIBUTING: "contributing",
    ActionId.OUTCOME_SYMPTOM: "symptom",
    ActionId.OUTCOME_WRONG: "wrong",
}


def outcome_request(body: dict[str, Any]) -> OutcomeRequest | None:
    """A grade or "it helped" click on a close summary; None for a value we did not send."""
    action = (body.get("actions") or [{}])[0]
    value = str(action.get("value") or "")
    channel = _clicked_in(body)
    if not channel:
        return None
    user = body["user"]["id"]
    verdict = _VERDICTS.get(str(action.get("action_id") or ""))
    if verdict is not None:
        case_part, _, key = value.partition(VALUE_SEPARATOR)
        if not case_part.isdigit() or not key:
            return None
        return OutcomeRequest(
            case_id=int(case_part),
            user=user,
            channel_id=channel,
            verdict=verdict,
            hypothesis_key=key,
        )
    document_id, case_id = parse_document_value(value) or (0, None)
    if case_id is None:
        return None
    return OutcomeRequest(case_id=case_id, user=user, channel_id=channel, document_id=document_id)


def action_key(body: dict[str, Any]) -> str:
    """One job per click, even when Slack delivers it twice."""
    action = (body.get("actions") or [{}])[0]
    return f"action:{body['user']['id']}:{action.get('action_ts') or body.get('trigger_id')}"


def _clicked_in(body: dict[str, Any]) -> str | None:
    """The channel of the message whose button was clicked."""
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


# --- knowledge -------------------------------------------------------------------------


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
    channel = _clicked_in(body)
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


# --- the channel allowlist (bot/gate.py) -----------------------------------------------


def channel_request(body: dict[str, Any], team_id: str | None) -> ChannelRequest | None:
    """What a request asks of FaultMaven in its channel; None for one that belongs to no
    channel (App Home, modals) or answers anywhere (`help`)."""
    channel, asked = _where(body)
    if channel is None:
        return None
    event = body.get("event") or {}
    trigger = body.get("event_id") or body.get("trigger_id")
    return ChannelRequest(
        channel_id=channel,
        team_id=team_id or "",
        user=_actor(body),
        asked=asked,
        trigger=str(trigger) if trigger else None,
        thread_ts=event.get("thread_ts") or event.get("ts"),
    )


def _where(body: dict[str, Any]) -> tuple[str | None, str]:
    """The channel a request comes from and what it asks ("mention", "command close", ...;
    "" for plain messages and uploads, which are never answered)."""
    if body.get("type") == "event_callback":
        event = body.get("event") or {}
        if event.get("type") == "app_mention":
            return event.get("channel"), "mention"
        if event.get("type") == "message" and is_direct_question(event):
            return event.get("channel"), "mention"
        if event.get("type") in ("message", "file_shared"):
            return event.get("channel") or event.get("channel_id"), ""
        return None, ""
    if "command" in body and "channel_id" in body:
        name, _ = split_command(body.get("text", ""))
        return (None if name in _OPEN_EVERYWHERE else body["channel_id"]), f"command {name}"
    if body.get("type") == "block_actions":
        return _clicked_in(body), "click"
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
