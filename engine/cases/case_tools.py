"""The tools of a case: its own files (search, lines around, a template's examples), the
live sources allowed in its channel, and knowledge search. Every run is audited; data a run
brings (a Prometheus range, a pod's log) becomes the case's evidence, read like an upload.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable

from psycopg_pool import AsyncConnectionPool

from engine.cases.intake import EvidenceIntake
from engine.cases.live_checks import PlannedCheck, plan_check
from engine.cases.live_toolbox import KnowledgeSearchTool, audit_recorder, place_tools
from engine.core.models import Case
from engine.core.redact import Redactor
from engine.core.tool_runs import ToolRun
from engine.evidence.reports import Evidence
from engine.investigate.result import Hypothesis
from engine.knowledge.base import KnowledgeBase
from engine.tools.base import Tool
from engine.tools.case_files import CaseFiles
from engine.tools.evidence_tools import evidence_tools
from engine.tools.registry import ToolRegistry
from engine.tools.sources import Sources

log = logging.getLogger(__name__)

# Files up to this size are held as text for the turn; a bigger one is read through its
# report and the excerpts the prompt already carries.
MAX_TOOL_FILE_BYTES = 10 * 2**20
ReadContent = Callable[[Evidence], Awaitable[bytes | None]]
KNOWLEDGE_HIT_CHARS = 600


async def case_file_tools(evidence: list[Evidence], read: ReadContent) -> list[Tool]:
    """The look-closer tools over the case's analysed files; none when it has no file."""
    files = CaseFiles({})
    for item in evidence:
        if item.status != "analysed" or item.size_bytes > MAX_TOOL_FILE_BYTES:
            continue
        content = await read(item)
        if content is None:  # purged by retention: the report is all there is
            continue
        files.texts[item.name] = content.decode("utf-8", errors="replace")
        if item.report is not None:
            files.reports[item.name] = item.report
    return list(evidence_tools(files)) if files.texts else []


class CaseTools:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        *,
        sources: Sources,
        intake: EvidenceIntake,
        redactor: Redactor,
        knowledge: KnowledgeBase | None = None,
    ) -> None:
        self.pool = pool
        self.sources = sources
        self.intake = intake
        self.redactor = redactor
        self.knowledge = knowledge

    async def _search(self, query: str, limit: int) -> list[str]:
        if self.knowledge is None:
            return []
        hits = await self.knowledge.search(query, k=limit)
        return [
            (hit.title + (f" — {hit.section}" if hit.section else "") + f"\n{hit.text}")[
                :KNOWLEDGE_HIT_CHARS
            ]
            for hit in hits
        ]

    def registry(self, case: Case, tools: list[Tool]) -> ToolRegistry:
        audited = audit_recorder(self.pool, case.id)

        async def record(run: ToolRun) -> None:
            if audited is not None:
                await audited(run)
            if run.ok and run.evidence and run.evidence_name:
                await self._keep(case, run)

        return ToolRegistry(tools, redactor=self.redactor, record=record)

    async def _keep(self, case: Case, run: ToolRun) -> None:
        """A run's data joins the case's evidence; a failure costs only that, not the run."""
        assert run.evidence is not None and run.evidence_name is not None
        digest = hashlib.sha256(run.evidence).hexdigest()[:16]
        try:
            await self.intake.ingest_bytes(
                case, f"tool:{run.tool}:{digest}", run.evidence_name, run.evidence
            )
        except Exception:
            log.exception("case %s: the data of %s was not kept", case.id, run.call)

    def planner(self, case: Case) -> Callable[[Hypothesis], PlannedCheck | None]:
        """Plans the live check a source allowed in the case's channel can run on a
        hypothesis; the tools of the place are listed once, for all the turn's hypotheses."""
        if not len(self.sources):
            return lambda hypothesis: None
        names = {tool.name for tool in self.live_tools(case)}
        allowed = self.sources.allowed_in(case.channel_id)
        return lambda hypothesis: plan_check(hypothesis, allowed, names)

    def live_tools(self, case: Case) -> list[Tool]:
        """The sources' tools allowed in the case's channel, and the network probes."""
        return place_tools(self.sources, case.channel_id)

    def place_tools(self, channel_id: str, channel_name: str | None = None) -> list[Tool]:
        return place_tools(self.sources, channel_id, channel_name=channel_name)

    def registry_without_case(self, tools: list[Tool]) -> ToolRegistry:
        """Runs outside a case (`/faultmaven query` in a channel): audited, nothing kept."""
        return ToolRegistry(tools, redactor=self.redactor, record=audit_recorder(self.pool, None))

    async def toolbox(
        self, case: Case, evidence: list[Evidence], read: ReadContent
    ) -> ToolRegistry | None:
        """What a model may run in this case's turn: None without files or live sources, so
        a plain question costs one model call, not a tool loop."""
        files = await case_file_tools(evidence, read)
        live = self.live_tools(case) if len(self.sources) else []
        if not files and not live:
            return None
        tools: list[Tool] = [*files, *live]
        if self.knowledge is not None:
            tools.append(KnowledgeSearchTool(self._search))
        return self.registry(case, tools)
