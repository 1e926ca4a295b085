"""The tools a place may run: the live sources allowed in its channel, knowledge search (in
a case), and the audit every run is recorded in.

Knowledge and tools are peers in the layers, so the knowledge search tool is made here, where
both are known.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field

from engine.core.redact import Redactor
from engine.core.tool_runs import ToolRun
from engine.store import audit
from engine.tools.base import Tool
from engine.tools.live import live_tools
from engine.tools.registry import Recorder, ToolRegistry
from engine.tools.sources import Sources

TOOL_RUN = "tool.run"
SearchKnowledge = Callable[[str, int], Awaitable[list[str]]]


def audit_recorder(pool: AsyncConnectionPool | None, case_id: int | None) -> Recorder | None:
    """Each run as an audit row: who or what asked, the exact call, outcome, time and size."""
    if pool is None:
        return None

    async def record(run: ToolRun) -> None:
        await audit.record(
            pool,
            actor=run.requested_by,
            action=TOOL_RUN,
            case_id=case_id,
            target=run.tool,
            detail={
                "call": run.call,
                "query": run.query,
                "ok": run.ok,
                "error": run.error,
                "seconds": run.seconds,
                "output_chars": run.output_chars,
            },
        )

    return record


class KnowledgeParameters(BaseModel):
    query: str = Field(min_length=2, max_length=300, description="symptoms, error text or names")
    limit: int = Field(default=3, ge=1, le=5)


class KnowledgeSearchTool:
    name: ClassVar[str] = "knowledge_search"
    description: ClassVar[str] = (
        "Search the team's runbooks and past cases' resolutions; the best sections, with titles."
    )
    parameters: ClassVar[type[BaseModel]] = KnowledgeParameters

    def __init__(self, search: SearchKnowledge) -> None:
        self.search = search

    async def answer(self, arguments: KnowledgeParameters) -> str:
        found = await self.search(arguments.query, arguments.limit)
        return "\n\n".join(found) if found else "No page matches."


def place_tools(
    sources: Sources, channel_id: str, *, channel_name: str | None = None
) -> list[Tool]:
    """The tools of one place: those of the sources allowed in `channel_id`, and the probes."""
    return live_tools(sources.allowed_in(channel_id, channel_name))


def place_registry(
    tools: list[Tool],
    *,
    pool: AsyncConnectionPool | None,
    case_id: int | None,
    redactor: Redactor,
) -> ToolRegistry:
    return ToolRegistry(tools, redactor=redactor, record=audit_recorder(pool, case_id))
