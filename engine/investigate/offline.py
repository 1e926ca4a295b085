"""The offline reasoner's answer in words: the structured turn (`reasoner`) rendered.

It is the default for air-gapped teams, so it must be useful on its own: the most likely
cause with the lines behind it, the other hypotheses with their confidence, the suspects,
and what to check next.
"""

from __future__ import annotations

from engine.core.wording import clip
from engine.investigate.result import Hypothesis, Investigation

SHOWN_HYPOTHESES = 3
CITATION_CHARS = 110
_DECIDED = {"confirmed": "✅ confirmed", "ruled_out": "ruled out"}


def _line(hypothesis: Hypothesis) -> str:
    text = f"{hypothesis.statement} ({hypothesis.confidence:.0%})"
    if hypothesis.status in _DECIDED:
        who = f" by {hypothesis.decided_by}" if hypothesis.decided_by else ""
        text += f" — {_DECIDED[hypothesis.status]}{who}"
    if hypothesis.supporting:
        cited = hypothesis.supporting[0]
        text += f" — `{clip(cited.text, CITATION_CHARS)}` in {cited.source}"
    return text


def _shown(result: Investigation) -> list[Hypothesis]:
    """The leading hypotheses; ruled-out ones are not worth a line in an answer."""
    return [h for h in result.hypotheses if h.status != "ruled_out"][:SHOWN_HYPOTHESES]


def _headline(result: Investigation, findings: list[str]) -> str:
    if not findings:
        return "*I have no evidence for this case yet.*"
    if not result.suspects and not any(h.confidence > 0.1 for h in result.hypotheses):
        return f"*No sign of an incident yet.* {result.working_conclusion}"
    live = _shown(result)
    if not live:
        return "*Every hypothesis so far was ruled out.* Upload more evidence or say what you see."
    top = live[0]
    label = (
        "Confirmed"
        if top.status == "confirmed"
        else "Most likely"
        if top.signature
        else "Best lead"
    )
    return f"*{label}:* {top.statement} ({top.confidence:.0%} confidence)."


def render_answer(result: Investigation, findings: list[str]) -> str:
    """The turn in words, for the thread: headline, evidence, hypotheses, suspects, steps."""
    hypotheses = [_line(h) for h in _shown(result)]
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
