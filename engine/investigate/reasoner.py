"""The offline reasoner's structured turn: hypotheses tied to suspects, from evidence alone.

A failure signature found in the errors of a component is a hypothesis about that
component; when the line names a callee more suspect than its writer and tells how it fails
("connection to kafka-1 refused"), it is a hypothesis about the callee, a little below the
callee's own lines. A log that names nobody speaks for its unnamed writer, as suspect as its
new errors make it. Its confidence follows the component's suspect score (a victim's "upstream
returned 503" ranks below the suspect's own "pool exhausted"), whether the matching lines
are new in the incident window or were there all along, and whether they are errors or only
warnings (Kubernetes reports OOM kills and back-offs as warnings). What people said in the
thread adds hypotheses the files do not show, at low confidence.
The team's graded outcomes, when a caller passes them, calibrate confidences per failure
signature (calibration.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from engine.evidence.components import canonical, from_file_name, replica_base
from engine.evidence.logs.report import LogReport, TemplateStats
from engine.evidence.reports import AnyReport
from engine.evidence.suspects.ranking import (
    Suspect,
    names_in,
    rank_case_suspects,
    unnamed_writer_score,
)
from engine.evidence.timeline import merged_timeline
from engine.investigate.calibration import Calibration
from engine.investigate.cluster_answers import cluster_answers, cluster_said
from engine.investigate.incident_time import case_incident_start
from engine.investigate.result import Citation, Hypothesis, Investigation
from engine.investigate.signatures import SIGNATURES, Signature, match
from engine.investigate.state_hypotheses import merge, state_hypotheses
from engine.investigate.unnamed import unnamed_hint

MAX_HYPOTHESES = 5
MAX_CITATIONS = 3
MAX_STEPS = 6
UNSUSPECTED = 0.15  # the weight of a component no signal points at
WARN_WEIGHT = 0.6
CONVERSATION_CONFIDENCE = 0.1
SECONDHAND = 0.9  # a caller's account of a callee's failure, against the callee's own lines
SECOND_READING = 0.9  # a line's less specific signature (a pool timeout is also a timeout)
SYMPTOMS = frozenset({"http-5xx"})  # say that a callee failed, not how
_SPECIFICITY = {sig.id: i for i, sig in enumerate(SIGNATURES)}
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


def _as_suspect(component: str | None, suspects: dict[str, float]) -> str | None:
    """A replica's name as the suspects know it ('payments-db-1' was folded into its service)."""
    if component is None or component in suspects:
        return component
    base = replica_base(component)
    return base if base is not None and base in suspects else component


def _leads(
    reports: list[AnyReport], suspects: dict[str, float]
) -> dict[tuple[str, str | None], _Lead]:
    leads: dict[tuple[str, str | None], _Lead] = {}
    known = set(suspects)
    for report in reports:
        if not isinstance(report, LogReport):
            continue
        own = from_file_name(report.name)
        # A log that names nobody still has a writer, as suspect as its new or surging errors
        # make it; those errors speak for it, the rest of its lines do not.
        unnamed = max(UNSUSPECTED, unnamed_writer_score(report)) if own is None else UNSUSPECTED
        rising = {a.template for a in report.anomalies if a.kind in ("new", "surge")}
        for template in report.templates:
            if template.level not in ("FATAL", "ERROR", "WARN"):
                continue
            text = f"{template.template}\n{template.example}"
            component = _as_suspect(
                canonical(template.component) if template.component else own, suspects
            )
            if component is not None:
                weight = suspects.get(component, UNSUSPECTED)
            else:
                weight = unnamed if template.template in rising else UNSUSPECTED
            # A caller's error about a callee more suspect than itself tells of the callee's
            # failure ('connection to kafka-1 refused' is about kafka-1).
            callee = max(
                (n for n in names_in(text, known) if suspects.get(n, 0) > weight),
                key=lambda n: suspects[n],
                default=None,
            )
            level = 1.0 if template.level != "WARN" else WARN_WEIGHT
            own_score = weight * level * (0.5 + 0.5 * _window_share(report, template))
            for rank, signature in enumerate(match(text)[:2]):
                who, score = component, own_score
                # 'connection to kafka-1 refused' tells how kafka-1 fails; '502 from payments'
                # only that it does, which its suspect entry already says.
                if callee is not None and signature.id not in SYMPTOMS:
                    # A client warns of a refused connection because it will retry; for the
                    # callee it still means down, so the caller's level does not lower it.
                    who = callee
                    score = (
                        SECONDHAND
                        * suspects[callee]
                        * (0.5 + 0.5 * _window_share(report, template))
                    )
                lead = leads.setdefault((signature.id, who), _Lead(signature, who))
                # One line, two readings: the more specific one explains it better.
                lead.score = max(lead.score, score * (1.0 if rank == 0 else SECOND_READING))
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
    question: str,
    conversation: list[str],
    reports: list[AnyReport],
    calibration: Calibration | None = None,
) -> Investigation:
    """One structured turn from the evidence reports and what people wrote; `calibration`
    (the team's graded outcomes per failure signature) moves the confidences."""
    since = case_incident_start([question, *conversation], reports)
    suspects = rank_case_suspects(reports, since=since)
    scores = {s.component: s.score for s in suspects}
    hypotheses = [_hypothesis(lead) for lead in _leads(reports, scores).values()]
    # The cluster's or the alerting's own account; then what kubectl said, against the question.
    for stated in [*state_hypotheses(reports), *cluster_answers(question, reports)]:
        same = next((h for h in hypotheses if h.id == stated.id), None)
        if same is not None:
            hypotheses.remove(same)
        hypotheses.append(merge(same, stated))
    explained = {h.component for h in hypotheses}
    hypotheses += [_suspect_hypothesis(s) for s in suspects if s.component not in explained]
    found = {h.signature for h in hypotheses if h.signature}
    hypotheses += _conversation_hypotheses("\n".join([question, *conversation]), found)
    if calibration:
        hypotheses = [calibration.apply(h) for h in hypotheses]
    # Ties: the more specific signature first (a TLS failure before the 5xx it causes).
    hypotheses.sort(key=lambda h: (-h.confidence, _SPECIFICITY.get(h.signature or "", 99)))
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
    hint = unnamed_hint(reports)
    if hint is not None:
        steps.insert(0, hint)
    if not suspects and all(h.confidence <= CONVERSATION_CONFIDENCE for h in hypotheses):
        return Investigation(
            response_type="answer",
            phase="diagnosing",
            working_conclusion="Nothing in the evidence looks like an incident: no error rate "
            "rose against its own baseline and no component stands out." + cluster_said(reports),
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
