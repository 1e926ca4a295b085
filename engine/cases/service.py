"""CaseService: the one door to the use cases, for chat surfaces, jobs and the shell.

A facade: each method hands its request to the use-case module that does the work (the
thread, closing, turns, knowledge, scheduled work, refusals), so callers never reach into
the database pool or the modules behind it. Every use case taking a trigger `key` (a Slack
event id, a command's trigger id) is safe to run twice for it: Slack redelivers and arq
retries a job whose worker died.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from psycopg_pool import AsyncConnectionPool

from engine.cases import digest, refusals, reminders, retention
from engine.cases.accuracy import AccuracyStats
from engine.cases.accuracy import accuracy as team_accuracy
from engine.cases.case_knowledge import CaseKnowledge
from engine.cases.case_tools import CaseTools
from engine.cases.checking import CaseChecks
from engine.cases.closing import CaseClosing
from engine.cases.conversation import CaseConversation
from engine.cases.intake import EvidenceIntake
from engine.cases.knowledge_desk import KnowledgeDesk
from engine.cases.local_runs import LocalCaseRuns
from engine.cases.posting import Poster
from engine.cases.source_query import SourceQueries, SourceQueryRequest
from engine.cases.sources_view import describe_sources
from engine.cases.turns import CaseTurns, DrainRequest, LookAgain
from engine.cases.uploads import CaseEvidence
from engine.core.authz import Authorizer, NotAllowed
from engine.core.config import Settings
from engine.core.errors import CaseNotFound
from engine.core.models import (
    Case,
    CaseStats,
    ChannelRequest,
    CloseCaseRequest,
    FeedbackRequest,
    FilesRequest,
    KnowledgeAddRequest,
    KnowledgeSearchRequest,
    KnowledgeVoteRequest,
    MentionRequest,
    MessageRequest,
    OpenCaseRequest,
    OutcomeRequest,
    ReopenCaseRequest,
    RunCheckRequest,
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
    EvidenceReply,
    KnowledgeReply,
    NoticeReply,
    Reply,
)
from engine.evidence.isolated import ReadLimits
from engine.evidence.reports import Evidence
from engine.investigate.excerpts import KnowledgeLead
from engine.investigate.llm import LLM
from engine.investigate.result import Hypothesis, Investigation
from engine.knowledge.base import KnowledgeBase, KnowledgeStats
from engine.knowledge.related import as_next_step
from engine.store import cases, investigation
from engine.tools.sources import load_sources


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
            read_limits=ReadLimits.from_settings(settings),
        )
        self.poster = Poster(pool, replier)
        self.evidence = CaseEvidence(
            pool, self.intake, self.poster, parallel_reads=settings.parallel_reads
        )
        self.knowledge = KnowledgeBase(pool, settings)
        self.case_knowledge = CaseKnowledge(pool, self.knowledge, self.poster, user_ref=user_ref)
        self.knowledge_desk = KnowledgeDesk(
            pool, settings, self.knowledge, self.poster, self.authz, files
        )
        self.sources = load_sources(settings.sources_file)
        self.tools = CaseTools(
            pool,
            sources=self.sources,
            intake=self.intake,
            redactor=self.redactor,
            knowledge=self.knowledge,
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
            cipher=self.intake.cipher,
            tools=self.tools,
        )
        self.checks = CaseChecks(
            pool,
            tools=self.tools,
            poster=self.poster,
            turns=self.turns,
            user_ref=user_ref,
            auto=settings.auto_checks,
        )
        self.turns.after_turn = self.checks.run_safe_checks
        self.source_queries = SourceQueries(pool, tools=self.tools, poster=self.poster)
        self.closing = CaseClosing(
            pool,
            poster=self.poster,
            turns=self.turns,
            knowledge=self.case_knowledge,
            authz=self.authz,
            user_ref=user_ref,
        )
        self.conversation = CaseConversation(
            pool,
            poster=self.poster,
            evidence=self.evidence,
            turns=self.turns,
            case_knowledge=self.case_knowledge,
            llm=self.llm,
            user_ref=user_ref,
            history=history,
        )

    async def _related_steps(
        self, case: Case, result: Investigation | None, evidence: list[Evidence]
    ) -> list[str]:
        """Show knowledge that looks like the case in its thread; return it as next steps,
        each carrying its section's text for the LLM's prompt."""
        items = await self.case_knowledge.show_related(case, result, evidence)
        return [
            KnowledgeLead(as_next_step(item), kind=item.kind, name=item.title, text=item.text)
            for item in items
        ]

    # --- the thread (engine/cases/conversation.py) ------------------------------------

    async def open_case(self, req: OpenCaseRequest, *, key: str) -> Case:
        """Post a case root message in the channel; its thread is the case."""
        return await self.conversation.open_case(req, key=key)

    async def start_case(self, thread: ThreadRef, *, title: str, user: str) -> Case:
        """The case of a thread, opened now if it has none (a mention, or the shell's /open)."""
        return await self.conversation.start_case(thread, title=title, user=user)

    async def record_message(self, req: MessageRequest) -> bool:
        """Record a thread message as case history; False when the thread is not a case."""
        return await self.conversation.record_message(req)

    async def check_feedback(self, req: FeedbackRequest) -> Case:
        """The case a Confirm / Rule out applies to; a clear error when it cannot apply."""
        return await self.conversation.check_feedback(req)

    async def record_feedback(self, req: FeedbackRequest, *, key: str) -> None:
        await self.conversation.record_feedback(req, key=key)

    async def describe_sources(self, channel_id: str, channel_name: str | None) -> str:
        return await describe_sources(self.sources, channel_id, channel_name)

    async def check_source_query(self, req: SourceQueryRequest) -> None:
        """Raises with a clear, audited refusal when the query cannot run here."""
        await self.source_queries.check(req)

    async def query_source(self, req: SourceQueryRequest, *, key: str) -> None:
        await self.source_queries.run(req, key=key)

    async def check_run_check(self, req: RunCheckRequest) -> None:
        await self.checks.check_request(req)

    async def run_check(self, req: RunCheckRequest, *, key: str) -> None:
        await self.checks.run_check(req, key=key)

    async def answer_mention(self, req: MentionRequest, *, key: str) -> None:
        await self.conversation.answer_mention(req, key=key)

    async def add_files(self, req: FilesRequest, *, key: str) -> EvidenceReply | None:
        """Take files shared in a case thread; None when the thread is not a case."""
        return await self.conversation.add_files(req, key=key)

    async def tell(self, thread: ThreadRef, reply: Reply) -> None:
        """Post `reply` in a thread, outside any use case (a job that gave up says so)."""
        await self.replier.post(thread.channel_id, reply, thread.thread_ts)

    # --- closing (engine/cases/closing.py) ----------------------------------------------

    async def find_case_to_close(self, channel_id: str, case_id: int | None) -> Case:
        """The case `/close` means: the given id, or the channel's only open case."""
        return await self.closing.find(channel_id, case_id)

    async def case_to_close(
        self, channel_id: str, case_id: int | None, user: str, *, key: str
    ) -> Case:
        """The case `/close` means, once `user` may close it (a refusal is audited)."""
        case = await self.closing.find(channel_id, case_id)
        await self.closing.check(case, user, key=key)
        return case

    async def close_case(self, req: CloseCaseRequest, *, key: str) -> Reply:
        return await self.closing.close(req, key=key)

    async def find_case_to_reopen(self, channel_id: str, case_id: int) -> Case:
        """The case `/reopen #id` means: one of this channel's, not open."""
        return await self.closing.find_to_reopen(channel_id, case_id)

    async def reopen_case(self, req: ReopenCaseRequest, *, key: str) -> None:
        await self.closing.reopen(req, key=key)

    # --- turns (engine/cases/turns.py) ------------------------------------------------

    async def drain_case(self, req: DrainRequest) -> int:
        """Run the case's pending turns; how many ran."""
        return await self.turns.drain(req.case_id)

    # --- knowledge from chat (engine/cases/knowledge_desk.py) -------------------------

    async def search_knowledge(self, req: KnowledgeSearchRequest) -> KnowledgeReply:
        return await self.knowledge_desk.search(req)

    async def check_knowledge_add(self, req: KnowledgeAddRequest) -> None:
        """NotAllowed now, before the work is queued, when the tier is not the user's to add to."""
        await self.knowledge_desk.check(req)

    async def add_knowledge(self, req: KnowledgeAddRequest, *, key: str) -> NoticeReply:
        return await self.knowledge_desk.add(req, key=key)

    async def vote_on_knowledge(self, req: KnowledgeVoteRequest) -> str:
        return await self.knowledge_desk.vote(req)

    async def knowledge_stats(self) -> KnowledgeStats:
        return await self.knowledge.stats()

    async def prepare_knowledge(self) -> None:
        """Starter runbooks and re-embedding, at a process's start."""
        await self.knowledge.prepare()

    # --- scheduled work (engine/worker/scheduler.py finds it due) ----------------------

    async def remind_stale_case(
        self, req: reminders.ReminderRequest, *, now: datetime | None = None
    ) -> bool:
        return await reminders.remind(
            self.pool,
            self.poster,
            req,
            now=now or datetime.now(UTC),
            stale_after_h=self.settings.stale_after_h,
        )

    async def post_digest(self, req: digest.DigestRequest, *, now: datetime | None = None) -> bool:
        return await digest.post(self.pool, self.poster, req, now=now or datetime.now(UTC))

    async def purge_old_evidence(
        self, req: retention.RetentionRequest, *, now: datetime | None = None
    ) -> int:
        days = self.settings.evidence_retention_days
        return await retention.purge(self.pool, now=now or datetime.now(UTC), days=days)

    async def digest_status(self, channel_id: str) -> str:
        hour = self.settings.digest_hour_utc
        return await digest.status(self.pool, channel_id=channel_id, hour_utc=hour)

    async def set_digest(self, *, channel_id: str, team_id: str, user: str, on: bool) -> str:
        """`/faultmaven digest on|off`; what to tell the person who asked."""
        return await digest.subscribe(
            self.pool,
            channel_id=channel_id,
            team_id=team_id,
            user=user,
            on=on,
            hour_utc=self.settings.digest_hour_utc,
        )

    # --- who may act where (engine/core/authz.py decides, engine/cases/refusals.py keeps) --

    def channel_refusal(self, channel_id: str) -> NotAllowed | None:
        """Why FaultMaven may not act in the channel; None when it may. No I/O."""
        return self.authz.channel_refusal(channel_id)

    async def keep_channel_refusal(self, req: ChannelRequest) -> bool:
        """Audit a refused request; True the first time it is seen (so it is still to be said)."""
        return await refusals.keep_channel_refusal(self.pool, req)

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

    # --- how cases ended (engine/cases/outcomes.py, accuracy.py) ----------------------

    async def record_outcome(self, req: OutcomeRequest) -> str:
        """A grade or "it helped" click on a closed case's summary; what to tell the clicker."""
        return await self.closing.outcomes.record(req)

    async def closing_lead(self, case_id: int) -> Hypothesis | None:
        """The hypothesis a closed case's grade is about: the one it closed on."""
        return await self.closing.outcomes.closing_lead(case_id)

    async def accuracy(self, team_id: str | None) -> AccuracyStats:
        """How right the engine was on the team's graded closed cases (None: every team)."""
        return await team_accuracy(self.pool, team_id)
