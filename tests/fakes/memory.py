"""In-memory implementations of the engine's ports, for tests of the engine alone."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.core.errors import DownloadFailed, EvidenceRejected
from engine.core.models import FileRef
from engine.core.replies import AnswerReply, CaseSummaryReply, Reply


@dataclass
class Posted:
    channel_id: str
    thread_ts: str | None
    reply: Reply
    ts: str
    updates: list[Reply] = field(default_factory=list)

    @property
    def latest(self) -> Reply:
        return self.updates[-1] if self.updates else self.reply


@dataclass
class Uploaded:
    channel_id: str
    thread_ts: str | None
    filename: str
    content: bytes
    title: str


class MemoryReplier:
    def __init__(self) -> None:
        self.posted: list[Posted] = []
        self.uploads: list[Uploaded] = []
        self.pinned: list[tuple[str, str]] = []
        self.private: list[tuple[str, str, Reply]] = []  # (channel, user, reply)

    async def post(self, channel_id: str, reply: Reply, thread_ts: str | None = None) -> str:
        ts = f"1800000000.{len(self.posted) + 1:06d}"  # never equal to a test thread ts
        self.posted.append(Posted(channel_id, thread_ts, reply, ts))
        return ts

    async def update(self, channel_id: str, message_id: str, reply: Reply) -> None:
        for posted in self.posted:
            if posted.ts == message_id and posted.channel_id == channel_id:
                posted.updates.append(reply)
                return
        raise AssertionError(f"update of a message never posted: {channel_id}/{message_id}")

    async def pin(self, channel_id: str, message_id: str) -> None:
        self.pinned.append((channel_id, message_id))

    async def upload(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str
    ) -> None:
        self.uploads.append(Uploaded(channel_id, thread_ts, filename, content, title))

    async def post_private(self, channel_id: str, user_id: str, reply: Reply) -> None:
        self.private.append((channel_id, user_id, reply))

    async def link(self, channel_id: str, message_id: str) -> str | None:
        return f"https://memory.example/{channel_id}/{message_id}"

    def in_thread(self, thread_ts: str) -> list[Posted]:
        return [p for p in self.posted if p.thread_ts == thread_ts]

    def answers(self, thread_ts: str) -> list[AnswerReply]:
        """The answers in a thread as they read now (a placeholder replaced by its answer)."""
        return [p.latest for p in self.in_thread(thread_ts) if isinstance(p.latest, AnswerReply)]

    def summaries(self, thread_ts: str) -> list[Posted]:
        """The case summary messages of a thread (one per case)."""
        return [p for p in self.in_thread(thread_ts) if isinstance(p.reply, CaseSummaryReply)]


class MemoryFiles:
    """Files by source id; a missing id is a failed download."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.fetches: list[str] = []

    def add(self, source_id: str, name: str, content: bytes) -> FileRef:
        self.files[source_id] = content
        return FileRef(source_id=source_id, name=name, size=len(content))

    async def fetch(self, file: FileRef, max_bytes: int) -> bytes:
        self.fetches.append(file.source_id)
        if file.source_id not in self.files:
            raise DownloadFailed(f"Could not download {file.name} (HTTP 404).")
        data = self.files[file.source_id]
        if len(data) > max_bytes:
            raise EvidenceRejected(f"{file.name} is over the size limit.")
        return data
