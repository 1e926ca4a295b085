"""Hypotheses from what the cluster and the alerting say outright.

A finding in `kubectl` output ("OOMKilled: the container hit its memory limit (128Mi)"), or in
another CLI's state ("consumer group orders: no active members and a lag of 65,238"), is
already a diagnosis with its proof; it becomes a hypothesis in its own words, citing the lines
of the file that show it, with the failure signature's category and checks. A firing alert
becomes one when its title or description reads as a known failure. Hypotheses about the same
failure of the same component (an alert and a describe that agree) are one, with both proofs.
"""

from __future__ import annotations

from engine.evidence.alerts.report import AlertReport
from engine.evidence.cli_state.report import CliFinding, CliStateReport
from engine.evidence.components import canonical
from engine.evidence.kubernetes.report import KubeFinding, KubeReport
from engine.evidence.reports import AnyReport
from engine.evidence.suspects.from_state import MIN_FINDING
from engine.investigate.result import Citation, Hypothesis
from engine.investigate.signatures import SIGNATURES, Signature, match

MAX_CITATIONS = 4
ALERT_CONFIDENCE = 0.45  # an alert names a failure; the evidence for it is elsewhere
_BY_ID = {signature.id: signature for signature in SIGNATURES}


def _signature(finding: KubeFinding | CliFinding) -> Signature | None:
    return _BY_ID.get(finding.signature) or next(iter(match(finding.summary)), None)


def _from_finding(
    report: KubeReport | CliStateReport, finding: KubeFinding | CliFinding
) -> Hypothesis | None:
    signature = _signature(finding)
    if signature is None or finding.severity < MIN_FINDING:
        return None
    component = canonical(finding.component) or None
    cited = [Citation(source=report.name, text=line) for line in finding.lines[:MAX_CITATIONS]]
    return Hypothesis(
        id=f"{signature.id}:{component or '-'}",
        statement=finding.summary,
        category=signature.category,
        signature=signature.id,
        component=component,
        confidence=round(min(0.95, finding.severity), 3),
        supporting=cited or [Citation(source=report.name, text=finding.summary)],
        checks=list(signature.checks),
    )


def _from_alerts(report: AlertReport) -> list[Hypothesis]:
    found = []
    for alert in report.alerts:
        if not alert.active:
            continue
        text = f"{alert.title}\n{alert.description or ''}"
        signature = next(iter(match(text)), None)
        if signature is None:
            continue
        component = canonical(alert.component) if alert.component else None
        where = f" in {component}" if component else ""
        said = f"{alert.title}: {alert.description}" if alert.description else alert.title
        found.append(
            Hypothesis(
                id=f"{signature.id}:{component or '-'}",
                statement=f"{signature.hypothesis}{where}",
                category=signature.category,
                signature=signature.id,
                component=component,
                confidence=ALERT_CONFIDENCE,
                supporting=[Citation(source=report.name, text=said, at=alert.starts_at)],
                checks=list(signature.checks),
            )
        )
    return found


def state_hypotheses(reports: list[AnyReport]) -> list[Hypothesis]:
    """One hypothesis per failure and component, strongest proof first."""
    found: dict[str, Hypothesis] = {}
    for report in reports:
        candidates: list[Hypothesis | None] = []
        if isinstance(report, KubeReport | CliStateReport):
            candidates = [_from_finding(report, f) for f in report.findings]
        elif isinstance(report, AlertReport):
            candidates = list(_from_alerts(report))
        for hypothesis in candidates:
            if hypothesis is not None:
                found[hypothesis.id] = merge(found.get(hypothesis.id), hypothesis)
    return list(found.values())


def merge(current: Hypothesis | None, new: Hypothesis) -> Hypothesis:
    """The stronger statement, both proofs (a describe and an alert that agree)."""
    if current is None:
        return new
    lead, other = (current, new) if current.confidence >= new.confidence else (new, current)
    cited = [*lead.supporting, *(c for c in other.supporting if c not in lead.supporting)]
    return lead.model_copy(update={"supporting": cited[:MAX_CITATIONS]})
