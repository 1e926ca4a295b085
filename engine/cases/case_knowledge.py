"""Knowledge in a case's life: related past cases and runbooks shown in its thread, the
postmortem posted and stored when it closes, and the stored case marked when it reopens.

Every step embeds (search or import), so it runs in workers and the shell, never in a Slack
listener. Posts go through `Poster.post_once` and the postmortem file is uploaded once per
close: a retried job neither repeats a message nor shares the file twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from psycopg_pool import AsyncConnectionPool

from engine.cases.posting import Poster
from engine.core.models import Case
from engine.core.replies import KnowledgeLine, KnowledgeReply
from engine.evidence.reports import Evidence
from engine.investigate.result import Investigation
from engine.knowledge.base import KnowledgeBase, case_source
from engine.knowledge.postmortem import CaseRecord, postmortem_markdown
from engine.knowledge.related import RelatedItem, RelatedKnowledge, fingerprint
from engine.store import evidence as evidence_store
from engine.store import investigation, messages, replies

log = logging.getLogger(__name__)

REOPENED_NOTE = (
    "> Reopened {at:%Y-%m-%d %H:%M} UTC by {who}: the resolution below did not hold "
    "(or not for long). Read it with care.\n\n"
)


def related_reply(case_id: int, items: list[RelatedItem]) -> KnowledgeReply:
    """Each document on its line, with why it was picked under it."""
    lines = [
        KnowledgeLine(
            document_id=i.document_id,
            kind=i.kind,
            text=i.line,
            snippet=f"Why: {i.why}" if i.why else "",
            votable=i.kind == "runbook",
        )
        for i in items
    ]
    shown = [f"• {line.text}" + (f"\n   {line.snippet}" if line.snippet else "") for line in lines]
    text = "\n".join(["📚 Related knowledge", *shown])
    return KnowledgeReply(case_id=case_id, heading="📚 Related knowledge", lines=lines, text=text)


def postmortem_filename(case: Case) -> str:
    return f"postmortem-case-{case.id}.md"


class CaseKnowledge:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        knowledge: KnowledgeBase,
        poster: Poster,
        *,
        user_ref: Callable[[str], str] = str,
    ) -> None:
        self.pool = pool
        self.knowledge = knowledge
        self.related = RelatedKnowledge(pool, knowledge)
        self.poster = poster
        self.user_ref = user_ref

    async def show_related(
        self, case: Case, result: Investigation | None, evidence: list[Evidence]
    ) -> list[RelatedItem]:
        """Find what looks like this case; post the documents its thread has not seen yet.
        Returns every close match, for the engine to take into account."""
        items = await self.related.find(case, result, evidence)
        new = await self.related.unseen(case.id, items)
        if new:
            # The key names the documents: a retry of this turn updates the same message.
            ids = "-".join(str(i.document_id) for i in new)
            await self.poster.post_once(
                f"related:{case.id}:{ids}",
                case.channel_id,
                related_reply(case.id, new),
                case.thread_ts,
                case.id,
            )
            await self.related.mark_shown(case.id, new)
        return items

    async def record(self, case: Case, closed_by: str) -> CaseRecord:
        last = await investigation.last_turn(self.pool, case.id)
        return CaseRecord(
            case=case,
            closed_by=closed_by,
            result=last.result if last else None,
            evidence=await evidence_store.list_for_case(self.pool, case.id),
            history=await messages.history(self.pool, case.id, limit=10_000),
            feedback=await investigation.feedback(self.pool, case.id),
        )

    async def closed(self, record: CaseRecord) -> str:
        """Post the postmortem of a closed case to its thread as a Markdown file and store it
        as knowledge (a new version of the case's document when it was closed before)."""
        case = record.case
        markdown = postmortem_markdown(record, user_ref=self.user_ref)
        # Stored first: once the file is in the thread, a search finds the case.
        await self._store(case, markdown, fingerprint(record.result))
        closed_at = case.closed_at or case.updated_at
        upload_key = f"postmortem:{case.id}:{closed_at.isoformat()}"
        if await replies.find(self.pool, upload_key) is None:
            await self.poster.replier.upload(
                case.channel_id,
                case.thread_ts,
                postmortem_filename(case),
                markdown.encode("utf-8"),
                f"Postmortem: case #{case.id}",
            )
            await replies.remember(
                self.pool,
                key=upload_key,
                case_id=case.id,
                channel_id=case.channel_id,
                message_ts=case.thread_ts,
            )
        return markdown

    async def reopened(self, case: Case, reopened_by: str) -> None:
        """Warn whoever finds this case's postmortem that its fix did not hold."""
        record = await self.record(case, case.opened_by)
        note = REOPENED_NOTE.format(at=datetime.now(UTC), who=self.user_ref(reopened_by))
        markdown = note + postmortem_markdown(record, user_ref=self.user_ref)
        await self._store(case, markdown, fingerprint(record.result))

    async def _store(self, case: Case, markdown: str, marks: set[str]) -> None:
        link = await self.poster.replier.link(case.channel_id, case.thread_ts)
        await self.knowledge.add(
            title=f"Case #{case.id}: {case.title}",
            source=case_source(case.id),
            text=markdown,
            tier="case",
            channel_id=case.channel_id,
            tags=["case", "postmortem", *sorted(marks)],
            link=link,
        )
        log.info("case %s stored as knowledge", case.id)
