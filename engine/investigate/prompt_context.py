"""What a turn's prompt may show of the evidence, before the budget decides: each file's
parts, the case's suspects and merged timeline, related knowledge, and when "now" and the
incident are.

Blocks are in one list: the analysed files (in their order), then the case analysis
(suspects and timeline), then one block per knowledge text; `evidence_choice` ranks the
parts of all of them together. Suspects and timeline are the offline reasoner's own
(engine/evidence/suspects, engine/evidence/timeline), computed from the reports again here:
cheap, and the prompt stays a function of what the turn reads. A suspect reason or timeline
line that addresses an AI (a file's planted order) is left out of them: such text is shown
only inside its file's evidence block, as quoted data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from engine.core.redact import Redactor
from engine.evidence.logs.report import LogReport
from engine.evidence.reports import AnyReport, Evidence
from engine.evidence.suspects.ranking import describe_suspect, first_alert, rank_case_suspects
from engine.evidence.timeline import TimelineEvent, merged_timeline
from engine.investigate.evidence_choice import matching_lines
from engine.investigate.excerpts import (
    FileExcerpts,
    KnowledgeText,
    PromptSources,
    file_excerpts,
)
from engine.investigate.incident_time import case_incident_start
from engine.investigate.parts import Part, cut
from engine.investigate.signatures import reads_as_instructions

W_SUSPECTS = 7.5
W_TIMELINE = 6.0
W_KNOWLEDGE = 5.0
SUSPECT_REASONS = 3
KNOWLEDGE_CHARS = 2000  # of each runbook section or past case
KNOWLEDGE_TEXTS = 2
# "since about 14:07" for errors from 14:06:40: a part this much before the start is in it.
WINDOW_SLACK = timedelta(minutes=2)


@dataclass(frozen=True)
class Context:
    """The parts a turn's prompt may show, by block, and the line that dates the turn."""

    blocks: list[list[Part]]  # files, then the case analysis, then knowledge texts
    files: int
    knowledge_titles: list[tuple[str, str]]  # (kind, title) of each knowledge block
    now: str  # "Now: 2026-11-21 14:30 UTC. Incident window: ..."
    now_short: str  # "Now: 2026-11-21 14:30 UTC." (for a budget that fits nothing more)

    @property
    def analysis(self) -> int:
        """The block of the case analysis."""
        return self.files


def context(
    analysed: Sequence[Evidence],
    question: str,
    thread: Sequence[str],
    query: dict[str, float],
    redactor: Redactor,
    sources: PromptSources | None,
) -> Context:
    """`thread`: what people wrote in the thread (for the time they say it started)."""
    reports = [e.report for e in analysed if e.report is not None]
    files: list[list[Part]] = []
    for item in analysed:
        known = sources.files.get(item.id) if sources else None
        excerpts = known or (
            file_excerpts(item.report, None, redactor) if item.report else FileExcerpts([])
        )
        parts = list(excerpts.parts)
        if excerpts.lines is not None:
            parts += matching_lines(excerpts.lines, query)
        files.append(parts)
    started = case_incident_start([question, *thread], reports)
    start = started or _rise(reports) or first_alert(reports)
    files = [[part.placed(start, WINDOW_SLACK) for part in parts] for parts in files]
    analysis = _suspects(reports, started) + _timeline(reports)
    knowledge = _best_of_each_kind(sources.knowledge if sources else [])
    blocks = [*files, analysis, *(_knowledge(k.kind, k.title, k.text, redactor) for k in knowledge)]
    now = sources.now if sources and sources.now else datetime.now(UTC)
    return Context(
        blocks=blocks,
        files=len(files),
        knowledge_titles=[(k.kind, k.title) for k in knowledge],
        now=_now_line(now, started, reports),
        now_short=f"Now: {now:%Y-%m-%d %H:%M} UTC.",
    )


def _best_of_each_kind(texts: list[KnowledgeText]) -> list[KnowledgeText]:
    """The best past case and the best runbook section (they come best first)."""
    best: dict[str, KnowledgeText] = {}
    for text in texts:
        best.setdefault(text.kind, text)
    return list(best.values())[:KNOWLEDGE_TEXTS]


def _rise(reports: list[AnyReport]) -> datetime | None:
    """Where the first log's error rate rose: the incident's start when nobody said one."""
    rises = [r.incident_start for r in reports if isinstance(r, LogReport) and r.incident_start]
    return min(rises, default=None)


def _suspects(reports: list[AnyReport], started: datetime | None) -> list[Part]:
    suspects = rank_case_suspects(reports, since=started)
    lines = [describe_suspect(s, SUSPECT_REASONS) for s in suspects]
    lines = [f"- {line}" for line in lines if not reads_as_instructions(line)]
    if not lines:
        return []
    heading = "Suspects (components ranked by the engine over all files; score 0–1, reasons):"
    return [Part(heading, tuple(lines), W_SUSPECTS, 0)]


def _timeline(reports: list[AnyReport]) -> list[Part]:
    events = [e for e in merged_timeline(reports) if not reads_as_instructions(e.what)]
    if not events:
        return []
    return [Part("Timeline (UTC, all files merged):", tuple(_events(events)), W_TIMELINE, 1)]


def _events(events: list[TimelineEvent]) -> list[str]:
    """One line each; the date where the day changes (and on the first)."""
    lines, day = [], None
    for event in events:
        at = event.at.astimezone(UTC) if event.at.tzinfo else event.at
        when = f"{at:%H:%M:%S}" if at.date() == day else f"{at:%Y-%m-%d %H:%M:%S}"
        day = at.date()
        lines.append(f"- {when} {event.what} ({event.source})")
    return lines


def _knowledge(kind: str, title: str, text: str, redactor: Redactor) -> list[Part]:
    shown = redactor.redact(text[:KNOWLEDGE_CHARS]).text
    more = " …" if len(text) > KNOWLEDGE_CHARS else ""
    lines = [cut(line, 600) for line in shown.split("\n") if line.strip()]
    if more and lines:
        lines[-1] += more
    return [Part(f"{kind}: {title}", tuple(lines), W_KNOWLEDGE, 0)]


def _now_line(now: datetime, said: datetime | None, reports: list[AnyReport]) -> str:
    """The time of the turn and what is known of the incident's window, all in UTC."""
    parts = []
    if said is not None:
        parts.append(f"people in the thread say it started {said:%Y-%m-%d %H:%M} UTC")
    rises = [
        (r.incident_start, r.name)
        for r in reports
        if isinstance(r, LogReport) and r.incident_start is not None
    ]
    if rises:
        at, name = min(rises)
        parts.append(f"error rates rose from {at:%Y-%m-%d %H:%M} UTC ({name})")
    alert = first_alert(reports)
    if alert is not None:
        parts.append(f"the first alert fired {alert:%Y-%m-%d %H:%M} UTC")
    window = "; ".join(parts) if parts else "not known (nobody said when, no error rate rose)"
    spans = [
        (first, last)
        for r in reports
        if isinstance(first := getattr(r, "first_ts", None), datetime)
        and isinstance(last := getattr(r, "last_ts", None), datetime)
    ]
    covered = ""
    if spans:
        start, end = min(s for s, _ in spans), max(e for _, e in spans)
        covered = f" The evidence covers {start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M} UTC."
    return f"Now: {now:%Y-%m-%d %H:%M} UTC. Incident window: {window}.{covered}"
