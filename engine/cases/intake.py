"""Evidence intake: fetch an uploaded file, open it if it is an archive, analyse, store.

Once per (case, file): a redelivered upload finds its rows and downloads nothing. An archive
becomes one row per member ("logs.zip/app/checkout.log") plus a row for the archive itself,
written last, so a retry that finds the archive row knows its members are stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable

from psycopg_pool import AsyncConnectionPool

from engine.core.crypto import EvidenceCipher
from engine.core.errors import FaultMavenError, new_error_id
from engine.core.models import Case, FileRef
from engine.core.ports import FileSource
from engine.core.redact import Redactor
from engine.core.wording import plural
from engine.evidence.analyze import summarize_report
from engine.evidence.archives import ArchiveLimits, archive_kind, expand
from engine.evidence.configs.analyze import ConfigReport
from engine.evidence.configs.versions import previous_version, with_changes
from engine.evidence.isolated import ReadLimits, read_isolated
from engine.evidence.reports import AnyReport, Evidence
from engine.ops import prometheus
from engine.store import evidence as evidence_store

log = logging.getLogger(__name__)


class EvidenceIntake:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        files: FileSource,
        *,
        max_file_bytes: int,
        redactor: Redactor,
        cipher: EvidenceCipher | None = None,
        read_limits: ReadLimits | None = None,
    ) -> None:
        self.pool = pool
        self.cipher = cipher
        self.files = files
        self.max_file_bytes = max_file_bytes
        self.redactor = redactor
        self.read_limits = read_limits or ReadLimits()
        self.archive_limits = ArchiveLimits.for_uploads(max_file_bytes)

    async def ingest(
        self, case: Case, file: FileRef, *, turn: Callable[[], Awaitable[None]] | None = None
    ) -> list[Evidence]:
        """The evidence rows of one uploaded file (several for an archive).

        The file is downloaded and read first; `turn`, when given, is awaited before anything
        is stored, so files read side by side are still stored in the order they were shared
        (a config's earlier version is stored before the later one it is compared with).

        Raises DownloadFailed / EvidenceRejected from the FileSource without storing anything,
        so a retry or a re-upload can still succeed.
        """
        existing = await self._stored(case, file)
        if existing:
            return existing
        data = await self.files.fetch(file, self.max_file_bytes)
        prometheus.evidence_processed(len(data))
        if archive_kind(data) is None:
            read = await self._read(file.name, data)
            await _wait(turn)
            return [await self._store(case, file.source_id, file.name, data, read)]
        try:
            expanded = await asyncio.to_thread(expand, file.name, data, self.archive_limits)
        except FaultMavenError as exc:
            await _wait(turn)
            return [
                await self._save(case, file.source_id, file.name, data, "archive", exc.user_message)
            ]
        reads = [await self._read(m.path, m.data) for m in expanded.members]
        await _wait(turn)
        members = [
            await self._store(case, f"{file.source_id}/{m.path}", m.path, m.data, read)
            for m, read in zip(expanded.members, reads, strict=True)
        ]
        summary = f"{file.name}: archive of {plural(len(members), 'file')}"
        if expanded.notes:
            summary += f" ({'; '.join(expanded.notes)})"
        archive = await self._save(
            case, file.source_id, file.name, data, "archive", summary, ok=True
        )
        return [archive, *members]

    async def ingest_bytes(self, case: Case, source_id: str, name: str, data: bytes) -> Evidence:
        """The evidence row of content that did not come as a file (text pasted in a thread);
        the same row again for the same `source_id`."""
        existing = await evidence_store.find(self.pool, case.id, source_id)
        if existing is not None:
            return existing
        prometheus.evidence_processed(len(data))
        return await self._analyse(case, source_id, name, data)

    async def _stored(self, case: Case, file: FileRef) -> list[Evidence]:
        own = await evidence_store.find(self.pool, case.id, file.source_id)
        if own is None:
            return []
        if own.kind != "archive":
            return [own]
        prefix = f"{file.source_id}/"
        members = [
            e
            for e in await evidence_store.list_for_case(self.pool, case.id)
            if e.source_id.startswith(prefix)
        ]
        return [own, *members]

    async def _analyse(self, case: Case, source_id: str, name: str, data: bytes) -> Evidence:
        return await self._store(case, source_id, name, data, await self._read(name, data))

    async def _read(self, name: str, data: bytes) -> AnyReport | FaultMavenError:
        """The file's report, or why it could not be read."""
        try:
            # Read in a child process (a deadline and a memory cap from outside, one clear
            # line whatever the file does); waited for in a thread, so the worker's event loop
            # and heartbeats go on, and several files can be read at once.
            return await asyncio.to_thread(
                read_isolated, name, data, redactor=self.redactor, limits=self.read_limits
            )
        except FaultMavenError as exc:
            return exc

    async def _store(
        self,
        case: Case,
        source_id: str,
        name: str,
        data: bytes,
        read: AnyReport | FaultMavenError,
    ) -> Evidence:
        if isinstance(read, FaultMavenError):
            return await self._save(case, source_id, name, data, "unknown", read.user_message)
        report = read
        if isinstance(report, ConfigReport):
            report = await self._with_changes(case, source_id, report, data)
        item, _ = await evidence_store.save(
            self.pool,
            case_id=case.id,
            source_id=source_id,
            name=name,
            kind=report.kind,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content=data,
            cipher=self.cipher,
            status="analysed",
            summary=summarize_report(report),
            report=report,
        )
        return item

    async def _with_changes(
        self, case: Case, source_id: str, report: ConfigReport, data: bytes
    ) -> ConfigReport:
        """A new version of a config the case already has (same name, same name but for a
        version word, or the same Kubernetes objects): keep what changed between them."""
        stored = await evidence_store.list_for_case(self.pool, case.id)
        versions = [
            (item.report, item.id)
            for item in stored
            if item.source_id != source_id and isinstance(item.report, ConfigReport)
        ]
        earlier = previous_version(report, versions)
        if earlier is None:
            return report
        prior, evidence_id = earlier
        old = await evidence_store.content_of(self.pool, evidence_id, self.cipher)
        if old is None:  # retention deleted the earlier version's bytes: no diff, say why
            note = (
                f"Not compared with {prior.name}: its file content was deleted by the "
                "retention policy (its findings are kept)."
            )
            return report.model_copy(update={"notes": [*report.notes, note]})
        try:
            return await asyncio.to_thread(with_changes, report, data, prior, old, self.redactor)
        except Exception:  # the report stands without its diff; never lose the upload for it
            error_id = new_error_id()
            log.exception(
                "comparing %s with %s failed (error id %s)", report.name, prior.name, error_id
            )
            note = f"Not compared with {prior.name}: the comparison failed (error id {error_id})."
            return report.model_copy(update={"notes": [*report.notes, note]})

    async def _save(
        self,
        case: Case,
        source_id: str,
        name: str,
        data: bytes,
        kind: str,
        summary: str,
        *,
        ok: bool = False,
    ) -> Evidence:
        """A row without a log report: an archive, or a file refused with `summary` as why."""
        item, _ = await evidence_store.save(
            self.pool,
            case_id=case.id,
            source_id=source_id,
            name=name,
            kind=kind,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content=data,
            cipher=self.cipher,
            status="analysed" if ok else "rejected",
            summary=summary,
            report=None,
        )
        return item


async def _wait(turn: Callable[[], Awaitable[None]] | None) -> None:
    if turn is not None:
        await turn()
