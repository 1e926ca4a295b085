"""Content and event builders of the fake Slack workspace.

Builders store what they describe (a message, a file) before returning the
event, because on real Slack the message exists by the time the event fires:
conversations.replies must find it when the bot reacts to the event.
"""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

from tests.fakes.slack_files import SlackFiles

_MENTION = re.compile(r"<@([A-Z0-9]+)>")


def _rich_text(text: str) -> list[dict[str, Any]]:
    """The ``rich_text`` block Slack attaches to user messages."""
    elements: list[dict[str, Any]] = []
    pos = 0
    for match in _MENTION.finditer(text):
        if match.start() > pos:
            elements.append({"type": "text", "text": text[pos : match.start()]})
        elements.append({"type": "user", "user_id": match.group(1)})
        pos = match.end()
    if pos < len(text):
        elements.append({"type": "text", "text": text[pos:]})
    section = {"type": "rich_text_section", "elements": elements}
    return [{"type": "rich_text", "block_id": secrets.token_hex(3), "elements": [section]}]


def _channel_type(channel: str) -> str:
    return {"D": "im", "G": "group"}.get(channel[:1], "channel")


class SlackEvents(SlackFiles):
    """Put messages and files into the workspace and build the events announcing them."""

    # ------------------------------------------------------------------ content

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = "U0USER",
        ts: str | None = None,
        thread_ts: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Put a user message into the workspace (visible to conversations.replies)."""
        message: dict[str, Any] = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts or self.next_ts(),
            "team": self.team_id,
            "client_msg_id": str(uuid.uuid4()),
            "blocks": _rich_text(text),
        }
        if thread_ts:
            message["thread_ts"] = thread_ts
        message.update(extra)
        return dict(self.store_message(channel, message))

    def add_file(
        self,
        name: str,
        content: bytes,
        *,
        channel: str,
        thread_ts: str | None = None,
        user: str = "U0USER",
        mimetype: str = "text/plain",
        filetype: str = "text",
        title: str | None = None,
        status: int | None = None,
        html_instead: bool = False,
    ) -> dict[str, Any]:
        """Store a file served at its ``url_private`` and return Slack's file object.

        ``status=404/500`` makes the download fail with that status;
        ``html_instead=True`` serves the sign-in page even with a valid token.
        """
        return self.make_file(
            name,
            content,
            channel=channel,
            thread_ts=thread_ts,
            user=user,
            mimetype=mimetype,
            filetype=filetype,
            title=title,
            status=status,
            html_instead=html_instead,
        )

    # ------------------------------------------------------------------ event builders

    def _user_event(
        self,
        kind: str,
        text: str,
        channel: str,
        user: str,
        ts: str | None,
        thread_ts: str | None,
    ) -> dict[str, Any]:
        message = self.add_message(channel, text, user=user, ts=ts, thread_ts=thread_ts)
        event = {**message, "type": kind, "channel": channel, "event_ts": message["ts"]}
        if kind == "message":
            event["channel_type"] = _channel_type(channel)
        return event

    def mention_event(
        self,
        text: str,
        *,
        channel: str = "C0GENERAL",
        user: str = "U0USER",
        ts: str | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        """An ``app_mention`` event; prefixes ``<@U0BOT>`` when the text lacks it."""
        mention = f"<@{self.bot_user_id}>"
        if mention not in text:
            text = f"{mention} {text}"
        return self._user_event("app_mention", text, channel, user, ts, thread_ts)

    def message_event(
        self,
        text: str,
        *,
        channel: str = "C0GENERAL",
        user: str = "U0USER",
        ts: str | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        """A plain ``message`` event (as sent for message.channels / message.im)."""
        return self._user_event("message", text, channel, user, ts, thread_ts)

    def file_share_event(
        self,
        files: list[dict[str, Any]],
        *,
        channel: str = "C0GENERAL",
        user: str = "U0USER",
        thread_ts: str | None = None,
        text: str = "",
    ) -> dict[str, Any]:
        """A ``message`` event with ``subtype: file_share`` carrying full file objects."""
        message = self.add_message(
            channel,
            text,
            user=user,
            thread_ts=thread_ts,
            subtype="file_share",
            files=[dict(f) for f in files],
            upload=False,
            display_as_bot=False,
        )
        return {
            **message,
            "channel": channel,
            "event_ts": message["ts"],
            "channel_type": _channel_type(channel),
        }
