"""`faultmaven investigate --live`: one turn on local files that may use the configured
sources, as a case in the terminal would.

With a model, the model runs the tools it wants (the look-closer loop). Without one, the
offline reasoner's hypotheses get their live checks (a pool exhausted → the database's
connections; a certificate → the TLS probe…), and a second turn weighs what they said. Either
way the result lists every run (`tool_runs`), and each run is audited.
"""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from engine.cases.live_checks import plan_check, run_planned
from engine.cases.live_toolbox import place_registry, place_tools
from engine.core.config import Settings
from engine.core.redact import Redactor
from engine.core.tool_runs import CheckResult, ToolRunNote
from engine.evidence.reports import AnyReport
from engine.investigate.local import investigate_files
from engine.investigate.result import Investigation
from engine.tools.sources import TERMINAL, load_sources

TERMINAL_USER = "terminal"


async def investigate_live(
    reports: list[AnyReport],
    question: str,
    settings: Settings,
    *,
    pool: AsyncConnectionPool | None,
) -> Investigation:
    sources = load_sources(settings.sources_file)
    tools = place_tools(sources, TERMINAL)
    registry = place_registry(
        tools, pool=pool, case_id=None, redactor=Redactor(mask_ips=settings.redact_ips)
    )
    result = await investigate_files(reports, question, settings, toolbox=registry)
    if result.tool_runs or not len(sources):  # a model looked for itself, or nothing to ask
        return result
    names = {tool.name for tool in tools}
    checks: list[CheckResult] = []
    notes: list[ToolRunNote] = []
    for hypothesis in result.hypotheses:
        planned = plan_check(hypothesis, sources, names)
        if planned is None:
            continue
        run, check = await run_planned(registry, planned, TERMINAL_USER)
        notes.append(run.note())
        checks.append(check)
    if not checks:
        return result
    weighed = await investigate_files(reports, question, settings, checks=checks)
    return weighed.model_copy(update={"tool_runs": notes})
