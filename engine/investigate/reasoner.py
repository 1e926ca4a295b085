"""The offline reasoner's structured turn: hypotheses tied to suspects, from evidence alone.

A failure signature found in the errors of a component is a hypothesis about that
component. Its confidence follows the component's suspect score (a victim's "upstream
returned 503" ranks below the suspect's own "pool exhausted"), whether the matching lines
are new in the incident window or were there all along, and whether they are errors or only
warnings (Kubernetes reports OOM kills and back-offs as warnings). What people said in the
thread adds hypotheses the files do not show, at low confidence.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from engine.evidence.analyze import AnyReport
from engine.evidence.components import canonical, from_file_name
from engine.evidence.report import LogReport, TemplateStats
from engine.evidence.suspects import Suspect, rank_case_suspects
from engine.evidence.timeline import merged_timeline
from engine.investigate.result import Citation, Hypothesis, Investigation
from engine.investigate.signatures import Signature, match

MAX_HYPOTHESES = 5
MAX_CITATIONS = 3
MAX_STEPS = 6
UNSUSPECTED = 0.15  # the weight of a component no signal points at
WARN_WEIGHT = 0.6
CONVERSATION_CONFIDENCE = 0.1
_COMMAND = re.compile(r"`([^`]{4,})`")


@dataclass
class _Lead:
    signature: Signature
    component: str | None
    score: float = 0.0
    count: int = 0
    citations: list[Citation] = field(default_factory=list)


def _window_share(report: LogReport, template: TemplateStats) -> float:
    """How much of the template falls in the incident window (0.5 when there is none)."""
    if report.incident_start is None or not template.count:
        return 0.5
    return template.in_window / template.count


def _leads(
    reports: list[AnyReport], suspects: dict[str, float]
) -> dict[tuple[str, str | None], _Lead]:
    leads: dict[tuple[str, str | None], _Lead] = {}
    for report in reports:
        if not isinstance(report, LogReport):
            continue
        own = from_file_name(report.name)
        for template in report.templates:
            if template.level not in ("FATAL", "ERROR", "WARN"):
                continue
            component = canonical(template.component) if template.component else own
            weight = suspects.get(component or "", UNSUSPECTED)
            level = 1.0 if template.level != "WARN" else WARN_WEIGHT
            score = weight * level * (0.5 + 0.5 * _window_share(report, template))
            for signature in match(f"{template.template}\n{template.example}")[:2]:
                lead = leads.setdefault((signature.id, component), _Lead(signature, component))
                lead.score = max(lead.score, score)
                lead.count += template.count
                if len(lead.citations) < MAX_CITATIONS:
                    lead.citations.append(
                        Citation(
                            source=report.name,
                            text=f"{template.count:,}× {template.template}",
                            line=template.first_line,
                            at=template.first_seen,
                        )
                    )
    return leads


def _hypothesis(lead: _Lead) -> Hypothesis:
    where = f" in {lead.component}" if lead.component else ""
    # More lines of the same story add a little confidence, never past the suspect's.
    confidence = min(0.95, lead.score * (1 + 0.05 * math.log10(1 + lead.count)))
    return Hypothesis(
        id=f"{lead.signature.id}:{lead.component or '-'}",
        statement=f"{lead.signature.hypothesis}{where}",
        category=lead.signature.category,
        signature=lead.signature.id,
        component=lead.component,
        confidence=round(confidence, 3),
        supporting=lead.citations,
        checks=list(lead.signature.checks),
    )


def _suspect_hypothesis(suspect: Suspect) -> Hypothesis:
    return Hypothesis(
        id=f"suspect:{suspect.component}",
        statement=f"{suspect.component} is where the failures start",
        component=suspect.component,
        confidence=round(0.6 * suspect.score, 3),
        supporting=[Citation(source=", ".join(suspect.sources), text=r) for r in suspect.reasons],
        checks=[f"Look at {suspect.component} first: its recent deploys, saturation and logs"],
    )


def _conversation_hypotheses(conversation: str, found: set[str]) -> list[Hypothesis]:
    return [
        Hypothesis(
            id=f"{sig.id}:-",
            statement=f"{sig.hypothesis} (suggested in the thread; no evidence yet)",
            category=sig.category,
            signature=sig.id,
            confidence=CONVERSATION_CONFIDENCE,
            checks=list(sig.checks),
        )
        for sig in match(conversation)
        if sig.id not in found
    ]


def investigate_offline(
    question: str, conversation: list[str], reports: list[AnyReport]
) -> Investigation:
    """One structured turn from the evidence reports and what people wrote."""
    suspects = rank_case_suspects(reports)
    scores = {s.component: s.score for s in suspects}
    hypotheses = [_hypothesis(lead) for lead in _leads(reports, scores).values()]
    explained = {h.component for h in hypotheses}
    hypotheses += [_suspect_hypothesis(s) for s in suspects if s.component not in explained]
    found = {h.signature for h in hypotheses if h.signature}
    hypotheses += _conversation_hypotheses("\n".join([question, *conversation]), found)
    hypotheses.sort(key=lambda h: -h.confidence)
    hypotheses = hypotheses[:MAX_HYPOTHESES]
    steps: list[str] = []
    for hypothesis in hypotheses[:2]:
        steps.extend(c for c in hypothesis.checks if c not in steps)
    commands = [m for step in steps for m in _COMMAND.findall(step) if " " in m]
    timeline = merged_timeline(reports)
    if not reports:
        return Investigation(
            response_type="needs_more_data",
            phase="consulting",
            working_conclusion="No evidence yet: upload the logs, metrics or traces of the "
            "failing service around the incident time.",
            confidence=0.0,
            hypotheses=hypotheses,
            next_steps=steps,
            commands=commands,
        )
    if not suspects and all(h.confidence <= CONVERSATION_CONFIDENCE for h in hypotheses):
        return Investigation(
            response_type="answer",
            phase="diagnosing",
            working_conclusion="Nothing in the evidence looks like an incident: no error rate "
            "rose against its own baseline and no component stands out.",
            confidence=0.5,
            hypotheses=hypotheses,
            next_steps=steps or ["Upload evidence from the time the problem was seen"],
            commands=commands,
            timeline=timeline,
        )
    top = hypotheses[0]
    return Investigation(
        response_type="answer",
        phase="diagnosing",
        working_conclusion=f"{top.statement} (confidence {top.confidence:.0%})",
        confidence=top.confidence,
        suspects=suspects,
        hypotheses=hypotheses,
        next_steps=steps[:MAX_STEPS],
        commands=commands,
        timeline=timeline,
    )
