"""Records and shared state of the fake Slack workspace.

Split out of :mod:`tests.fakes.slack` so the Web API half (:mod:`slack_web`,
:mod:`slack_messages`, :mod:`slack_files`) and the Socket Mode half
(:mod:`slack_socket`) can share one state object without importing each other.
Tests import everything from :mod:`tests.fakes.slack`.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.recording import EventLog
from tests.fakes.server import LoopbackServer

#: First ts handed out; real Slack ts are "<unix seconds>.<6 digit sequence>".
TS_BASE_SECONDS = 1_732_200_000
#: Each new message advances the clock by this many microseconds ("...000100", "...000200").
TS_STEP_MICROS = 100


@dataclass(frozen=True)
class Call:
    """One Web API request as the fake saw it.

    ``params`` merges the query string and the JSON/form body (slack_sdk uses all
    three, see :mod:`tests.fakes.slack` docs), with JSON-in-a-string fields such as
    ``blocks``/``metadata``/``files`` decoded, and without the token.
    """

    method: str
    params: dict[str, Any]
    at: float
    token: str | None = None
    http_verb: str = "POST"
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the fake answered HTTP 200 with ``"ok": true``."""
        return self.status == 200 and bool(self.response.get("ok"))

    def __str__(self) -> str:
        outcome = "ok" if self.ok else f"{self.status} {self.response.get('error')}"
        return f"{self.method}({_short(self.params)}) -> {outcome}"


@dataclass(frozen=True)
class Ack:
    """A Socket Mode acknowledgement ``{"envelope_id": ..., "payload": ...}`` from the app."""

    envelope_id: str
    payload: dict[str, Any] | None
    sent_at: float | None
    acked_at: float

    @property
    def latency(self) -> float | None:
        """Seconds from envelope sent to ack received (Slack redelivers after ~3 s)."""
        return None if self.sent_at is None else self.acked_at - self.sent_at


@dataclass(frozen=True)
class ResponseUrlPost:
    """A POST the app made to a slash command / block action ``response_url``."""

    response_id: str
    body: dict[str, Any]
    at: float


@dataclass(frozen=True)
class Upload:
    """One file completed via files.getUploadURLExternal + upload + files.completeUploadExternal."""

    file_id: str
    filename: str
    title: str
    content: bytes
    channel_id: str | None
    thread_ts: str | None
    initial_comment: str | None
    at: float


@dataclass(frozen=True)
class Download:
    """A GET of a file's ``url_private``; ``served`` is "bytes", "html" or "error"."""

    file_id: str
    authorized: bool
    status: int
    served: str
    at: float


@dataclass
class Fault:
    """A queued failure for one Web API method (see ``FakeSlack.fail_next``)."""

    status: int
    error: str
    retry_after: int | None
    remaining: int


@dataclass
class Hold:
    """An answer the fake keeps back (see ``FakeSlack.hold_next``): the call's effects are
    visible (the message is updated, the call recorded) but the app waits for the response
    until the test calls :meth:`release`, e.g. to act in the window before its next step."""

    method: str
    predicate: Callable[[dict[str, Any]], bool] | None
    #: The held call, once one arrived.
    call: Call | None = None
    _reached: asyncio.Event = field(default_factory=asyncio.Event)
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        return (
            self.call is None
            and method == self.method
            and (self.predicate is None or self.predicate(params))
        )

    async def reached(self, timeout: float = 10.0) -> Call:
        """The held call, once the app made it."""
        try:
            await asyncio.wait_for(self._reached.wait(), timeout)
        except TimeoutError:
            wanted = f"no held {self.method} call"
            raise AssertionError(f"timed out after {timeout:.1f}s: {wanted}") from None
        assert self.call is not None
        return self.call

    def hold(self, call: Call) -> None:
        self.call = call
        self._reached.set()

    async def wait_released(self, timeout: float) -> None:
        # Bounded: a test that forgets to release must not hang the app forever.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), timeout)

    def release(self) -> None:
        """Send the held answer."""
        self._released.set()


@dataclass
class StoredFile:
    """A file the fake can serve: Slack-shaped ``info`` plus its bytes and failure knobs."""

    info: dict[str, Any]
    content: bytes
    status: int | None = None
    html_instead: bool = False


@dataclass
class PendingUpload:
    """State between files.getUploadURLExternal and files.completeUploadExternal."""

    file_id: str
    filename: str
    length: int
    content: bytes | None = None


def _short(params: dict[str, Any], limit: int = 160) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SlackState(LoopbackServer):
    """Identity, stores and recorders shared by the Web API and Socket Mode halves."""

    def __init__(self, *, team_id: str = "T0FAKE", app_id: str = "A0FAKE") -> None:
        self.team_id = team_id
        self.app_id = app_id
        self.team_domain = "fake-workspace"
        self.bot_user_id = "U0BOT"
        self.bot_id = "B0BOT"
        self.bot_name = "faultmaven"
        # Random suffixes so a test cannot accidentally pass with a hard-coded token.
        self.bot_token = f"xoxb-fake-{secrets.token_hex(8)}"
        self.app_token = f"xapp-fake-{secrets.token_hex(8)}"

        #: channel id -> ts -> message dict (roots and replies alike).
        self.messages: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.files: dict[str, StoredFile] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.members: dict[str, set[str]] = {}  # user -> channels joined (users.conversations)
        #: channel id -> pinned message ts -> pin record (``created``, ``created_by``).
        self.pins: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        #: envelope id -> the ``response_url`` its payload carried (commands and clicks).
        self.response_urls: dict[str, str] = {}
        self.pending_uploads: dict[str, PendingUpload] = {}
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.holds: list[Hold] = []

        self._calls: EventLog[Call] = EventLog("Web API calls", str)
        self._acks: EventLog[Ack] = EventLog("acks")
        self._responses: EventLog[ResponseUrlPost] = EventLog("response_url posts")
        self._uploads: EventLog[Upload] = EventLog("uploads")
        self._downloads: EventLog[Download] = EventLog("file downloads")

        self._ts_counter = 0
        self._id_counter = 0

    # ------------------------------------------------------------------ ids

    @property
    def api_url(self) -> str:
        """The ``base_url`` to give ``AsyncWebClient`` (trailing slash included)."""
        return f"{self.root_url}/api/"

    def next_ts(self) -> str:
        """A unique, increasing message ts shaped like real Slack's ("1732200000.000100")."""
        self._ts_counter += 1
        micros = TS_BASE_SECONDS * 1_000_000 + self._ts_counter * TS_STEP_MICROS
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def next_id(self, prefix: str) -> str:
        """Slack-looking object ids: "F0FAKE0001", "Ev0FAKE0002", "V0FAKE0003"..."""
        self._id_counter += 1
        return f"{prefix}0FAKE{self._id_counter:04d}"

    # ------------------------------------------------------------------ records

    @property
    def calls(self) -> list[Call]:
        """Every Web API call in arrival order (failed and faulted ones included)."""
        return self._calls.items

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls of one Web API method, oldest first."""
        return [c for c in self._calls.items if c.method == method]

    @property
    def acks(self) -> list[Ack]:
        """Every Socket Mode ack received."""
        return self._acks.items

    @property
    def responses(self) -> list[ResponseUrlPost]:
        """Every POST to a ``response_url``."""
        return self._responses.items

    @property
    def uploads(self) -> list[Upload]:
        """Every file completed through the files_upload_v2 flow."""
        return self._uploads.items

    @property
    def downloads(self) -> list[Download]:
        """Every GET of a ``url_private``/``url_private_download``."""
        return self._downloads.items

    def issue_ticket(self, ticket: str) -> None:
        """Accept ``ticket`` on the socket endpoint (the Socket Mode half overrides this)."""
        raise NotImplementedError

    @staticmethod
    def now() -> float:
        """Clock used for every record (``time.monotonic``)."""
        return time.monotonic()
