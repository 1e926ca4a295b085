"""The Socket Mode half of the fake Slack workspace: the ``/socket`` WebSocket.

What slack_sdk's aiohttp ``SocketModeClient`` (used by Bolt's
``AsyncSocketModeHandler``) does, and therefore what this fake reproduces:

* It calls ``apps.connections.open`` with the *app* token and connects to the
  returned URL; Slack then sends ``{"type": "hello", ...}`` (the client does not
  wait for it).
* Every envelope (``events_api``, ``slash_commands``, ``interactive``) must be
  acked with ``{"envelope_id": ..., "payload": {...}}`` (payload only when Bolt's
  ``ack()`` got a body). Bolt sends *no ack at all* when no listener matched
  (status 404), so real Slack would redeliver with ``retry_attempt`` 1..3.
* ``{"type": "disconnect"}`` makes the client fetch a new URL at once and open
  a new socket (closing the old one first).
* A close frame from the server makes it reconnect at once; a connection that
  just dies (no close frame) is only noticed by the client's monitor task,
  which wakes every ``ping_interval`` seconds (Bolt's default: 10 s).
"""

# The spec'd test API takes `timeout=` deadlines (tests read better than asyncio.timeout blocks).

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from tests.fakes.recording import Signal
from tests.fakes.slack_base import Ack, SlackState


@dataclass
class SocketConnection:
    """One accepted Socket Mode WebSocket."""

    number: int
    ws: web.WebSocketResponse
    request: web.Request
    opened_at: float
    #: Sent a ``disconnect``: still open, but no longer counted or preferred.
    retiring: bool = False
    closed_at: float | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None and not self.ws.closed


class SlackSocketMode(SlackState):
    """Serves Socket Mode connections, sends envelopes and records acks."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.connections: list[SocketConnection] = []
        #: Connections accepted over the fake's lifetime (reconnects included).
        self.connections_opened = 0
        #: Every envelope sent, in order.
        self.envelopes: list[dict[str, Any]] = []
        #: Non-ack text frames received from clients (should stay empty).
        self.unexpected_frames: list[str] = []
        self._tickets: set[str] = set()
        self._sent_at: dict[str, float] = {}
        self._round_robin = 0
        self._connection_signal = Signal()

    def issue_ticket(self, ticket: str) -> None:
        """Accept ``ticket`` on ``/socket`` (called by apps.connections.open)."""
        self._tickets.add(ticket)

    def socket_routes(self) -> list[web.RouteDef]:
        """aiohttp route for the WebSocket."""
        return [web.get("/socket", self._handle_socket)]

    @property
    def active_connections(self) -> list[SocketConnection]:
        """Open connections that have not been told to disconnect."""
        return [c for c in self.connections if c.is_open and not c.retiring]

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("ticket") not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections_opened += 1
        conn = SocketConnection(self.connections_opened, ws, request, self.now())
        self.connections.append(conn)
        hello = {
            "type": "hello",
            "num_connections": len(self.active_connections),
            "debug_info": {
                "host": "fake-slack",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }
        try:
            await ws.send_str(json.dumps(hello))
            self._connections_changed()
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(msg.data)
        finally:
            conn.closed_at = conn.closed_at or self.now()
            self._connections_changed()
        return ws

    def _connections_changed(self) -> None:
        self._connection_signal.pulse()

    def _on_text(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except json.JSONDecodeError:
            self.unexpected_frames.append(data)
            return
        envelope_id = frame.get("envelope_id") if isinstance(frame, dict) else None
        if not envelope_id:
            self.unexpected_frames.append(data)
            return
        ack = Ack(envelope_id, frame.get("payload"), self._sent_at.get(envelope_id), self.now())
        self._acks.append(ack)

    async def wait_for_connections(self, n: int = 1, timeout: float = 10.0) -> int:
        """Wait until at least ``n`` active connections exist; returns the count."""

        def check() -> int | None:
            count = len(self.active_connections)
            return count if count >= n else None

        return await self._connection_signal.wait_until(
            check,
            timeout=timeout,
            describe=lambda: (
                f"wanted {n} active socket connection(s), have {len(self.active_connections)}"
                f" ({self.connections_opened} opened in total); "
                f"apps.connections.open calls: {len(self.calls_to('apps.connections.open'))}"
            ),
        )

    async def wait_for_no_connections(self, timeout: float = 10.0) -> None:
        """Wait until every socket is closed (e.g. the app shut down)."""

        def check() -> bool | None:
            return True if not self.active_connections else None

        await self._connection_signal.wait_until(
            check,
            timeout=timeout,
            describe=lambda: f"{len(self.active_connections)} socket connection(s) still open",
        )

    async def send_envelope(self, envelope: dict[str, Any], *, timeout: float = 10.0) -> str:
        """Send a raw envelope to one active connection (round robin).

        Waits (up to ``timeout``) for a connection instead of failing, because
        right after a drop/disconnect real Slack also just delivers once the
        app is back.
        """
        await self.wait_for_connections(1, timeout)
        candidates = self.active_connections
        conn = candidates[self._round_robin % len(candidates)]
        self._round_robin += 1
        envelope_id = str(envelope.get("envelope_id", ""))
        self._sent_at[envelope_id] = self.now()
        self.envelopes.append(envelope)
        await conn.ws.send_str(json.dumps(envelope))
        return envelope_id

    async def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> Ack:
        """The app's ack for ``envelope_id`` (Slack wants it within 3 s)."""
        return await self._acks.wait_for(
            lambda ack: ack.envelope_id == envelope_id,
            timeout=timeout,
            wanted=f"ack of envelope {envelope_id}",
        )

    async def drop_connections(self, *, graceful: bool = False) -> int:
        """Close every socket: abruptly by default (TCP abort, no close frame).

        ``graceful=True`` sends a close frame instead, which the client answers
        with an immediate reconnect. Returns how many were closed.
        """
        dropped = [c for c in self.connections if c.is_open]
        for conn in dropped:
            conn.closed_at = self.now()
            if graceful:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"fake drop"), 2.0
                    )
            else:
                transport = conn.request.transport
                if transport is not None:
                    transport.abort()
        self._connections_changed()
        return len(dropped)

    async def send_disconnect(self, reason: str = "warning") -> int:
        """Send Slack's ``{"type": "disconnect"}`` to every active connection.

        Those connections stop counting as active (``wait_for_connections``
        then waits for the replacement); the client closes them itself.
        """
        targets = self.active_connections
        for conn in targets:
            conn.retiring = True
            frame = {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}
            await conn.ws.send_str(json.dumps(frame))
        self._connections_changed()
        return len(targets)

    async def close_connections(self) -> None:
        """Shut every socket down (used by ``stop``)."""
        for conn in self.connections:
            if conn.is_open:
                conn.closed_at = self.now()
                transport = conn.request.transport
                if transport is not None:
                    transport.abort()
