"""Socket Mode envelopes of the fake Slack workspace: events, slash commands, button clicks.

Each ``send_*`` wraps a payload shaped like real Slack's (``events_api``,
``slash_commands``, ``interactive``), sends it over an active socket and
returns the ``envelope_id`` the app must ack (see :mod:`tests.fakes.slack_socket`).
``response_url`` values point back at the fake, so replies to slash commands and
button clicks are recorded too.
"""

# The spec'd test API takes `timeout=` deadlines (tests read better than asyncio.timeout blocks).

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from tests.fakes.slack_messages import SlackMessages
from tests.fakes.slack_socket import SlackSocketMode


class SlackEnvelopes(SlackMessages, SlackSocketMode):
    """Builds and sends the envelopes Slack delivers over Socket Mode."""

    _last_action_micros = 0

    async def send_event(
        self,
        event: dict[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        event_id: str | None = None,
        timeout: float = 10.0,
    ) -> str:
        """Wrap ``event`` in an ``events_api`` envelope like Slack does; return its envelope_id.

        Message-like events not created by the builders are added to the thread
        store too, since on real Slack the message exists once the event fires.
        """
        channel, ts = event.get("channel"), event.get("ts")
        if (
            event.get("type") in ("message", "app_mention")
            and isinstance(channel, str)
            and isinstance(ts, str)
            and ts not in self.messages.get(channel, {})
            and event.get("subtype") not in ("message_changed", "message_deleted")
        ):
            stored = {k: v for k, v in event.items() if k not in ("channel", "event_ts")}
            self.store_message(channel, {**stored, "type": "message"})
        envelope_id = str(uuid.uuid4())
        payload = {
            "token": "fake-verification-token",
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or self.next_id("Ev"),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-fake-{secrets.token_hex(6)}",
        }
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        return await self.send_envelope(envelope, timeout=timeout)

    def _trigger_id(self) -> str:
        return f"{secrets.randbelow(10**10)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"

    async def send_slash_command(
        self,
        command: str = "/faultmaven",
        text: str = "",
        *,
        user_id: str = "U0USER",
        channel_id: str = "C0GENERAL",
        trigger_id: str | None = None,
        timeout: float = 10.0,
    ) -> str:
        """Send a ``slash_commands`` envelope (response_url points at this fake)."""
        envelope_id = str(uuid.uuid4())
        payload = {
            "token": "fake-verification-token",
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": f"chan-{channel_id.lower()}",
            "user_id": user_id,
            "user_name": f"user-{user_id.lower()}",
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": f"{self.root_url}/response/{uuid.uuid4().hex}",
            "trigger_id": trigger_id or self._trigger_id(),
        }
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": "slash_commands",
            "accepts_response_payload": True,
        }
        self.response_urls[envelope_id] = str(payload["response_url"])
        return await self.send_envelope(envelope, timeout=timeout)

    async def send_block_action(
        self,
        action_id: str,
        value: str,
        *,
        user_id: str = "U0USER",
        channel_id: str = "C0GENERAL",
        message_ts: str,
        thread_ts: str | None = None,
        block_id: str = "b",
        timeout: float = 10.0,
        text: str | None = None,
        style: str | None = None,
        action_ts: str | None = None,
        message: dict[str, Any] | None = None,
    ) -> str:
        """Send an ``interactive`` envelope with a ``block_actions`` button click.

        ``text``/``style`` describe the button (its label defaults to ``value``);
        ``message`` is the message as the clicking client shows it (default: the
        stored, latest version). :meth:`SlackClicks.click` finds all of it in a
        posted message's blocks.
        """
        if message is None:
            stored = self.messages.get(channel_id, {}).get(message_ts)
            message = dict(stored) if stored else {"type": "message", "ts": message_ts, "text": ""}
        thread_ts = thread_ts or message.get("thread_ts")
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        if thread_ts:
            container["thread_ts"] = thread_ts
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "text": {"type": "plain_text", "text": text or value, "emoji": True},
            "value": value,
            "type": "button",
            "action_ts": action_ts or self._action_ts(),
        }
        if style:
            action["style"] = style
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {
                "id": user_id,
                "username": f"user-{user_id.lower()}",
                "name": f"user-{user_id.lower()}",
                "team_id": self.team_id,
            },
            "api_app_id": self.app_id,
            "token": "fake-verification-token",
            "container": container,
            "trigger_id": self._trigger_id(),
            "team": {"id": self.team_id, "domain": self.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": f"chan-{channel_id.lower()}"},
            "message": message,
            "state": {"values": {}},
            "response_url": f"{self.root_url}/response/{uuid.uuid4().hex}",
            "actions": [action],
        }
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": "interactive",
            "accepts_response_payload": False,
        }
        self.response_urls[envelope_id] = payload["response_url"]
        return await self.send_envelope(envelope, timeout=timeout)

    def _action_ts(self) -> str:
        """Slack's ``action_ts`` ("<unix seconds>.<micros>"), strictly increasing here so two
        clicks never share one (a shared one means the *same* click delivered twice)."""
        micros = max(int(time.time() * 1_000_000), self._last_action_micros + 1)
        self._last_action_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"
