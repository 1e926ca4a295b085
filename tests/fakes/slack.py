"""A fake Slack workspace on an ephemeral loopback port, for end-to-end tests.

The real Bolt ``AsyncApp`` and the real slack_sdk clients talk to it exactly as
they talk to Slack, so tests exercise request encoding, auth, acks, retries and
reconnects instead of mocks of them::

    async with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        app = AsyncApp(client=client)
        handler = AsyncSocketModeHandler(
            app, fake.app_token, web_client=AsyncWebClient(base_url=fake.api_url)
        )
        await handler.connect_async()
        await fake.wait_for_connections(1)
        envelope_id = await fake.send_event(fake.mention_event("hi", channel="C1", user="U1"))
        await fake.wait_for_ack(envelope_id)
        call = await fake.wait_for_call("chat.postMessage")
        await handler.close_async()

What the bot code must know about slack_sdk (found while building this fake):

* ``AsyncWebClient`` retries only connection errors by default
  (``async_default_handlers()`` = ``[AsyncConnectionErrorRetryHandler()]``). An
  HTTP 429 raises ``SlackApiError`` (error "ratelimited") unless the client gets
  ``client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=N))``
  (it sleeps ``Retry-After`` + up to 1 s of jitter). Bolt copies the app client's
  ``retry_handlers`` into each per-request ``client``, so add it to the client
  given to ``AsyncApp(client=...)``.
* ``files_upload_v2`` posts the bytes to the upload URL without an Authorization
  header and then needs files.completeUploadExternal; files.upload (v1) is gone.
* ``url_private`` needs ``Authorization: Bearer <bot token>``; without it Slack
  answers HTTP 200 with an HTML sign-in page, so check the Content-Type.
* conversations.replies/history omit message ``metadata`` unless
  ``include_all_metadata=True`` is passed.
* slack_sdk honours HTTP(S)_PROXY but not NO_PROXY: tests clear proxy variables.

See :mod:`tests.fakes.slack_web` and :mod:`tests.fakes.slack_socket` for the
request formats and the Socket Mode reconnect behaviour.
"""

# The spec'd test API takes `timeout=` deadlines (tests read better than asyncio.timeout blocks).

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.fakes.slack_base import (
    Ack,
    Call,
    Download,
    Fault,
    ResponseUrlPost,
    Upload,
)
from tests.fakes.slack_socket import SlackSocketMode, SocketConnection
from tests.fakes.slack_web import SlackWebApi

__all__ = [
    "Ack",
    "Call",
    "Download",
    "FakeSlack",
    "ResponseUrlPost",
    "SocketConnection",
    "Upload",
]

_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_DEFAULT_ERRORS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}


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


class FakeSlack(SlackWebApi, SlackSocketMode):
    """Fake Slack: Web API + Socket Mode + files + response URLs on 127.0.0.1:<random>."""

    def __init__(self, *, team_id: str = "T0FAKE", app_id: str = "A0FAKE") -> None:
        super().__init__(team_id=team_id, app_id=app_id)
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeSlack:
        """Bind an ephemeral port on 127.0.0.1 and serve."""
        if self._runner is not None:
            raise RuntimeError("FakeSlack already started")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.add_routes(self.web_routes() + self.socket_routes())
        # A short shutdown timeout: sockets are aborted first, nothing to drain.
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        """Abort open sockets and shut the server down (idempotent)."""
        if self._runner is None:
            return
        await self.close_connections()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ waiting

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 10.0,
        *,
        since: float | None = None,
    ) -> Call:
        """First call of ``method`` (already recorded or future) matching ``predicate``.

        ``since`` (a ``time.monotonic()`` value) ignores older calls, e.g. to wait
        for the *retry* of a call. Raises AssertionError listing all calls on timeout.
        """

        def match(call: Call) -> bool:
            if call.method != method or (since is not None and call.at < since):
                return False
            return predicate is None or predicate(call)

        return await self._calls.wait_for(match, timeout=timeout, wanted=f"a {method} call")

    def posted_messages(
        self, channel: str | None = None, thread_ts: str | None = None
    ) -> list[dict[str, Any]]:
        """Params of successful chat.postMessage calls, each with the assigned ``ts`` added."""
        posted = []
        for call in self.calls_to("chat.postMessage"):
            if not call.ok:
                continue
            if channel is not None and call.params.get("channel") != channel:
                continue
            if thread_ts is not None and call.params.get("thread_ts") != thread_ts:
                continue
            posted.append({**call.params, "ts": call.response["ts"]})
        return posted

    async def wait_for_response(
        self,
        predicate: Callable[[ResponseUrlPost], bool] | None = None,
        timeout: float = 10.0,
    ) -> ResponseUrlPost:
        """First POST to a ``response_url`` matching ``predicate``."""
        return await self._responses.wait_for(
            predicate or (lambda _: True), timeout=timeout, wanted="a response_url post"
        )

    async def wait_for_upload(
        self,
        predicate: Callable[[Upload], bool] | None = None,
        timeout: float = 10.0,
    ) -> Upload:
        """First completed file upload matching ``predicate``."""
        return await self._uploads.wait_for(
            predicate or (lambda _: True), timeout=timeout, wanted="a completed upload"
        )

    async def wait_for_download(
        self,
        predicate: Callable[[Download], bool] | None = None,
        timeout: float = 10.0,
    ) -> Download:
        """First ``url_private`` GET matching ``predicate``."""
        return await self._downloads.wait_for(
            predicate or (lambda _: True), timeout=timeout, wanted="a file download"
        )

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str,
        status: int | None = None,
        retry_after: int | None = 1,
        times: int = 1,
        *,
        error: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail without side effects.

        Default: HTTP 429 + ``Retry-After: retry_after`` + ``"ratelimited"``.
        ``error="channel_not_found"`` alone answers HTTP 200 with that error,
        like real Slack's logical errors. Other statuses (500, 503) get a
        generic error body and no Retry-After.
        """
        if status is None:
            status = 200 if error is not None else 429
        if error is None:
            error = _DEFAULT_ERRORS.get(status, "invalid_request")
        header = retry_after if status == 429 else None
        self.faults[method].append(Fault(status, error, header, times))

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

    # ------------------------------------------------------------------ envelopes

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
    ) -> str:
        """Send an ``interactive`` envelope with a ``block_actions`` button click."""
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
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "text": {"type": "plain_text", "text": value, "emoji": True},
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        envelope = {
            "envelope_id": str(uuid.uuid4()),
            "payload": payload,
            "type": "interactive",
            "accepts_response_payload": False,
        }
        return await self.send_envelope(envelope, timeout=timeout)
