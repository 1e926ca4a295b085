"""Run check: a hypothesis's live check, run when a person clicks the button on the case
summary (or on its own when a case opens, if FAULTMAVEN_AUTO_CHECKS is on).

The run goes through the case's registry (validated, time-limited, capped, masked, audited),
its answer and exact query are posted in the thread, its verdict is kept (check_runs) and
the next turn applies it: supported confirms the hypothesis, contradicted weakens it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from psycopg_pool import AsyncConnectionPool

from engine.cases.case_tools import CaseTools
from engine.cases.live_checks import PlannedCheck, run_planned
from engine.cases.posting import Poster
from engine.cases.turns import CaseTurns
from engine.core.errors import CaseNotFound
from engine.core.models import Case, RunCheckRequest
from engine.core.replies import NoticeReply
from engine.core.tool_runs import CheckResult, CheckVerdict
from engine.investigate.result import Hypothesis, Investigation
from engine.store import cases, check_runs, investigation

log = logging.getLogger(__name__)

REASONER = "reasoner"
OUTPUT_KEPT_CHARS = 4_000
VERDICT_WORDS: dict[CheckVerdict, str] = {
    "supports": "✅ supports the hypothesis",
    "contradicts": "❌ speaks against the hypothesis",
    "unclear": "➖ says nothing either way",
}


class CaseChecks:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        *,
        tools: CaseTools,
        poster: Poster,
        turns: CaseTurns,
        user_ref: Callable[[str], str] = str,
        auto: bool = False,
    ) -> None:
        self.pool = pool
        self.tools = tools
        self.poster = poster
        self.turns = turns
        self.user_ref = user_ref
        self.auto = auto

    async def _planned(self, req: RunCheckRequest) -> tuple[Case, Hypothesis, PlannedCheck]:
        case = await cases.get(self.pool, req.case_id)
        if case is None:
            raise CaseNotFound(f"There is no case #{req.case_id}.")
        if case.status != "open":
            raise CaseNotFound(f"Case #{case.id} is {case.status}; its hypotheses are final.")
        known = {h.id: h for h in await investigation.hypotheses(self.pool, case.id)}
        hypothesis = known.get(req.hypothesis_key)
        if hypothesis is None:
            raise CaseNotFound(f"That hypothesis is no longer part of case #{case.id}.")
        planned = self.tools.planner(case)(hypothesis)
        if planned is None:
            raise CaseNotFound(
                "No source this channel may use can check that hypothesis; an admin adds "
                "sources in FAULTMAVEN_SOURCES_FILE (`/faultmaven sources` lists them)."
            )
        return case, hypothesis, planned

    async def check_request(self, req: RunCheckRequest) -> None:
        """Raises with a clear message when the check cannot run (said at click time)."""
        await self._planned(req)

    async def run_check(self, req: RunCheckRequest, *, key: str) -> CheckResult:
        case, hypothesis, planned = await self._planned(req)
        result = await self._run(case, hypothesis, planned, self.user_ref(req.user), key=key)
        await self.turns.request(case)
        return result

    async def _run(
        self,
        case: Case,
        hypothesis: Hypothesis,
        planned: PlannedCheck,
        requested_by: str,
        *,
        key: str,
    ) -> CheckResult:
        registry = self.tools.registry(case, self.tools.live_tools(case))
        run, result = await run_planned(registry, planned, requested_by)
        said = result.summary
        await check_runs.add(self.pool, case.id, result, run.output[:OUTPUT_KEPT_CHARS])
        lines = [
            f"🔎 *Check* for “{hypothesis.statement}” (asked by {requested_by}):",
            f"`{run.call}`",
        ]
        if run.query and run.query != run.call:
            lines.append(f"```{run.query}```")
        lines.append(f"{said} → {VERDICT_WORDS[result.verdict]}" if run.ok else f"⚠️ {said}")
        await self.poster.post_once(
            f"check:{key}",
            case.channel_id,
            NoticeReply(text="\n".join(lines), is_error=not run.ok),
            case.thread_ts,
            case.id,
        )
        return result

    async def run_safe_checks(self, case: Case, result: Investigation) -> int:
        """With auto checks on: run each planned check of the turn's open hypotheses once."""
        if not self.auto:
            return 0
        done = {c.hypothesis_key for c in await check_runs.for_case(self.pool, case.id)}
        plan = self.tools.planner(case)
        ran = 0
        for hypothesis in result.hypotheses:
            if hypothesis.id in done or hypothesis.status not in ("proposed", "testing"):
                continue
            planned = plan(hypothesis)
            if planned is None:
                continue
            await self._run(
                case, hypothesis, planned, REASONER, key=f"auto:{case.id}:{hypothesis.id}"
            )
            ran += 1
        if ran:
            await self.turns.request(case)
        return ran
