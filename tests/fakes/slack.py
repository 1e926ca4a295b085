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

See :mod:`tests.fakes.slack_params` and :mod:`tests.fakes.slack_socket` for the
request formats and the Socket Mode reconnect behaviour.
"""

# The spec'd test API takes `timeout=` deadlines (tests read better than asyncio.timeout blocks).

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fakes.slack_base import (
    Ack,
    Call,
    Download,
    Fault,
    Hold,
    ResponseUrlPost,
    Upload,
)
from tests.fakes.slack_clicks import Button, SlackClicks, buttons
from tests.fakes.slack_events import SlackEvents
from tests.fakes.slack_redelivery import SlackRedelivery
from tests.fakes.slack_socket import SocketConnection
from tests.fakes.slack_web import SlackWebApi

__all__ = [
    "Ack",
    "Button",
    "Call",
    "Download",
    "FakeSlack",
    "Hold",
    "ResponseUrlPost",
    "SocketConnection",
    "Upload",
    "buttons",
]

_DEFAULT_ERRORS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}


class FakeSlack(SlackClicks, SlackEvents, SlackWebApi, SlackRedelivery):
    """Fake Slack: Web API + Socket Mode + files + response URLs on 127.0.0.1:<random>.

    The parts live in mixins: :class:`SlackWebApi` (``/api/<method>``, files, pins),
    :class:`SlackSocketMode` (``/socket``; :class:`SlackRedelivery` retries unacked events
    like Slack once asked to), :class:`SlackEvents` (content and
    event builders), :class:`SlackEnvelopes` (``send_*``) and :class:`SlackClicks`
    (button clicks on posted messages, latest message versions, ``respond()`` answers).
    """

    #: Uploads carry whole files (logs, dumps); aiohttp's 1 MiB default is too small.
    client_max_size = 64 * 1024 * 1024

    def __init__(self, *, team_id: str = "T0FAKE", app_id: str = "A0FAKE") -> None:
        super().__init__(team_id=team_id, app_id=app_id)

    # ------------------------------------------------------------------ lifecycle

    def routes(self) -> list[web.RouteDef]:
        return self.web_routes() + self.socket_routes()

    async def _before_cleanup(self) -> None:
        """Release held answers and abort open sockets: the runner would wait for them."""
        for hold in self.holds:
            hold.release()
        self.cancel_redeliveries()
        await self.close_connections()

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
            predicate, timeout=timeout, wanted="a response_url post"
        )

    async def wait_for_upload(
        self,
        predicate: Callable[[Upload], bool] | None = None,
        timeout: float = 10.0,
    ) -> Upload:
        """First completed file upload matching ``predicate``."""
        return await self._uploads.wait_for(predicate, timeout=timeout, wanted="a completed upload")

    async def wait_for_download(
        self,
        predicate: Callable[[Download], bool] | None = None,
        timeout: float = 10.0,
    ) -> Download:
        """First ``url_private`` GET matching ``predicate``."""
        return await self._downloads.wait_for(predicate, timeout=timeout, wanted="a file download")

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

    def hold_next(
        self, method: str, predicate: Callable[[dict[str, Any]], bool] | None = None
    ) -> Hold:
        """Keep back the answer to the next successful ``method`` call whose params match
        ``predicate``: its effects are visible at once, but the app only gets the answer after
        ``hold.release()``. Lets a test act in the window between an app's call and its next
        step (e.g. click a button the app has just shown, before it saved what it showed)."""
        hold = Hold(method, predicate)
        self.holds.append(hold)
        return hold
