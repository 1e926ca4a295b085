"""The toolbox a model gets for one turn: the look-closer tools over the case's own files,
every run recorded in the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from psycopg_pool import AsyncConnectionPool

from engine.core.redact import Redactor
from engine.core.tool_runs import ToolRun
from engine.evidence.reports import Evidence
from engine.store import audit
from engine.tools.case_files import CaseFiles
from engine.tools.evidence_tools import evidence_tools
from engine.tools.registry import ToolRegistry

TOOL_RUN = "tool.run"
# Files up to this size are held as text for the turn; a bigger one is read through its
# report and the excerpts the prompt already carries.
MAX_TOOL_FILE_BYTES = 10 * 2**20
ReadContent = Callable[[Evidence], Awaitable[bytes | None]]


async def case_toolbox(
    pool: AsyncConnectionPool,
    case_id: int,
    evidence: list[Evidence],
    read: ReadContent,
    redactor: Redactor,
) -> ToolRegistry | None:
    """The tools over the case's analysed files; None when it has no file to look into."""
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
    if not files.texts:
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
                "ok": run.ok,
                "error": run.error,
                "seconds": run.seconds,
                "output_chars": run.output_chars,
            },
        )

    return ToolRegistry(evidence_tools(files), redactor=redactor, record=record)
