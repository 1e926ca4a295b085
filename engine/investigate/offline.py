"""The offline reasoner: answers from the evidence analysis alone, with no LLM.

It is the default for air-gapped teams, so it must be useful on its own: it says what the
evidence shows, ranks likely causes from the failure-signature library with the error lines
that support them, and says what to check next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from engine.evidence.report import LogReport
from engine.evidence.suspects import Suspect, rank_case_suspects
from engine.investigate.signatures import Signature, match
from engine.models import Evidence, Message

MAX_HYPOTHESES = 3
MAX_CHECKS = 5
SUSPECT_SHARE_OF_TOP = 0.5  # suspects scoring under half the top one are not leads


@dataclass
class Lead:
    """One hypothesis and the evidence behind it."""

    signature: Signature
    error_count: int = 0
    first_seen: datetime | None = None
    citations: list[str] = field(default_factory=list)
    from_conversation: bool = False

    def sort_key(self) -> tuple[int, float]:
        # More supporting errors first; among equals, the one that started earlier,
        # because in a cascade the first failure is usually the cause.
        first = self.first_seen.timestamp() if self.first_seen else float("inf")
        return (-self.error_count, first)


@dataclass
class OfflineAnswer:
    findings: list[str]
    hypotheses: list[str]
    next_steps: list[str]
    text: str


def _hhmm(ts: datetime | None) -> str:
    return ts.strftime("%H:%M UTC") if ts else "unknown time"


def _collect_leads(evidence: list[Evidence], conversation: str) -> list[Lead]:
    leads: dict[str, Lead] = {}
    for item in evidence:
        if not isinstance(item.report, LogReport):
            continue
        for group in item.report.error_groups:
            for sig in match(f"{group.example}\n{group.message}"):
                lead = leads.setdefault(sig.id, Lead(sig))
                lead.error_count += group.count
                if group.first_seen and (
                    lead.first_seen is None or group.first_seen < lead.first_seen
                ):
                    lead.first_seen = group.first_seen
                lead.citations.append(
                    f"{group.count:,} × `{group.message[:90]}` in {item.name}"
                    + (f" (from {_hhmm(group.first_seen)})" if group.first_seen else "")
                )
    # What people said in the thread is a weaker signal, used when files say nothing.
    for sig in match(conversation):
        if sig.id not in leads:
            leads[sig.id] = Lead(sig, from_conversation=True)
    ranked = sorted(leads.values(), key=lambda lead: (lead.from_conversation, *lead.sort_key()))
    return ranked[:MAX_HYPOTHESES]


def _first_error(evidence: list[Evidence]) -> tuple[Evidence, str, datetime | None] | None:
    best: tuple[Evidence, str, datetime | None] | None = None
    for item in evidence:
        if not isinstance(item.report, LogReport) or not item.report.error_groups:
            continue
        group = min(
            item.report.error_groups,
            key=lambda g: g.first_seen.timestamp() if g.first_seen else float("inf"),
        )
        if best is None or (group.first_seen and (best[2] is None or group.first_seen < best[2])):
            best = (item, group.message, group.first_seen)
    return best


def _suspects(evidence: list[Evidence]) -> list[Suspect]:
    """The case's suspects (all evidence combined), most likely first, without the ones far
    below the top: a caller halved as a victim would contradict its own reasons."""
    ranked = rank_case_suspects([e.report for e in evidence if e.report is not None])
    if not ranked:
        return []
    floor = SUSPECT_SHARE_OF_TOP * ranked[0].score
    return [s for s in ranked if s.score >= floor]


def reason(question: str, history: list[Message], evidence: list[Evidence]) -> OfflineAnswer:
    analysed = [e for e in evidence if e.status == "analysed"]
    findings = [e.summary for e in analysed]
    conversation = "\n".join([question, *(m.text for m in history if m.role == "user")])
    leads = _collect_leads(analysed, conversation)

    hypotheses: list[str] = []
    next_steps: list[str] = []
    suspects = _suspects(analysed)
    for lead in leads:
        support = (
            "; ".join(lead.citations[:2])
            if lead.citations
            else "suggested by the conversation only"
        )
        hypotheses.append(f"{lead.signature.hypothesis} — {support}")
        next_steps.extend(c for c in lead.signature.checks if c not in next_steps)

    first = _first_error(analysed)
    if not hypotheses and first is not None:
        item, message, seen = first
        hypotheses.append(
            f"The earliest error is the best lead: `{message[:90]}` in {item.name} at {_hhmm(seen)}"
        )
        next_steps.append(
            f"Look at what changed just before {_hhmm(seen)} (deploys, config, traffic)"
        )
    for suspect in suspects[:2]:
        reasons = "; ".join(suspect.reasons[:2])
        hypotheses.append(f"{suspect.component} is where the failures start — {reasons}")
        next_steps.append(
            f"Look at {suspect.component} first: its recent deploys, saturation and logs"
        )
    if not analysed:
        next_steps.insert(
            0,
            "Upload the logs of the failing service around the incident time into this thread "
            "(.log, .txt, .json); I will analyse them",
        )
    elif first is not None and first[2] is not None:
        next_steps.append(f"Check deploys and config changes shortly before {_hhmm(first[2])}")
    next_steps = next_steps[:MAX_CHECKS]

    return OfflineAnswer(
        findings, hypotheses, next_steps, _render(leads, findings, hypotheses, next_steps)
    )


def _render(leads: list[Lead], findings: list[str], hypotheses: list[str], steps: list[str]) -> str:
    lines: list[str] = []
    if leads and not leads[0].from_conversation:
        lines.append(f"*Most likely:* {leads[0].signature.hypothesis}.")
    elif hypotheses:
        lines.append(f"*Best lead:* {hypotheses[0]}")
    elif findings:
        lines.append("*No errors that point to a cause yet.*")
    else:
        lines.append("*I have no evidence for this case yet.*")
    if findings:
        lines.append("\n*What the evidence shows*")
        lines.extend(f"• {f}" for f in findings)
    if hypotheses:
        lines.append("\n*Hypotheses*")
        lines.extend(f"{i}. {h}" for i, h in enumerate(hypotheses, 1))
    if steps:
        lines.append("\n*Check next*")
        lines.extend(f"• {s}" for s in steps)
    return "\n".join(lines)
