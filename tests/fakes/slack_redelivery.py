"""Slack's redelivery of Events API envelopes the app did not ack, and a lost ack.

Real Slack retries an ``events_api`` envelope that was not acked in time up to three
times: the same payload (same ``event_id``) in a new envelope with ``retry_attempt`` 1..3
and ``retry_reason`` "timeout", to whichever socket is open by then. Slash commands and
clicks are not retried (the person sees an error instead). The fake does the same once a
test calls :meth:`SlackRedelivery.redeliver_unacked`; it is off by default so tests that
expect no ack (no listener matched) stay quiet.

:meth:`SlackRedelivery.lose_next_ack` makes the app's next ack vanish and cuts its socket
(TCP abort): the app did the work, but Slack thinks it did not and sends the event again.
"""

# The spec'd test API takes `timeout=` deadlines (tests read better than asyncio.timeout blocks).

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from tests.fakes.recording import EventLog
from tests.fakes.slack_socket import SlackSocketMode


@dataclass(frozen=True)
class Redelivery:
    """How unacked events are retried: after ``after_s`` without an ack, up to ``attempts``."""

    after_s: float
    attempts: int = 3


@dataclass(frozen=True)
class Redelivered:
    """One retry the fake sent: ``first`` is the envelope id of the original delivery."""

    first: str
    envelope_id: str
    retry_attempt: int


class SlackRedelivery(SlackSocketMode):
    """Retries unacked events like Slack; can lose an ack in transit."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.redelivery: Redelivery | None = None
        self._redeliveries: EventLog[Redelivered] = EventLog("redeliveries", str)
        #: Envelope ids whose ack the fake threw away (see lose_next_ack).
        self.lost_acks: list[str] = []
        self._lose_acks = 0
        self._retry_tasks: set[asyncio.Task[None]] = set()

    @property
    def redeliveries(self) -> list[Redelivered]:
        """Every retry sent, in order."""
        return self._redeliveries.items

    async def wait_for_redelivery(self, first: str, timeout: float = 10.0) -> Redelivered:
        """The first retry of envelope ``first`` (proof the app did not ack it in time)."""
        return await self._redeliveries.wait_for(
            lambda r: r.first == first, timeout=timeout, wanted=f"a retry of {first}"
        )

    def redeliver_unacked(self, after_s: float = 3.0, attempts: int = 3) -> None:
        """From now on, retry an events_api envelope not acked within ``after_s`` seconds
        (Slack: 3 s), at most ``attempts`` times."""
        self.redelivery = Redelivery(after_s, attempts)

    def lose_next_ack(self, count: int = 1) -> None:
        """The next ``count`` acks never arrive: each is dropped and its socket aborted."""
        self._lose_acks += count

    async def send_envelope(self, envelope: dict[str, Any], *, timeout: float = 10.0) -> str:
        envelope_id = await super().send_envelope(envelope, timeout=timeout)
        if self.redelivery is not None and envelope.get("type") == "events_api":
            task = asyncio.create_task(self._retry_unless_acked(envelope, self.redelivery))
            self._retry_tasks.add(task)
            task.add_done_callback(self._retry_tasks.discard)
        return envelope_id

    async def _retry_unless_acked(self, envelope: dict[str, Any], policy: Redelivery) -> None:
        envelope_id = str(envelope["envelope_id"])
        with contextlib.suppress(AssertionError):  # wait_for_ack's timeout: not acked
            await self.wait_for_ack(envelope_id, timeout=policy.after_s)
            return
        attempt = int(envelope.get("retry_attempt") or 0) + 1
        if attempt > policy.attempts:
            return
        retry = {
            **envelope,
            "envelope_id": str(uuid.uuid4()),
            "retry_attempt": attempt,
            "retry_reason": "timeout",
        }
        first = next(
            (r.first for r in self.redeliveries if r.envelope_id == envelope_id), envelope_id
        )
        self._redeliveries.append(Redelivered(first, retry["envelope_id"], attempt))
        # Slack delivers once the app has a socket again; a fake that is stopping does not.
        with contextlib.suppress(AssertionError, ConnectionError, RuntimeError):
            await self.send_envelope(retry, timeout=60)

    async def wait_for_ack_of_retry(self, first: str, timeout: float = 10.0) -> Redelivered:
        """The first retry of the envelope ``first`` that the app acked."""

        def retries() -> dict[str, Redelivered]:
            return {r.envelope_id: r for r in self.redeliveries if r.first == first}

        ack = await self._acks.wait_for(
            lambda a: a.envelope_id in retries(),
            timeout=timeout,
            wanted=f"an acked retry of {first} (retries sent: {list(retries())})",
        )
        return retries()[ack.envelope_id]

    def _on_text(self, data: str) -> None:
        if self._lose_acks > 0:
            with contextlib.suppress(json.JSONDecodeError):
                frame = json.loads(data)
                if isinstance(frame, dict) and frame.get("envelope_id"):
                    self._lose_acks -= 1
                    self.lost_acks.append(str(frame["envelope_id"]))
                    # The socket dies with the ack in it: the app must reconnect.
                    for conn in self.connections:
                        if conn.is_open and conn.request.transport is not None:
                            conn.closed_at = self.now()
                            conn.request.transport.abort()
                    self._connections_changed()
                    return
        super()._on_text(data)

    def cancel_redeliveries(self) -> None:
        """Stop pending retries (the fake is shutting down)."""
        for task in list(self._retry_tasks):
            task.cancel()
