"""One investigation turn on local files, as if they were uploaded to a new case (the CLI).

Nothing is stored: the case, its messages and evidence exist only for this turn, which runs
exactly as in a thread (the LLM when configured, else the offline reasoner).
"""

from __future__ import annotations

from datetime import UTC, datetime

from engine.core.config import Settings
from engine.core.models import Case, Message
from engine.core.redact import Redactor
from engine.core.tool_runs import CheckResult, ToolBox
from engine.evidence.analyze import summarize_report
from engine.evidence.reports import AnyReport, Evidence
from engine.investigate.llm import LLM
from engine.investigate.result import Investigation
from engine.investigate.turn import TurnInput, run_turn

LOCAL_USER = "you"


async def _quiet(status: str) -> None:
    """No summary message to update on a terminal run."""


def _case(question: str, now: datetime) -> Case:
    return Case(
        id=0,
        team_id="",
        channel_id="local",
        thread_ts="local",
        title=question[:80],
        status="open",
        phase="consulting",
        opened_by=LOCAL_USER,
        created_at=now,
        updated_at=now,
    )


def _evidence(reports: list[AnyReport], now: datetime) -> list[Evidence]:
    return [
        Evidence(
            id=i,
            case_id=0,
            source_id=report.name,
            name=report.name,
            kind=report.kind,
            size_bytes=0,
            sha256=None,
            status="analysed",
            summary=summarize_report(report),
            report=report,
            created_at=now,
        )
        for i, report in enumerate(reports, 1)
    ]


async def investigate_files(
    reports: list[AnyReport],
    question: str,
    settings: Settings,
    *,
    toolbox: ToolBox | None = None,
    checks: list[CheckResult] | None = None,
) -> Investigation:
    now = datetime.now(UTC)
    asked = Message(
        id=1,
        case_id=0,
        ts="1",
        author=LOCAL_USER,
        role="user",
        text=question,
        created_at=now,
        asks=True,
    )
    given = TurnInput(
        case=_case(question, now),
        history=[asked],
        evidence=_evidence(reports, now),
        feedback=[],
        questions=[asked],
        toolbox=toolbox,
        checks=checks or [],
    )
    llm = LLM.from_settings(settings)
    outcome = await run_turn(
        given,
        llm=llm,
        redactor=Redactor(mask_ips=settings.redact_ips),
        deadline_s=settings.llm_deadline_s,
        budget_tokens=settings.prompt_budget_tokens,
        progress=_quiet,
    )
    return outcome.result
