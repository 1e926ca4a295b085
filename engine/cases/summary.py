"""The case summary: the one message per case kept up to date as the investigation goes."""

from __future__ import annotations

from engine.core.models import Case
from engine.core.replies import CaseSummaryReply, HypothesisLine
from engine.core.wording import clip
from engine.investigate.result import Hypothesis, Investigation

SHOWN_HYPOTHESES = 5
SHOWN_STEPS = 4
SHOWN_COMMANDS = 2  # extra lines for commands beyond the steps
EVIDENCE_CHARS = 120
PHASE_LABELS = {
    "consulting": "🗣️ consulting",
    "diagnosing": "🔍 diagnosing",
    "analyzing": "🧪 analyzing",
    "resolved": "✅ resolved",
}
STATUS_MARKS = {"proposed": "", "testing": "🧪 ", "confirmed": "✅ ", "ruled_out": "🚫 "}


def _line(hypothesis: Hypothesis) -> HypothesisLine:
    cited = hypothesis.supporting[0] if hypothesis.supporting else None
    return HypothesisLine(
        key=hypothesis.id,
        statement=hypothesis.statement,
        confidence=hypothesis.confidence,
        status=hypothesis.status,
        decided_by=hypothesis.decided_by,
        evidence=f"{clip(cited.text, EVIDENCE_CHARS)} ({cited.source})" if cited else None,
        check=hypothesis.live_check,
    )


def describe_line(line: HypothesisLine) -> str:
    """'🧪 Pool exhausted in payments — 80%', with who decided it when someone did."""
    text = f"{STATUS_MARKS[line.status]}{line.statement} — {line.confidence:.0%}"
    if line.decided_by and line.status in ("confirmed", "ruled_out"):
        verb = "confirmed" if line.status == "confirmed" else "ruled out"
        text += f" ({verb} by {line.decided_by})"
    return text


def case_summary(
    case: Case,
    result: Investigation | None,
    *,
    footer: str = "",
    status: str | None = None,
) -> CaseSummaryReply:
    """The summary of a case after its latest turn (None: no turn yet), with a progress status
    while a run is going."""
    if result is None:
        conclusion, confidence, lines, steps, phase = (
            "Not investigated yet.",
            0.0,
            [],
            [],
            case.phase,
        )
    else:
        conclusion, confidence, phase = result.working_conclusion, result.confidence, result.phase
        lines = [_line(h) for h in result.hypotheses[:SHOWN_HYPOTHESES]]
        steps = result.next_steps[:SHOWN_STEPS]
        # Commands an LLM suggested apart from its steps: worth a line each, ready to copy,
        # within the room the steps left.
        room = SHOWN_STEPS + SHOWN_COMMANDS - len(steps)
        steps += [
            f"Run `{command}`"
            for command in result.commands[:SHOWN_STEPS]
            if not any(command in step for step in steps)
        ][:room]
    if case.status != "open":
        phase = "resolved"
    text = [
        f"*Case #{case.id}: {case.title}* · {PHASE_LABELS.get(phase, phase)}",
        f"*Working conclusion:* {conclusion}",
    ]
    if lines:
        text.append("*Hypotheses*")
        text.extend(f"{i}. {describe_line(line)}" for i, line in enumerate(lines, 1))
    if steps:
        text.append("*Next steps*")
        text.extend(f"• {step}" for step in steps)
    if status:
        text.append(f"⏳ {status}")
    return CaseSummaryReply(
        case_id=case.id,
        title=case.title,
        phase=phase,
        working_conclusion=conclusion,
        confidence=confidence,
        hypotheses=lines,
        next_steps=steps,
        status=status,
        footer=footer,
        text="\n".join(text),
    )
