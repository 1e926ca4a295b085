"""The fake Slack workspace delivering over HTTP, as Slack does for an app with a Request URL.

Every ``send_*`` of :class:`FakeSlack` (events, slash commands, button clicks, redeliveries)
builds the same payload as in socket mode; :class:`FakeSlackHttp` POSTs it to the app's
``request_url`` instead of writing it to a socket, the way Slack does:

* events: ``application/json``, the ``event_callback`` payload itself; a retry carries
  ``X-Slack-Retry-Num`` and ``X-Slack-Retry-Reason``;
* slash commands: ``application/x-www-form-urlencoded``, one field per payload key;
* interactivity (block_actions...): form-encoded too, the JSON in one ``payload`` field.

Each request is signed with the app's signing secret: ``X-Slack-Request-Timestamp`` (unix
seconds) and ``X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}">``. The HTTP
answer is the ack: a 200 is recorded as an :class:`Ack` (its JSON body as the ack payload), so
``wait_for_ack`` reads the same in both modes; every answer is kept in ``deliveries``.
:meth:`FakeSlackHttp.post` sends raw bodies with a chosen timestamp or signature, for requests
Slack would not send (forged, replayed).
"""

# The spec'd test API takes `timeout=` deadlines (tests read better than asyncio.timeout blocks).

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp

from tests.fakes.slack import FakeSlack
from tests.fakes.slack_base import Ack

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """Slack's v0 request signature of ``body`` sent at ``timestamp``."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def encode(kind: str, payload: dict[str, Any]) -> tuple[bytes, str]:
    """The HTTP body and content type Slack sends a socket-mode envelope's payload as."""
    if kind == "events_api":
        return json.dumps(payload).encode(), JSON
    if kind == "slash_commands":
        return urlencode(
            {k: "" if v is None else str(v) for k, v in payload.items()}
        ).encode(), FORM
    if kind == "interactive":
        return urlencode({"payload": json.dumps(payload)}).encode(), FORM
    raise ValueError(f"Slack does not deliver {kind!r} envelopes over HTTP")


@dataclass(frozen=True)
class Delivery:
    """One POST to the app and its answer."""

    status: int
    text: str
    headers: dict[str, str] = field(default_factory=dict)
    envelope_id: str | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.text) if self.text.strip().startswith(("{", "[")) else None


class FakeSlackHttp(FakeSlack):
    """FakeSlack whose events, commands and clicks reach the app as signed HTTP requests."""

    def __init__(self, *, signing_secret: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.signing_secret = signing_secret or secrets.token_hex(16)
        #: Where the app takes Slack's requests, e.g. http://127.0.0.1:3000/slack/events.
        self.request_url: str | None = None
        self.deliveries: list[Delivery] = []

    async def wait_until_listening(self, timeout: float = 20.0) -> None:
        """Wait until something accepts TCP connections at ``request_url`` (the app is up)."""
        assert self.request_url, "set request_url first"
        url = urlsplit(self.request_url)
        deadline = time.monotonic() + timeout
        while True:
            try:
                _, writer = await asyncio.open_connection(url.hostname, url.port)
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"nothing listens at {self.request_url}") from None
                await asyncio.sleep(0.05)  # a retrying connect, like Slack's own delivery
                continue
            writer.close()
            await writer.wait_closed()
            return

    async def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        envelope_id: str | None = None,
        timeout: float = 10.0,
    ) -> Delivery:
        """POST ``body`` to ``request_url``, signed at ``timestamp`` (default: now) unless a
        ``signature`` is given ("": none at all); the answer, also kept in ``deliveries``."""
        assert self.request_url, "set request_url first"
        sent_at = int(time.time()) if timestamp is None else timestamp
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(sent_at),
            "X-Slack-Signature": sign(self.signing_secret, sent_at, body)
            if signature is None
            else signature,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            **(headers or {}),
        }
        if not all_headers["X-Slack-Signature"]:
            del all_headers["X-Slack-Signature"]  # an unsigned request
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with (
            aiohttp.ClientSession(timeout=client_timeout) as http,
            http.post(self.request_url, data=body, headers=all_headers) as response,
        ):
            text = await response.text()
            delivery = Delivery(response.status, text, dict(response.headers), envelope_id)
        self.deliveries.append(delivery)
        return delivery

    async def send_envelope(self, envelope: dict[str, Any], *, timeout: float = 10.0) -> str:
        """Deliver an envelope's payload over HTTP; its 200 answer is its ack."""
        envelope_id = str(envelope.get("envelope_id", ""))
        body, content_type = encode(str(envelope["type"]), envelope["payload"])
        headers = {}
        if envelope.get("retry_attempt"):
            headers["X-Slack-Retry-Num"] = str(envelope["retry_attempt"])
            headers["X-Slack-Retry-Reason"] = str(envelope.get("retry_reason") or "timeout")
        self.envelopes.append(envelope)
        sent_at = self.now()
        delivery = await self.post(
            body, content_type, headers=headers, envelope_id=envelope_id, timeout=timeout
        )
        if delivery.status == 200:
            # Slack shows a plain-text answer as a message's text, as Bolt's socket mode sends it.
            payload = delivery.json if isinstance(delivery.json, dict) else None
            if payload is None and delivery.text:
                payload = {"text": delivery.text}
            self._acks.append(Ack(envelope_id, payload, sent_at, self.now()))
        return envelope_id

    def event_callback(self, event: dict[str, Any], event_id: str) -> bytes:
        """The Events API body Slack POSTs for ``event`` (as ``send_event`` delivers it), for
        tests that sign or time it themselves with :meth:`post`."""
        payload = {
            "token": "fake-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": self.team_id, "user_id": self.bot_user_id, "is_bot": True}
            ],
        }
        return encode("events_api", payload)[0]

    def delivery_of(self, envelope_id: str) -> Delivery:
        """The app's HTTP answer to one envelope."""
        found = [d for d in self.deliveries if d.envelope_id == envelope_id]
        if not found:
            raise AssertionError(f"envelope {envelope_id} was never delivered")
        return found[-1]

    async def verify_url(self, timeout: float = 10.0) -> Delivery:
        """What Slack sends when a Request URL is saved: a signed ``url_verification``
        challenge, which the app must echo."""
        body = {
            "token": "fake-verification-token",
            "challenge": secrets.token_urlsafe(24),
            "type": "url_verification",
        }
        return await self.post(json.dumps(body).encode(), JSON, timeout=timeout)
