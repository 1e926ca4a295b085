"""Closing and reopening cases: who may close, the resolution summary (with the buttons that
grade how the case ended, engine/cases/outcomes.py), the postmortem.

Safe to run twice per trigger `key`, like every use case (engine/cases/service.py): the close
summary and reopen notice go through `Poster.post_once`, the postmortem is uploaded once per
close, and a retried close of a case already closed by this very trigger posts nothing new.
"""

from __future__ import annotations

from collections.abc import Callable

from psycopg_pool import AsyncConnectionPool

from engine.cases.case_knowledge import CaseKnowledge, postmortem_filename
from engine.cases.outcomes import CaseOutcomes, prompt_text
from engine.cases.posting import Poster
from engine.cases.refusals import keep_close_refusal
from engine.cases.turns import CaseTurns, summary_key
from engine.core.authz import Authorizer, NotAllowed
from engine.core.errors import AmbiguousCase, CaseNotFound
from engine.core.models import Case, CloseCaseRequest, ReopenCaseRequest
from engine.core.replies import CaseClosedReply, NoticeReply, Reply
from engine.investigate.resolution import resolution_summary
from engine.store import audit, cases, replies

CASE_REOPEN = "case.reopen"


class CaseClosing:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        *,
        poster: Poster,
        turns: CaseTurns,
        knowledge: CaseKnowledge,
        authz: Authorizer,
        user_ref: Callable[[str], str] = str,
    ) -> None:
        self.pool = pool
        self.poster = poster
        self.turns = turns
        self.case_knowledge = knowledge
        self.authz = authz
        self.user_ref = user_ref
        self.outcomes = CaseOutcomes(pool)

    async def find(self, channel_id: str, case_id: int | None) -> Case:
        """The case `/close` means: the given id, or the channel's only open case."""
        if case_id is not None:
            case = await cases.get(self.pool, case_id)
            if case is None or case.channel_id != channel_id:
                raise _not_in_channel(case_id)
            if case.status != "open":
                raise CaseNotFound(f"Case #{case_id} is already {case.status}.")
            return case
        open_cases = await cases.list_open(self.pool, channel_id=channel_id)
        if not open_cases:
            raise CaseNotFound(
                "There is no open case in this channel, so there is nothing to close."
            )
        if len(open_cases) > 1:
            listing = ", ".join(f"#{c.id} {c.title}" for c in open_cases[:10])
            raise AmbiguousCase(
                f"There are {len(open_cases)} open cases here: {listing}. "
                "Say which one, e.g. `close #{0} <resolution>`.".format(open_cases[0].id),
                [c.id for c in open_cases],
            )
        return open_cases[0]

    async def check(self, case: Case, user: str, *, key: str | None = None) -> None:
        """Raise NotAllowed, kept in the audit log, unless `user` may close `case`
        (FAULTMAVEN_CLOSE_POLICY)."""
        try:
            await self.authz.check_close(case, user, await audit.participants(self.pool, case.id))
        except NotAllowed as denied:
            await keep_close_refusal(
                self.pool, case, user, denied, policy=self.authz.close_policy, key=key
            )
            raise

    async def close(self, req: CloseCaseRequest, *, key: str) -> Reply:
        if (case := await cases.get(self.pool, req.case_id)) is not None:
            await self.check(case, req.user, key=key)  # the command checked too
        closed = await cases.close(
            self.pool, req.case_id, resolution=req.resolution.strip(), closed_by=req.user
        )
        if closed is None:
            case = await cases.get(self.pool, req.case_id)
            if case is None:
                raise CaseNotFound(f"There is no case #{req.case_id}.")
            if await replies.find(self.pool, f"close:{key}") is None:
                return NoticeReply(text=f"Case #{case.id} was already {case.status}.")
            closed = case  # a retry of this very close: post the same summary again
        # One read of the case serves the resolution summary, the pinned summary and the
        # postmortem.
        record = await self.case_knowledge.record(closed, req.user)
        outcome = await self.outcomes.prompt(closed, record.result)
        summary = CaseClosedReply(
            case_id=closed.id,
            title=closed.title,
            text=resolution_summary(
                closed,
                closed_by=req.user,
                history=record.history,
                evidence=record.evidence,
                user_ref=self.user_ref,
            )
            + f"\n📝 Postmortem: {postmortem_filename(closed)} below. It is saved as knowledge, "
            "so the next case that looks like this one will find it."
            + (f"\n{prompt_text(outcome)}" if outcome else ""),
            outcome=outcome,
        )
        await self.poster.post_once(
            f"close:{key}", closed.channel_id, summary, closed.thread_ts, closed.id
        )
        if await replies.find(self.pool, summary_key(closed.id)) is not None:
            await self.turns.show_summary(closed, record.result)
        await self.case_knowledge.closed(record)
        return summary

    async def find_to_reopen(self, channel_id: str, case_id: int) -> Case:
        """The case `/reopen #id` means: one of this channel's, not open."""
        case = await cases.get(self.pool, case_id)
        if case is None:
            raise _no_such_case(case_id)
        if case.channel_id != channel_id:
            raise _not_in_channel(case_id)
        if case.status == "open":
            raise _already_open(case_id)
        return case

    async def reopen(self, req: ReopenCaseRequest, *, key: str) -> None:
        """Open a resolved case again: its thread hears so, its stored postmortem is marked
        as not having held, and a turn re-plans from the evidence."""
        case = await cases.reopen(self.pool, req.case_id, reopened_by=req.user)
        if case is None:
            case = await cases.get(self.pool, req.case_id)
            if case is None:
                raise _no_such_case(req.case_id)
            if await replies.find(self.pool, f"reopen:{key}") is None:
                raise _already_open(case.id)  # else a retry of this very reopen: go on
        notice = NoticeReply(
            text=f"🔁 Case #{case.id} reopened by {self.user_ref(req.user)}"
            + (f": {req.reason.strip().rstrip('.')}." if req.reason.strip() else ".")
            + " Its postmortem is marked as not having held."
        )
        await self.poster.post_once(
            f"reopen:{key}", case.channel_id, notice, case.thread_ts, case.id
        )
        await audit.record(
            self.pool,
            actor=req.user,
            action=CASE_REOPEN,
            case_id=case.id,
            detail={"reason": req.reason},
            team_id=case.team_id,
            key=f"{CASE_REOPEN}:{key}",
        )
        await self.case_knowledge.reopened(case, req.user)
        await self.turns.request(case)


# Why a case cannot be closed or reopened: said before the command's ack, and again by the
# job when the case changed meanwhile.
def _not_in_channel(case_id: int) -> CaseNotFound:
    return CaseNotFound(f"There is no case #{case_id} in this channel.")


def _no_such_case(case_id: int) -> CaseNotFound:
    return CaseNotFound(f"There is no case #{case_id}.")


def _already_open(case_id: int) -> CaseNotFound:
    return CaseNotFound(f"Case #{case_id} is already open.")
