"""Protocols a chat surface implements so the engine can talk through it (DESIGN.md section 2).

engine/ never imports Slack: bot/slack_io.py implements these for Slack, bot/shell.py for a
terminal, tests in memory.
"""

from __future__ import annotations

from typing import Protocol

from engine.models import FileRef, ThreadMessage
from engine.replies import Reply


class Replier(Protocol):
    async def post(self, channel_id: str, reply: Reply, thread_ts: str | None = None) -> str:
        """Post a message (in a thread when thread_ts is given); return its id (Slack ts)."""
        ...

    async def update(self, channel_id: str, message_id: str, reply: Reply) -> None:
        """Replace a message posted earlier."""
        ...

    async def upload(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str
    ) -> None:
        """Share a file (a chart, a report) where people read the case."""
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
