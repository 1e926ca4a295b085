"""Take files into a case: download, analyse, store, and say what they show.

One reply per upload (a progress note first for big or several files, replaced by the
results), with the case's suspects and merged timeline over all its evidence so far, and an
errors-per-minute chart. Safe to repeat for the same trigger `key`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from psycopg_pool import AsyncConnectionPool

from engine.cases.intake import EvidenceIntake
from engine.cases.pasted import pasted_outputs
from engine.cases.posting import Poster
from engine.core.errors import FaultMavenError
from engine.core.models import Case, FileRef
from engine.core.replies import EvidenceReply, NoticeReply
from engine.core.wording import plural
from engine.evidence.analyze import report_notes
from engine.evidence.charts import error_rate_chart
from engine.evidence.logs.report import LogReport
from engine.evidence.reports import Evidence
from engine.evidence.suspects.ranking import describe_suspect, rank_case_suspects
from engine.evidence.timeline import describe_event, merged_timeline
from engine.investigate.incident_time import case_incident_start
from engine.investigate.prompting import evidence_details
from engine.store import cases, messages, replies
from engine.store import evidence as evidence_store

PROGRESS_MIN_BYTES = 5 * 1024 * 1024  # smaller single files are done before anyone reads a note
SHOWN_SUSPECTS = 3
SHOWN_EVENTS = 6
THREAD_MESSAGES = 200  # where people say when the trouble started ("since 14:05")


class CaseEvidence:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        intake: EvidenceIntake,
        poster: Poster,
        *,
        parallel_reads: int = 1,
    ) -> None:
        self.pool = pool
        self.intake = intake
        self.poster = poster
        self.parallel_reads = max(1, parallel_reads)

    async def take(self, case: Case, files: list[FileRef], *, key: str) -> EvidenceReply:
        """Download, analyse and store the files; one reply with a line per file and the
        case's suspects and timeline over all its evidence, then a chart."""
        accepted: list[str] = []
        rejected: list[str] = []
        details: list[str] = []
        reports: list[LogReport] = []
        reply_key = f"evidence:{key}"
        progress = self._progress(case, files, reply_key)
        await progress(0, files[0].name if files else "")
        for outcome in await self._ingest_all(case, files, progress):
            if isinstance(outcome, FaultMavenError):
                rejected.append(outcome.user_message)
                continue
            for item in outcome:
                if item.status != "analysed":
                    rejected.append(f"{item.name}: {item.summary}")
                    continue
                accepted.append(item.summary)
                details.extend(evidence_details(item, limit=3))
                if isinstance(item.report, LogReport):
                    reports.append(item.report)
                if item.report is not None:
                    details.extend(f"ℹ️ {item.name}: {note}" for note in report_notes(item.report))
        suspects, timeline = await self._case_view(case) if accepted else ([], [])
        reply = EvidenceReply(
            case_id=case.id,
            accepted=accepted,
            rejected=rejected,
            details=details,
            suspects=suspects,
            timeline=timeline,
            text="\n".join(
                [
                    *accepted,
                    *(f"⚠️ {r}" for r in rejected),
                    *details,
                    *(f"Suspect: {s}" for s in suspects),
                    *timeline,
                ]
            ),
        )
        await self.poster.post_once(reply_key, case.channel_id, reply, case.thread_ts, case.id)
        await self._chart_once(case, reports, key=f"chart:{key}")
        await cases.touch(self.pool, case.id)
        return reply

    async def _ingest_all(
        self,
        case: Case,
        files: list[FileRef],
        progress: Callable[[int, str], Awaitable[None]],
    ) -> list[list[Evidence] | FaultMavenError]:
        """Each file's rows, or why it was refused, in the order shared.

        Files shared together are downloaded and read side by side (each reader is a process
        of its own, so the cores share the work), at most `parallel_reads` at once; each is
        stored only after the one before it, so the rows keep the order people shared them in.
        """
        slots = asyncio.Semaphore(self.parallel_reads)
        stored = [asyncio.Event() for _ in files]
        finished = 0

        async def one(i: int, file: FileRef) -> list[Evidence] | FaultMavenError:
            nonlocal finished

            async def turn() -> None:
                if i:
                    await stored[i - 1].wait()

            try:
                async with slots:
                    return await self.intake.ingest(case, file, turn=turn)
            except FaultMavenError as exc:
                return exc
            finally:
                await turn()  # a refused file still waits its turn before letting the next in
                stored[i].set()
                finished += 1
                if finished < len(files):
                    await progress(finished, _reading(files, stored))

        return list(await asyncio.gather(*(one(i, f) for i, f in enumerate(files))))

    async def take_pasted(self, case: Case, text: str, ts: str) -> bool:
        """Store command output pasted in a message as evidence; True when there was some."""
        outputs = pasted_outputs(text)
        for i, data in enumerate(outputs, 1):
            suffix = f"-{i}" if len(outputs) > 1 else ""
            name = f"pasted-{ts}{suffix}.txt"
            await self.intake.ingest_bytes(case, f"paste:{ts}:{i}", name, data)
        return bool(outputs)

    async def _case_view(self, case: Case) -> tuple[list[str], list[str]]:
        """Suspects and timeline lines of the whole case: every file so far, not only these."""
        stored = await evidence_store.list_for_case(self.pool, case.id)
        reports = [item.report for item in stored if item.report is not None]
        said = await messages.history(self.pool, case.id, limit=THREAD_MESSAGES)
        since = case_incident_start([case.title, *(m.text for m in said)], reports)
        suspects = rank_case_suspects(reports, since=since)[:SHOWN_SUSPECTS]
        events = merged_timeline(reports, limit=SHOWN_EVENTS)
        with_date = len({event.at.date() for event in events}) > 1
        return (
            [describe_suspect(s) for s in suspects],
            [describe_event(e, with_date) for e in events],
        )

    def _progress(
        self, case: Case, files: list[FileRef], reply_key: str
    ) -> Callable[[int, str], Awaitable[None]]:
        """For big or several uploads, a message that says what is being read, updated in
        place and finally replaced by the results (the same reply key)."""
        total = sum(f.size or 0 for f in files)
        show = total >= PROGRESS_MIN_BYTES or len(files) > 1

        async def report(done: int, current: str) -> None:
            if not show:
                return
            size = f" ({total / 1048576:.1f} MB)" if total else ""
            text = f"📥 Reading {plural(len(files), 'file')}{size}: {done} done, now {current}…"
            await self.poster.post_once(
                reply_key, case.channel_id, NoticeReply(text=text), case.thread_ts, case.id
            )

        return report

    async def _chart_once(self, case: Case, reports: list[LogReport], *, key: str) -> None:
        """Upload an errors-per-minute chart of these files, once per trigger."""
        if await replies.find(self.pool, key) is not None:
            return
        png = await asyncio.to_thread(error_rate_chart, reports)
        if png is None:
            return
        names = ", ".join(r.name for r in reports if r.error_timeline)
        await self.poster.replier.upload(
            case.channel_id,
            case.thread_ts,
            f"errors-case{case.id}.png",
            png,
            f"Errors per minute: {names}",
        )
        await replies.remember(
            self.pool, key=key, case_id=case.id, channel_id=case.channel_id, message_ts="upload"
        )


def _reading(files: list[FileRef], stored: list[asyncio.Event]) -> str:
    """The first file not stored yet: what the progress note says is being read."""
    return next((f.name for f, done in zip(files, stored, strict=True) if not done.is_set()), "")
