"""The postmortem of a closed case, as Markdown: posted to its thread as a file and stored as
case knowledge, so the next similar incident finds how this one ended.

Built from what the case already holds (no LLM call): the last turn's conclusion, suspects,
hypotheses and merged evidence timeline, people's verdicts, and the resolution they gave.
The "Symptoms" section lists error templates, alerts, kubectl findings and suspect components
on purpose: they are what a later case's query is made of, so it is what makes this case
findable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from engine.core.models import Case, Feedback, Message
from engine.core.wording import clip, duration
from engine.evidence.alerts.report import AlertReport
from engine.evidence.kubernetes.report import KubeReport
from engine.evidence.logs.report import LogReport
from engine.evidence.reports import Evidence
from engine.evidence.timeline import TimelineEvent, merged_timeline
from engine.investigate.result import Hypothesis, Investigation

SHOWN_EVENTS = 15
SHOWN_SUSPECTS = 3
SHOWN_SYMPTOMS = 8
SYMPTOMS_PER_FILE = 3


@dataclass
class CaseRecord:
    """Everything a postmortem reads, loaded by the caller from the store."""

    case: Case
    closed_by: str
    result: Investigation | None
    evidence: list[Evidence]
    history: list[Message]
    feedback: list[Feedback] = field(default_factory=list)


def root_cause(result: Investigation | None) -> tuple[str, Hypothesis | None]:
    """The root cause as the case ended: the hypothesis people confirmed, else the leading one
    (said to be unconfirmed), else the working conclusion."""
    hypotheses = result.hypotheses if result else []
    confirmed = [h for h in hypotheses if h.status == "confirmed"]
    if confirmed:
        return confirmed[0].statement, confirmed[0]
    live = [h for h in hypotheses if h.status != "ruled_out"]
    if live:
        return f"{live[0].statement} (not confirmed; {live[0].confidence:.0%})", live[0]
    if result and result.working_conclusion:
        return result.working_conclusion, None
    return "Not established.", None


def _evidence_events(record: CaseRecord) -> list[TimelineEvent]:
    """The merged evidence timeline: the last turn's, else computed from the reports."""
    if record.result and record.result.timeline:
        return list(record.result.timeline)
    reports = [e.report for e in record.evidence if e.report is not None]
    return merged_timeline(reports, limit=SHOWN_EVENTS)


def _incident_window(record: CaseRecord) -> str | None:
    """'13:44 → 14:17 UTC (33 min)': from the first to the last signal in the evidence."""
    events = _evidence_events(record)
    if not events:
        return None
    first, last = events[0].at, events[-1].at
    form = "%H:%M" if first.date() == last.date() else "%Y-%m-%d %H:%M"
    return f"{first:%Y-%m-%d %H:%M} → {last:{form}} UTC ({duration(first, last)})"


def _timeline(record: CaseRecord, user_ref: Callable[[str], str]) -> list[str]:
    case = record.case
    events = _evidence_events(record)
    people = [
        TimelineEvent(
            at=case.created_at, source="case", what=f"case opened by {user_ref(case.opened_by)}"
        )
    ]
    for item in record.feedback:
        if item.kind in ("confirm", "rule_out") and item.created_at is not None:
            verb = "confirmed" if item.kind == "confirm" else "ruled out"
            people.append(
                TimelineEvent(
                    at=item.created_at,
                    source="case",
                    what=f"{item.author} {verb} `{item.hypothesis_key}`",
                )
            )
    closed_at = case.closed_at or case.updated_at
    people.append(
        TimelineEvent(at=closed_at, source="case", what=f"resolved by {user_ref(record.closed_by)}")
    )
    merged = sorted([*events[:SHOWN_EVENTS], *people], key=lambda e: e.at)
    with_date = len({e.at.date() for e in merged}) > 1
    form = "%Y-%m-%d %H:%M" if with_date else "%H:%M"
    return [
        f"- {e.at:{form}} {e.what}" + ("" if e.source == "case" else f" ({e.source})")
        for e in merged
    ]


def error_templates(evidence: list[Evidence], per_file: int) -> list[str]:
    """The most frequent error templates of each analysed log: what the failure looked like,
    and what a later case's query is made of (engine/knowledge/related.py)."""
    return [
        group.message
        for item in evidence
        if item.status == "analysed" and isinstance(item.report, LogReport)
        for group in item.report.error_groups[:per_file]
    ]


def state_symptoms(evidence: list[Evidence], per_file: int) -> list[str]:
    """What alerts and kubectl said of the failure: the alerts' titles and the findings of
    kubectl output, each file's first, as a postmortem lists them and a later case's query
    holds them."""
    said: list[str] = []
    for item in evidence:
        if item.status != "analysed":
            continue
        if isinstance(item.report, AlertReport):
            said += [alert.title for alert in item.report.alerts[:per_file]]
        elif isinstance(item.report, KubeReport):
            findings = sorted(item.report.findings, key=lambda f: -f.severity)
            said += [finding.summary for finding in findings[:per_file]]
    return list(dict.fromkeys(said))


def _symptoms(record: CaseRecord) -> list[str]:
    lines = [f"- `{clip(t, 160)}`" for t in error_templates(record.evidence, SYMPTOMS_PER_FILE)]
    lines += [f"- {clip(s, 160)}" for s in state_symptoms(record.evidence, SYMPTOMS_PER_FILE)]
    lines = list(dict.fromkeys(lines))[:SHOWN_SYMPTOMS]
    suspects = record.result.suspects[:SHOWN_SUSPECTS] if record.result else []
    if suspects:
        lines.append("- Components: " + ", ".join(s.component for s in suspects))
    return lines


def postmortem_markdown(record: CaseRecord, *, user_ref: Callable[[str], str] = str) -> str:
    case, result = record.case, record.result
    closed_at = case.closed_at or case.updated_at
    cause, lead = root_cause(result)
    resolution = (case.resolution or "").strip() or "No resolution was given at close."
    suspects = (result.suspects if result else [])[:SHOWN_SUSPECTS]
    people = sorted({m.author for m in record.history if m.role == "user"})
    analysed = [e for e in record.evidence if e.status == "analysed"]

    out = [
        f"# Postmortem: case #{case.id} — {case.title}",
        "",
        f"Opened {case.created_at:%Y-%m-%d %H:%M} UTC by {user_ref(case.opened_by)}; "
        f"resolved {closed_at:%Y-%m-%d %H:%M} UTC by {user_ref(record.closed_by)} "
        f"after {duration(case.created_at, closed_at)}.",
        "",
        "## Summary",
        "",
        f"{case.title}. Root cause: {cause}. Fixed by: {resolution}",
        "",
        "## Impact",
        "",
        f"- Duration of the investigation: {duration(case.created_at, closed_at)}",
    ]
    window = _incident_window(record)
    if window:
        out.append(f"- Seen in the evidence: {window}")
    if suspects:
        names = ", ".join(f"{s.component} ({s.score:.0%})" for s in suspects)
        out.append(f"- Components involved: {names}")
    out.extend(f"- {e.summary}" for e in analysed)
    if people:
        out.append(f"- People involved: {', '.join(user_ref(p) for p in people)}")
    out += ["", "## Timeline (UTC)", "", *_timeline(record, user_ref), ""]
    out += ["## Root cause", "", cause]
    if lead is not None:
        if lead.decided_by and lead.status == "confirmed":
            out.append(f"Confirmed by {lead.decided_by}.")
        out.extend(
            f"- Evidence: {c.source}{f' line {c.line}' if c.line else ''}: `{clip(c.text, 160)}`"
            for c in lead.supporting[:3]
        )
    ruled_out = [h for h in (result.hypotheses if result else []) if h.status == "ruled_out"]
    if ruled_out:
        out += ["", "Ruled out during the investigation:"]
        out.extend(f"- {h.statement}" for h in ruled_out)
    symptoms = _symptoms(record)
    if symptoms:
        out += ["", "## Symptoms", "", *symptoms]
    out += ["", "## Resolution", "", resolution, "", "## Follow-ups", ""]
    follow_ups = list(result.next_steps[:5]) if result else []
    follow_ups.append("Write or update the runbook for this failure (`/faultmaven kb add`).")
    out.extend(f"- [ ] {step}" for step in follow_ups)
    return "\n".join(out) + "\n"
