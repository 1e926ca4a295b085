"""Button clicks on posted messages, and what the app did with the messages afterwards.

A test clicks the way a person does: it finds a button in a message's *current*
blocks (after any ``chat.update``) and Slack sends the app an ``interactive``
envelope built from that button (see :meth:`SlackEnvelopes.send_block_action`)::

    envelope = await fake.click(CHANNEL, summary_ts, "approve", block_id="step-1")
    await fake.wait_for_ack(envelope)
    reply = await fake.wait_for_response_to(envelope)        # respond(...) of the listener
    shown = await fake.wait_for_message(CHANNEL, summary_ts, lambda m: "done" in m["text"])

``response_url`` posts (``respond()``) are tied back to the envelope that carried
the URL, so a test reads the ephemeral answer to *its* click.
"""

# The spec'd test API takes `timeout=` deadlines (tests read better than asyncio.timeout blocks).

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from tests.fakes.slack_base import ResponseUrlPost
from tests.fakes.slack_envelopes import SlackEnvelopes
from tests.fakes.slack_params import Params


@dataclass(frozen=True)
class Button:
    """A button element as it sits in a message's blocks."""

    action_id: str
    value: str
    block_id: str
    text: str
    style: str | None


def buttons(message: Params) -> list[Button]:
    """Every button of a message, in reading order: actions blocks and section accessories.

    Blocks posted without a ``block_id`` get one from Slack; here it is ``block-<index>``.
    """
    found: list[Button] = []
    for index, block in enumerate(message.get("blocks") or []):
        block_id = str(block.get("block_id") or f"block-{index}")
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            elements.append(accessory)
        for element in elements:
            if element.get("type") != "button":
                continue
            found.append(
                Button(
                    action_id=str(element.get("action_id") or ""),
                    value=str(element.get("value") or ""),
                    block_id=block_id,
                    text=str((element.get("text") or {}).get("text") or ""),
                    style=element.get("style"),
                )
            )
    return found


def _describe(message: Params) -> str:
    shown = [f"{b.action_id}[{b.block_id}]={b.value!r}" for b in buttons(message)]
    return ", ".join(shown) or "no buttons"


class SlackClicks(SlackEnvelopes):
    """Latest message versions, button lookup and clicks, and ``response_url`` answers."""

    # ------------------------------------------------------------------ messages

    def message(self, channel: str, ts: str) -> Params:
        """The message as Slack shows it now (after every chat.update), as a deep copy.

        Raises AssertionError when it does not exist (never posted, or deleted).
        """
        stored = self.messages.get(channel, {}).get(ts)
        if stored is None:
            raise AssertionError(f"no message {ts} in {channel}")
        return copy.deepcopy(stored)

    def versions(self, channel: str, ts: str) -> list[Params]:
        """Every version of a message the app sent: the chat.postMessage params, then each
        successful chat.update's, in order (``ts`` included)."""
        shown: list[Params] = []
        for call in self.calls:
            if not call.ok or call.params.get("channel") != channel:
                continue
            if call.method == "chat.postMessage" and call.response.get("ts") == ts:
                shown.append({**call.params, "ts": ts})
            elif call.method == "chat.update" and call.params.get("ts") == ts:
                shown.append(dict(call.params))
        return shown

    async def wait_for_message(
        self,
        channel: str,
        ts: str,
        predicate: Callable[[Params], bool],
        timeout: float = 10.0,
    ) -> Params:
        """The message's latest version once ``predicate`` holds for it (checked again after
        every Web API call, since only the app's calls change it)."""

        def check() -> Params | None:
            stored = self.messages.get(channel, {}).get(ts)
            return copy.deepcopy(stored) if stored is not None and predicate(stored) else None

        def describe() -> str:
            stored = self.messages.get(channel, {}).get(ts)
            now = "deleted or never posted" if stored is None else repr(stored.get("text"))[:600]
            return f"message {channel}/{ts} never matched; it reads {now}"

        return await self._calls.signal.wait_until(check, timeout=timeout, describe=describe)

    # ------------------------------------------------------------------ clicks

    def find_button(
        self,
        channel: str,
        ts: str,
        action_id: str,
        *,
        value: str | None = None,
        block_id: str | None = None,
        nth: int = 1,
        message: Params | None = None,
    ) -> Button:
        """The ``nth`` (1-based) button with ``action_id`` (and ``value`` / ``block_id`` when
        given) in the message's current blocks, or in ``message`` (an older version)."""
        shown = message if message is not None else self.message(channel, ts)
        matches = [
            b
            for b in buttons(shown)
            if b.action_id == action_id
            and (value is None or b.value == value)
            and (block_id is None or b.block_id == block_id)
        ]
        if len(matches) < nth:
            wanted = f"button #{nth} {action_id!r}"
            wanted += f" in block {block_id!r}" if block_id else ""
            wanted += f" with value {value!r}" if value is not None else ""
            raise AssertionError(f"no {wanted} in {channel}/{ts}; it has {_describe(shown)}")
        return matches[nth - 1]

    async def click(
        self,
        channel: str,
        ts: str,
        action_id: str,
        *,
        user_id: str = "U0USER",
        value: str | None = None,
        block_id: str | None = None,
        nth: int = 1,
        message: Params | None = None,
        action_ts: str | None = None,
        timeout: float = 10.0,
    ) -> str:
        """Click a button of a posted message like a person in ``channel`` does; returns the
        envelope id. ``message`` clicks a version the person still sees although the app has
        updated it since (a stale client)."""
        shown = message if message is not None else self.message(channel, ts)
        button = self.find_button(
            channel, ts, action_id, value=value, block_id=block_id, nth=nth, message=shown
        )
        return await self.send_block_action(
            button.action_id,
            button.value,
            user_id=user_id,
            channel_id=channel,
            message_ts=ts,
            thread_ts=shown.get("thread_ts"),
            block_id=button.block_id,
            text=button.text,
            style=button.style,
            action_ts=action_ts,
            message=copy.deepcopy(shown),
            timeout=timeout,
        )

    async def redeliver(self, envelope_id: str, *, timeout: float = 10.0) -> str:
        """Send the payload of an earlier envelope again, in a new envelope (a click or event
        Slack delivers twice, possibly to another connection); returns the new envelope id."""
        original = next((e for e in self.envelopes if e.get("envelope_id") == envelope_id), None)
        if original is None:
            raise AssertionError(f"no envelope {envelope_id} was sent")
        again = {**copy.deepcopy(original), "envelope_id": str(uuid.uuid4())}
        if again.get("type") == "events_api":
            again["retry_attempt"] = int(original.get("retry_attempt") or 0) + 1
            again["retry_reason"] = "timeout"
        if envelope_id in self.response_urls:
            self.response_urls[again["envelope_id"]] = self.response_urls[envelope_id]
        return await self.send_envelope(again, timeout=timeout)

    # ------------------------------------------------------------------ response_url

    def _response_id(self, envelope_id: str) -> str:
        url = self.response_urls.get(envelope_id)
        if url is None:
            raise AssertionError(f"envelope {envelope_id} carried no response_url")
        return url.rsplit("/", 1)[-1]

    def responses_to(self, envelope_id: str) -> list[ResponseUrlPost]:
        """POSTs the app made to the ``response_url`` of one envelope, oldest first."""
        response_id = self._response_id(envelope_id)
        return [r for r in self._responses.items if r.response_id == response_id]

    async def wait_for_response_to(
        self,
        envelope_id: str,
        predicate: Callable[[ResponseUrlPost], bool] | None = None,
        timeout: float = 10.0,
    ) -> ResponseUrlPost:
        """First ``response_url`` POST answering ``envelope_id`` (e.g. an ephemeral
        ``respond(...)`` to a click) that matches ``predicate``."""
        response_id = self._response_id(envelope_id)
        return await self._responses.wait_for(
            lambda r: r.response_id == response_id and (predicate is None or predicate(r)),
            timeout=timeout,
            wanted=f"a response_url post for envelope {envelope_id}",
        )
