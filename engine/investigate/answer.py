"""Answer a question in a case: the LLM when one is configured and works, else offline."""

from __future__ import annotations

import asyncio
import logging

from engine.evidence.redact import Redactor
from engine.investigate.llm import LLM, LLMUnavailable
from engine.investigate.offline import reason
from engine.investigate.prompting import build_messages
from engine.models import Case, Evidence, Message
from engine.replies import AnswerReply
from engine.wording import plural

log = logging.getLogger(__name__)


async def answer_question(
    llm: LLM,
    case: Case,
    history: list[Message],
    evidence: list[Evidence],
    question: str,
    asker: str,
    *,
    deadline_s: float,
    redactor: Redactor,
) -> AnswerReply:
    """`deadline_s` bounds all LLM attempts together, so a slow provider still leaves the job
    time to post the offline answer instead of timing out with nothing said."""
    offline = reason(question, history, evidence)
    analysed = sum(1 for e in evidence if e.status == "analysed")
    basis = f"{plural(analysed, 'file')}, {plural(len(history), 'message')}"
    answer = AnswerReply(
        case_id=case.id,
        text=offline.text,
        engine="offline",
        findings=offline.findings,
        next_steps=offline.next_steps,
        footer=f"Offline analysis — no LLM was used · {basis}",
    )
    if not llm.configured:
        return answer
    why_offline: str
    prompt = build_messages(case, history, evidence, question, asker, redactor)
    try:
        async with asyncio.timeout(deadline_s):
            result = await llm.complete(prompt)
    except TimeoutError:
        log.warning("case %s: LLM took over %.0f s, answering offline", case.id, deadline_s)
        why_offline = "LLM too slow"
    except LLMUnavailable as exc:
        log.warning("case %s: every LLM failed, answering offline: %s", case.id, exc)
        why_offline = "LLM unavailable: " + ", ".join(r.split(":", 1)[0] for r in exc.reasons)
    else:
        return answer.model_copy(
            update={
                "text": result.text,
                "engine": "llm",
                "model": result.model,
                "footer": f"Answered by {result.model} · {basis}",
            }
        )
    return answer.model_copy(
        update={"footer": f"Offline analysis — no LLM was used ({why_offline}) · {basis}"}
    )
