"""The offline reasoner's answer in words: the structured turn (`reasoner`) rendered.

It is the default for air-gapped teams, so it must be useful on its own: the most likely
cause with the lines behind it, the other hypotheses with their confidence, the suspects,
and what to check next.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.investigate.reasoner import investigate_offline
from engine.investigate.result import Hypothesis, Investigation
from engine.models import Evidence, Message
from engine.wording import clip

SHOWN_HYPOTHESES = 3
CITATION_CHARS = 110


@dataclass
class OfflineAnswer:
    findings: list[str]
    hypotheses: list[str]
    next_steps: list[str]
    text: str
    result: Investigation


def _line(hypothesis: Hypothesis) -> str:
    text = f"{hypothesis.statement} ({hypothesis.confidence:.0%})"
    if hypothesis.supporting:
        cited = hypothesis.supporting[0]
        text += f" — `{clip(cited.text, CITATION_CHARS)}` in {cited.source}"
    return text


def reason(question: str, history: list[Message], evidence: list[Evidence]) -> OfflineAnswer:
    analysed = [e for e in evidence if e.status == "analysed"]
    reports = [e.report for e in analysed if e.report is not None]
    said = [m.text for m in history if m.role == "user"]
    result = investigate_offline(question, said, reports)
    findings = [e.summary for e in analysed]
    hypotheses = [_line(h) for h in result.hypotheses[:SHOWN_HYPOTHESES]]
    return OfflineAnswer(
        findings, hypotheses, result.next_steps, _render(result, findings, hypotheses), result
    )


def _headline(result: Investigation, findings: list[str]) -> str:
    if not findings:
        return "*I have no evidence for this case yet.*"
    if not result.suspects and not any(h.confidence > 0.1 for h in result.hypotheses):
        return f"*No sign of an incident yet.* {result.working_conclusion}"
    top = result.hypotheses[0]
    label = "Most likely" if top.signature else "Best lead"
    return f"*{label}:* {top.statement} ({top.confidence:.0%} confidence)."


def _render(result: Investigation, findings: list[str], hypotheses: list[str]) -> str:
    lines = [_headline(result, findings)]
    if findings:
        lines.append("\n*What the evidence shows*")
        lines.extend(f"• {f}" for f in findings)
    if hypotheses:
        lines.append("\n*Hypotheses*")
        lines.extend(f"{i}. {h}" for i, h in enumerate(hypotheses, 1))
    if result.suspects:
        lines.append("\n*Suspects*")
        lines.extend(
            f"• {s.component} ({s.score:.2f}): {'; '.join(s.reasons[:2])}"
            for s in result.suspects[:SHOWN_HYPOTHESES]
        )
    steps = result.next_steps
    if not findings:
        steps = [
            "Upload the logs of the failing service around the incident time into this thread "
            "(.log, .txt, .json); I will analyse them",
            *steps,
        ]
    if steps:
        lines.append("\n*Check next*")
        lines.extend(f"• {s}" for s in steps)
    return "\n".join(lines)
