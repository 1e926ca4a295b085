"""Run investigation turns of a case, one at a time, and show them in its thread.

Any input (a question, files, feedback) calls `request(case)`: the input is already stored,
the coalescer notes it and runs turns until every noted input was seen. A turn that arrives
while another worker runs the case returns at once; that worker's next turn reads it.

A turn answers before it saves: answers are keyed by the question, so a worker that dies after
answering and before saving is retried into updating the same messages, and the saved turn is
what marks the questions as answered. The summary is updated after the save, so its buttons
never name a hypothesis the database does not have yet.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from engine.cases.case_tools import CaseTools
from engine.cases.live_checks import with_check_labels
from engine.cases.posting import Poster
from engine.cases.summary import case_summary
from engine.core.config import Settings
from engine.core.crypto import EvidenceCipher
from engine.core.models import Case, Message
from engine.core.ports import CaseRunCoalescer
from engine.core.redact import Redactor
from engine.core.replies import AnswerReply, NoticeReply
from engine.evidence.reports import Evidence
from engine.investigate.llm import LLM
from engine.investigate.result import Investigation
from engine.investigate.turn import TurnInput, TurnOutcome, run_turn
from engine.ops import log_setup, prometheus
from engine.store import cases, check_runs, messages, outcomes
from engine.store import evidence as evidence_store
from engine.store import investigation as store

log = logging.getLogger(__name__)

# Schedules another drain of a case after a delay (a deferred job in Slack mode).
LookAgain = Callable[[int, float], Awaitable[None]]
# Finds (and shows in the thread) knowledge that looks like the case: one line per document.
FindRelated = Callable[[Case, Investigation | None, list[Evidence]], Awaitable[list[str]]]


# Runs after a turn is saved and shown (the auto checks), with the case and the turn's result.
AfterTurn = Callable[[Case, Investigation], Awaitable[object]]


class DrainRequest(BaseModel):
    """Run a case's pending turns: a second look at a case whose run was held by a worker
    that may have died (`LookAgain` schedules it)."""

    case_id: int


def summary_key(case_id: int) -> str:
    return f"summary:{case_id}"


def answer_key(case_id: int, question_ts: str) -> str:
    return f"answer:{case_id}:{question_ts}"


class CaseTurns:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        settings: Settings,
        *,
        poster: Poster,
        llm: LLM,
        redactor: Redactor,
        runs: CaseRunCoalescer,
        look_again: LookAgain | None = None,
        related: FindRelated | None = None,
        cipher: EvidenceCipher | None = None,
        tools: CaseTools | None = None,
        after_turn: AfterTurn | None = None,
    ) -> None:
        self.after_turn = after_turn  # e.g. a case's safe live checks, run on their own
        self.pool = pool
        self.tools = tools  # what a model may run to look closer: files, live sources
        self.related = related
        self.cipher = cipher  # opens stored file content, which grounds a model's citations
        self.settings = settings
        self.poster = poster
        self.llm = llm
        self.redactor = redactor
        self.runs = runs
        self.look_again = look_again

    async def request(self, case: Case) -> int:
        """Note new input of a case and run its turns here unless another worker is at it."""
        await self.runs.request(case.id)
        return await self.drain(case.id)

    async def drain(self, case_id: int) -> int:
        """Run the case's pending turns. With a scheduler (`look_again`), run one and make sure
        someone looks again: at once for input left pending, or when another holder's lock
        would expire, in case that worker died mid-run."""
        if self.look_again is None:  # one process (the shell): run until nothing is pending
            return await self.runs.drain(case_id, lambda: self.turn(case_id))
        # In a job: one turn, so the job ends within its time limit (arq does not retry a job
        # that ran out of time); input that came meanwhile gets a job of its own.
        ran = await self.runs.drain(case_id, lambda: self.turn(case_id), max_runs=1)
        delay = await self.runs.look_again_in(case_id)
        if delay is not None:
            await self.look_again(case_id, delay)
        return ran

    async def show_summary(
        self,
        case: Case,
        result: Investigation | None,
        *,
        footer: str = "",
        status: str | None = None,
    ) -> None:
        """Post the case summary the first time (and pin it), update it in place after."""
        reply = case_summary(case, result, footer=footer, status=status)
        ts, posted_now = await self.poster.post_once(
            summary_key(case.id), case.channel_id, reply, case.thread_ts, case.id
        )
        if posted_now:
            await self.pin(case, ts)

    async def pin(self, case: Case, ts: str) -> None:
        # A missing pins:write scope must not cost the investigation: the summary is there.
        try:
            await self.poster.replier.pin(case.channel_id, ts)
        except Exception as exc:
            log.warning("could not pin the summary of case %s: %s", case.id, exc)

    async def turn(self, case_id: int) -> None:
        log_setup.bind(case_id=case_id)
        case = await cases.get(self.pool, case_id)
        if case is None or case.status != "open":
            return
        previous = await store.last_turn(self.pool, case_id)
        started = datetime.now(UTC)
        given = TurnInput(
            case=case,
            history=await messages.history(self.pool, case_id, limit=self.settings.history_limit),
            evidence=await evidence_store.list_for_case(self.pool, case_id),
            feedback=await store.feedback(self.pool, case_id),
            known=await store.hypotheses(self.pool, case_id),
            questions=await messages.unanswered_questions(self.pool, case_id),
            previous=previous.result if previous else None,
            previous_engine=previous.engine if previous else None,
            read_file=self._content,
            calibration=await outcomes.calibration(self.pool, case.team_id),
            checks=await check_runs.for_case(self.pool, case_id),
        )
        if self.llm.calls_tools and self.tools is not None:
            given.toolbox = await self.tools.toolbox(case, given.evidence, self._content)
        shown = previous.result if previous else None

        async def progress(status: str) -> None:
            # Progress is a courtesy: a chat hiccup here must not cost the turn itself.
            try:
                await self.show_summary(case, shown, status=status)
            except Exception as exc:
                log.warning("case %s: progress not shown (%s)", case_id, exc)

        outcome = await run_turn(
            given,
            llm=self.llm,
            redactor=self.redactor,
            deadline_s=self.settings.llm_deadline_s,
            budget_tokens=self.settings.prompt_budget_tokens,
            progress=progress,
            related=lambda result: self._related(case, result, given.evidence),
        )
        if self.tools is not None:
            outcome.result = with_check_labels(outcome.result, self.tools.planner(case))
        number = previous.number + 1 if previous else 1
        await self._tell(case, given.questions, outcome, shown, news_key=f"news:{case_id}:{number}")
        await store.save_turn(
            self.pool,
            store.TurnRecord(
                case_id=case_id,
                number=number,
                engine=outcome.engine,
                model=outcome.model,
                response_type=outcome.result.response_type,
                phase=outcome.result.phase,
                last_message_id=max((m.id for m in given.history), default=0),
                evidence_count=len(given.evidence),
                prompt_tokens=outcome.prompt_tokens,
                completion_tokens=outcome.completion_tokens,
                full_history_tokens=outcome.full_history_tokens,
                result=outcome.result,
                started_at=started,
            ),
            phase_reason=outcome.phase.reason,
            answered=[q.id for q in given.questions],
        )
        prometheus.turn_saved(outcome.engine, outcome.result.phase)
        # Buttons appear only once their hypotheses are saved, so a click right away is taken.
        # The case is read again: someone may have closed it while the turn ran, and the
        # summary must then say resolved, not the phase this turn started from.
        now = await cases.get(self.pool, case_id) or case
        await self.show_summary(now, outcome.result, footer=outcome.footer)
        if self.after_turn is not None:
            await self.after_turn(now, outcome.result)

    async def _content(self, item: Evidence) -> bytes | None:
        return await evidence_store.content_of(self.pool, item.id, self.cipher)

    async def _related(
        self, case: Case, result: Investigation | None, evidence: list[Evidence]
    ) -> list[str]:
        # Knowledge is a help, not a step the turn depends on: a failure costs only the hint.
        if self.related is None:
            return []
        try:
            return await self.related(case, result, evidence)
        except Exception:
            log.exception("case %s: related knowledge not looked up", case.id)
            return []

    async def _tell(
        self,
        case: Case,
        questions: list[Message],
        outcome: TurnOutcome,
        before: Investigation | None,
        *,
        news_key: str,
    ) -> None:
        """Answer the questions of this turn, or say what changed when nobody asked."""
        if questions:
            for earlier in questions[:-1]:
                await self._close_placeholder(case, earlier)
            await self._answer(case, questions[-1], outcome)
            return
        news = _news(before, outcome)
        if news:
            notice = NoticeReply(text=news)
            await self.poster.post_once(news_key, case.channel_id, notice, case.thread_ts, case.id)

    async def _answer(self, case: Case, question: Message, outcome: TurnOutcome) -> None:
        answer = AnswerReply(
            case_id=case.id,
            text=outcome.answer,
            engine=outcome.engine,
            model=outcome.model,
            next_steps=outcome.result.next_steps,
            footer=outcome.footer,
        )
        ts, _ = await self.poster.post_once(
            answer_key(case.id, question.ts), case.channel_id, answer, case.thread_ts, case.id
        )
        await messages.record(
            self.pool,
            case_id=case.id,
            ts=ts,
            author="faultmaven",
            role="assistant",
            text=outcome.answer,
        )

    async def _close_placeholder(self, case: Case, question: Message) -> None:
        """Questions asked during a run get one answer, to the latest; tell the others."""
        note = NoticeReply(text="↪️ Answered below, together with a later question.")
        await self.poster.post_once(
            answer_key(case.id, question.ts), case.channel_id, note, case.thread_ts, case.id
        )


def _news(before: Investigation | None, outcome: TurnOutcome) -> str | None:
    """A short thread reply when the phase or the leading hypothesis changed."""
    result = outcome.result
    live = [h for h in result.hypotheses if h.status != "ruled_out"]
    old_live = [h for h in (before.hypotheses if before else []) if h.status != "ruled_out"]
    if before is not None and before.phase != result.phase:
        return f"📍 Now {result.phase}: {outcome.phase.reason}."
    if live and (not old_live or old_live[0].id != live[0].id) and live[0].confidence > 0.1:
        return f"🔎 New leading hypothesis: {live[0].statement} ({live[0].confidence:.0%})."
    return None
