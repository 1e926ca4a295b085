"""The use cases: open a case, record messages, take evidence, answer, close.

Every function is safe to run twice for the same trigger `key` (a Slack event id, a command's
trigger id): Slack redelivers and arq retries a job whose worker died. Rows are unique per
trigger and replies go through `Poster.post_once`, which updates the message it already posted.
Investigation turns run through `CaseTurns` (engine/cases/turns.py), one per case at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from psycopg_pool import AsyncConnectionPool

from engine.cases.case_knowledge import CaseKnowledge
from engine.cases.closing import CaseClosing
from engine.cases.intake import EvidenceIntake
from engine.cases.knowledge_desk import KnowledgeDesk
from engine.cases.local_runs import LocalCaseRuns
from engine.cases.posting import Poster
from engine.cases.turns import CaseTurns, LookAgain, answer_key
from engine.cases.uploads import CaseEvidence
from engine.core.authz import Authorizer
from engine.core.config import Settings
from engine.core.errors import CaseNotFound
from engine.core.models import (
    Case,
    CaseStats,
    CloseCaseRequest,
    FeedbackRequest,
    FilesRequest,
    MentionRequest,
    MessageRequest,
    OpenCaseRequest,
    ReopenCaseRequest,
    ThreadRef,
)
from engine.core.ports import (
    CaseRunCoalescer,
    FileSource,
    Replier,
    ThreadHistory,
    WorkspaceDirectory,
)
from engine.core.redact import Redactor
from engine.core.replies import (
    CaseOpenedReply,
    EvidenceReply,
    NoticeReply,
    Reply,
)
from engine.evidence.components import canonical
from engine.evidence.reports import Evidence
from engine.investigate.feedback import corrections_in
from engine.investigate.llm import LLM
from engine.investigate.result import Hypothesis, Investigation
from engine.knowledge.base import KnowledgeBase
from engine.knowledge.related import as_next_step
from engine.store import audit, cases, investigation, messages
from engine.store import evidence as evidence_store

log = logging.getLogger(__name__)

DEFAULT_QUESTION = "What do you see so far, and what should we check next?"
THINKING = "Looking into it… (reading the thread and its evidence)"
TITLE_CHARS = 80


def _title_from(text: str) -> str:
    first_line = text.strip().splitlines()[0] if text.strip() else "Untitled case"
    return first_line if len(first_line) <= TITLE_CHARS else first_line[: TITLE_CHARS - 1] + "…"


class CaseService:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        settings: Settings,
        *,
        replier: Replier,
        files: FileSource,
        llm: LLM | None = None,
        user_ref: Callable[[str], str] = str,
        history: ThreadHistory | None = None,
        runs: CaseRunCoalescer | None = None,
        look_again: LookAgain | None = None,
        directory: WorkspaceDirectory | None = None,
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.authz = Authorizer(settings, directory, user_ref=user_ref)
        self.replier = replier
        self.files = files
        self.llm = llm or LLM.from_settings(settings)
        self.user_ref = user_ref
        self.redactor = Redactor(mask_ips=settings.redact_ips)
        self.intake = EvidenceIntake(
            pool,
            files,
            max_file_bytes=settings.max_file_bytes,
            redactor=self.redactor,
            cipher=settings.evidence_cipher(),
        )
        self.history = history
        self.poster = Poster(pool, replier)
        self.evidence = CaseEvidence(pool, self.intake, self.poster)
        self.knowledge = KnowledgeBase(pool, settings)
        self.case_knowledge = CaseKnowledge(pool, self.knowledge, self.poster, user_ref=user_ref)
        self.knowledge_desk = KnowledgeDesk(
            pool, settings, self.knowledge, self.poster, self.authz, files
        )
        self.turns = CaseTurns(
            pool,
            settings,
            poster=self.poster,
            llm=self.llm,
            redactor=self.redactor,
            runs=runs or LocalCaseRuns(),
            look_again=look_again,
            related=self._related_steps,
        )
        self.closing = CaseClosing(
            pool,
            poster=self.poster,
            turns=self.turns,
            knowledge=self.case_knowledge,
            authz=self.authz,
            user_ref=user_ref,
        )

    async def _related_steps(
        self, case: Case, result: Investigation | None, evidence: list[Evidence]
    ) -> list[str]:
        """Show knowledge that looks like the case in its thread; return it as next steps."""
        items = await self.case_knowledge.show_related(case, result, evidence)
        return [as_next_step(item) for item in items]

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
        await self.replier.update(req.channel_id, root_ts, opened)
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
        if case.status == "open" and await self._note_corrections(case, req.text, req):
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

    # --- closing (engine/cases/closing.py) ----------------------------------------------

    async def find_case_to_close(self, channel_id: str, case_id: int | None) -> Case:
        """The case `/close` means: the given id, or the channel's only open case."""
        return await self.closing.find(channel_id, case_id)

    async def check_close(self, case: Case, user: str, *, key: str | None = None) -> None:
        await self.closing.check(case, user, key=key)

    async def close_case(self, req: CloseCaseRequest, *, key: str) -> Reply:
        return await self.closing.close(req, key=key)

    async def reopen_case(self, req: ReopenCaseRequest, *, key: str) -> None:
        await self.closing.reopen(req, key=key)

    # --- reading -----------------------------------------------------------------------

    async def open_cases(
        self, *, channel_id: str | None = None, team_id: str | None = None
    ) -> list[CaseStats]:
        return await cases.stats(
            self.pool, await cases.list_open(self.pool, channel_id=channel_id, team_id=team_id)
        )

    async def recent_resolutions(self, channel_ids: list[str] | None) -> list[Case]:
        return await cases.recently_closed(self.pool, channel_ids=channel_ids)

    async def case_stats(self, case_id: int) -> CaseStats:
        case = await cases.get(self.pool, case_id)
        if case is None:
            raise CaseNotFound(f"There is no case #{case_id}.")
        return (await cases.stats(self.pool, [case]))[0]

    async def case_hypotheses(self, case_id: int) -> list[Hypothesis]:
        """The hypotheses the case summary shows, in its order."""
        last = await investigation.last_turn(self.pool, case_id)
        return last.result.hypotheses if last else []

    async def case_for_thread(self, channel_id: str, thread_ts: str) -> Case | None:
        return await cases.find_by_thread(self.pool, channel_id, thread_ts)
