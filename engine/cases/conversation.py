"""What people do in a case's thread: open the case, write, ask, share files, judge
hypotheses.

Every method is safe to run twice for the same trigger `key` (a Slack event id, a command's
trigger id): Slack redelivers and arq retries a job whose worker died. Rows are unique per
trigger and replies go through `Poster.post_once`, which updates the message it already
posted. New input asks `CaseTurns` (engine/cases/turns.py) for a turn, one per case at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from psycopg_pool import AsyncConnectionPool

from engine.cases.case_knowledge import CaseKnowledge
from engine.cases.posting import Poster
from engine.cases.turns import CaseTurns, answer_key
from engine.cases.uploads import CaseEvidence
from engine.core.errors import CaseNotFound
from engine.core.models import (
    Case,
    FeedbackRequest,
    FilesRequest,
    MentionRequest,
    MessageRequest,
    OpenCaseRequest,
    ThreadRef,
)
from engine.core.ports import ThreadHistory
from engine.core.replies import CaseOpenedReply, EvidenceReply, NoticeReply
from engine.evidence.components import canonical
from engine.investigate.feedback import corrections_in
from engine.investigate.llm import LLM
from engine.store import audit, cases, investigation, messages
from engine.store import evidence as evidence_store

log = logging.getLogger(__name__)

DEFAULT_QUESTION = "What do you see so far, and what should we check next?"
THINKING = "Looking into it… (reading the thread and its evidence)"
TITLE_CHARS = 80


def _title_from(text: str) -> str:
    first_line = text.strip().splitlines()[0] if text.strip() else "Untitled case"
    return first_line if len(first_line) <= TITLE_CHARS else first_line[: TITLE_CHARS - 1] + "…"


class CaseConversation:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        *,
        poster: Poster,
        evidence: CaseEvidence,
        turns: CaseTurns,
        case_knowledge: CaseKnowledge,
        llm: LLM,
        user_ref: Callable[[str], str] = str,
        history: ThreadHistory | None = None,
    ) -> None:
        self.pool = pool
        self.poster = poster
        self.evidence = evidence
        self.turns = turns
        self.case_knowledge = case_knowledge
        self.llm = llm
        self.user_ref = user_ref
        self.history = history

    # --- opening -----------------------------------------------------------------------

    async def open_case(self, req: OpenCaseRequest, *, key: str) -> Case:
        """Post a case root message in the channel; its thread is the case."""
        title = _title_from(req.title) if req.title.strip() else "Untitled case"
        opened = CaseOpenedReply(
            case_id=0,
            title=title,
            opened_by=req.user,
            text=f"*New case:* {title}\nOpened by {self.user_ref(req.user)}. Reply in this thread; "
            "upload logs here and mention me with questions.",
        )
        root_ts, _ = await self.poster.post_once(f"open:{key}", req.channel_id, opened)
        case, _ = await cases.get_or_create(
            self.pool,
            team_id=req.team_id,
            channel_id=req.channel_id,
            thread_ts=root_ts,
            title=title,
            opened_by=req.user,
        )
        await audit.case_opened(self.pool, case)
        # Now that the case has an id, show it on the root message people will refer to.
        opened = opened.model_copy(
            update={
                "case_id": case.id,
                "text": opened.text.replace("*New case:*", f"*Case #{case.id}:*"),
            }
        )
        await self.poster.replier.update(req.channel_id, root_ts, opened)
        # No turn runs before the first question or file, but what the title alone recalls
        # (a past case, a runbook) is worth showing at once.
        try:
            await self.case_knowledge.show_related(case, None, [])
        except Exception:
            log.exception("case %s: related knowledge not looked up at open", case.id)
        return case

    async def start_case(self, thread: ThreadRef, *, title: str, user: str) -> Case:
        """The case of a thread, opened now if it has none (a mention, or the shell's /open)."""
        case, created = await cases.get_or_create(
            self.pool,
            team_id=thread.team_id,
            channel_id=thread.channel_id,
            thread_ts=thread.thread_ts,
            title=_title_from(title),
            opened_by=user,
        )
        if created:
            log.info(
                "opened case %s for thread %s/%s", case.id, thread.channel_id, thread.thread_ts
            )
            await audit.case_opened(self.pool, case)
        return case

    async def _read_earlier_thread(self, case: Case, mention_ts: str, *, key: str) -> None:
        """Take in what people said and shared in the thread before mentioning the bot.

        A case opened mid-thread then starts from the discussion so far. Only for a case with
        no history yet: once a case exists, its thread's messages and files reach it as they
        are posted, and reading the whole thread again at every mention would cost a long
        case one insert per message per mention. Safe to repeat: messages are unique per ts
        and only files not yet stored are taken.
        """
        if self.history is None or case.thread_ts == mention_ts:
            return
        if await messages.has_any(self.pool, case.id):
            return
        earlier = [
            m
            for m in await self.history.thread_messages(case.channel_id, case.thread_ts)
            if m.ts != mention_ts
        ]
        for m in earlier:
            if m.text.strip():
                await messages.record(
                    self.pool, case_id=case.id, ts=m.ts, author=m.user, role="user", text=m.text
                )
        files = [
            f
            for m in earlier
            for f in m.files
            if await evidence_store.find(self.pool, case.id, f.source_id) is None
        ]
        if files:
            await self.evidence.take(case, files, key=f"{key}:earlier")
            for m in earlier:
                if shared := [f for f in m.files if f in files]:
                    await audit.evidence_added(
                        self.pool, case, m.user, shared, key=f"{key}:earlier:{m.ts}"
                    )

    # --- conversation ------------------------------------------------------------------

    async def record_message(self, req: MessageRequest) -> bool:
        """Record a thread message as case history; False when the thread is not a case."""
        case = await cases.find_by_thread(self.pool, req.thread.channel_id, req.thread.thread_ts)
        if case is None:
            return False
        await messages.record(
            self.pool, case_id=case.id, ts=req.ts, author=req.user, role="user", text=req.text
        )
        if case.status != "open":
            return True
        pasted = await self.evidence.take_pasted(case, req.text, req.ts)
        if await self._note_corrections(case, req.text, req) or pasted:
            await self.turns.request(case)
        return True

    async def _note_corrections(self, case: Case, text: str, req: MessageRequest) -> bool:
        """Keep a message that corrects the investigation ("already checked DNS") as feedback;
        True when it was new, so the next turn takes it into account."""
        known = await investigation.hypotheses(self.pool, case.id)
        components = {canonical(h.component) for h in known if h.component}
        if not corrections_in(text, components):
            return False
        # False for a redelivered message: its correction was kept and acted on already.
        return await investigation.record_feedback(
            self.pool,
            case_id=case.id,
            key=f"note:{case.id}:{req.ts}",
            kind="note",
            author=self.user_ref(req.user),
            text=text,
        )

    async def check_feedback(self, req: FeedbackRequest) -> Case:
        """The case a Confirm / Rule out applies to; a clear error when it cannot apply."""
        case = await cases.get(self.pool, req.case_id)
        if case is None:
            raise CaseNotFound(f"There is no case #{req.case_id}.")
        if case.status != "open":
            raise CaseNotFound(f"Case #{case.id} is {case.status}; its hypotheses are final.")
        known = {h.id for h in await investigation.hypotheses(self.pool, case.id)}
        if req.hypothesis_key not in known:
            raise CaseNotFound(f"That hypothesis is no longer part of case #{case.id}.")
        return case

    async def record_feedback(self, req: FeedbackRequest, *, key: str) -> None:
        """A Confirm / Rule out button: keep it, then let the next turn re-plan with it."""
        case = await self.check_feedback(req)
        await investigation.record_feedback(
            self.pool,
            case_id=case.id,
            key=f"feedback:{key}",
            kind=req.kind,
            author=self.user_ref(req.user),
            hypothesis_key=req.hypothesis_key,
        )
        await self.turns.request(case)

    async def answer_mention(self, req: MentionRequest, *, key: str) -> None:
        """Open or continue the thread's case, take any attached files, and run a turn that
        answers the question (or let the worker running the case answer it next)."""
        case = await self.start_case(req.thread, title=req.text or "Untitled case", user=req.user)
        await self._read_earlier_thread(case, req.ts, key=key)
        await messages.record(
            self.pool,
            case_id=case.id,
            ts=req.ts,
            author=req.user,
            role="user",
            text=req.text or DEFAULT_QUESTION,
            asks=True,
        )
        await self._note_corrections(case, req.text, req)
        if req.files:
            await self.evidence.take(case, req.files, key=key)
        if self.llm.configured:
            # An LLM may take a while: show that the question was heard. The answer replaces
            # this message, and a retried job updates it instead of posting again.
            await self.poster.post_once(
                answer_key(case.id, req.ts),
                case.channel_id,
                NoticeReply(text=THINKING),
                case.thread_ts,
                case.id,
            )
        await self.turns.request(case)

    # --- evidence ----------------------------------------------------------------------

    async def add_files(self, req: FilesRequest, *, key: str) -> EvidenceReply | None:
        """Take files shared in a case thread; None when the thread is not a case."""
        case = await cases.find_by_thread(self.pool, req.thread.channel_id, req.thread.thread_ts)
        if case is None:
            return None
        if req.text.strip():
            await messages.record(
                self.pool, case_id=case.id, ts=req.ts, author=req.user, role="user", text=req.text
            )
        reply = await self.evidence.take(case, req.files, key=key)
        await audit.evidence_added(self.pool, case, req.user, req.files, key=key)
        if reply.accepted and case.status == "open":
            await self.turns.request(case)
        return reply
