"""Protocols a chat surface implements so the engine can talk through it (DESIGN.md section 2).

engine/ never imports Slack: bot/slack_io.py implements these for Slack, bot/shell.py for a
terminal, tests in memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from engine.core.models import FileRef, ThreadMessage
from engine.core.replies import Reply


class Replier(Protocol):
    async def post(self, channel_id: str, reply: Reply, thread_ts: str | None = None) -> str:
        """Post a message (in a thread when thread_ts is given); return its id (Slack ts)."""
        ...

    async def update(self, channel_id: str, message_id: str, reply: Reply) -> None:
        """Replace a message posted earlier."""
        ...

    async def pin(self, channel_id: str, message_id: str) -> None:
        """Keep a message where people find it (Slack: pinned to the channel)."""
        ...

    async def upload(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str
    ) -> None:
        """Share a file (a chart, a report) where people read the case."""
        ...

    async def post_private(self, channel_id: str, user_id: str, reply: Reply) -> None:
        """Show a reply to one person only (Slack: an ephemeral message)."""
        ...

    async def link(self, channel_id: str, message_id: str) -> str | None:
        """A link people can open to a message (Slack: its permalink); None when there is none."""
        ...


class CaseRunCoalescer(Protocol):
    """One investigation run per case at a time; input arriving during a run is coalesced
    into the next one (engine/worker/coalesce.py across processes, coalesce_local.py in one)."""

    async def request(self, case_id: int) -> int:
        """Note that the case has new input (already stored)."""
        ...

    async def drain(
        self, case_id: int, run: Callable[[], Awaitable[None]], *, max_runs: int | None = None
    ) -> int:
        """Run until all noted input is seen (or `max_runs` runs); 0 at once when another run
        holds the case."""
        ...

    async def look_again_in(self, case_id: int) -> float | None:
        """After a drain returned 0: None when the holder has it covered, else the seconds
        after which another drain must run (the holder may have died)."""
        ...


class ThreadHistory(Protocol):
    async def thread_messages(self, channel_id: str, thread_ts: str) -> list[ThreadMessage]:
        """People's messages in a thread, oldest first (the surface's own messages left out)."""
        ...


class FileSource(Protocol):
    async def fetch(self, file: FileRef, max_bytes: int) -> bytes:
        """Return the file's bytes; raise DownloadFailed / EvidenceRejected with a clear message.

        Must stop reading (and raise EvidenceRejected) once more than max_bytes arrive.
        """
        ...


class WorkspaceDirectory(Protocol):
    async def is_admin(self, user_id: str) -> bool:
        """True when the surface itself makes this user an admin (Slack: workspace admin or
        owner); answers may be cached for a few minutes."""
        ...
