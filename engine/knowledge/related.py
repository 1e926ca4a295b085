"""Past cases and runbooks that look like the case at hand.

The query is the incident as the engine sees it after a turn's offline reasoning: the title,
the leading hypotheses, the suspect components and the first error templates of each log.
Past cases are postmortems stored at close (engine/knowledge/postmortem.py); only their
sections that describe a failure (summary, root cause, symptoms) are compared, since the
others read alike from case to case, and a past case whose lead had the same failure
signature or component gets a bonus (tags stored with it). Measured by
tests/bench/bench_past_cases.py.

Only close matches are shown: fused (RRF) scores are ranks, not relevance, so each hit must
also be near the query by cosine similarity. A case is shown each document once
(`case_related_shown`), so later turns only mention what is new.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from psycopg_pool import AsyncConnectionPool

from engine.core.models import Case
from engine.core.wording import clip, linked
from engine.evidence.components import canonical
from engine.evidence.reports import Evidence
from engine.investigate.result import Investigation
from engine.knowledge.base import KnowledgeBase, case_id_of, case_source
from engine.knowledge.postmortem import error_templates, root_cause
from engine.knowledge.search import Hit
from engine.store import cases as case_store
from engine.store import related_shown

# MiniLM cosine similarity of incident text (title, hypotheses, error templates) to the
# starter runbooks: its own runbook's section 0.52-0.71, neighbouring topics 0.41-0.43,
# unrelated 0.1-0.3. A past case of the same failure scores ~0.7 against its postmortem's
# describing sections, a different failure ~0.5. A hit must clear its floor and be
# within the margin of the best one.
MIN_RUNBOOK_SIMILARITY = 0.45
MIN_CASE_SIMILARITY = 0.6
MARGIN = 0.1
SHOWN_CASES = 2
SHOWN_RUNBOOKS = 2
QUERY_TEMPLATES_PER_FILE = 3
# Postmortem sections that describe the failure; the rest (timeline, impact, follow-ups)
# reads alike from one case to the next and would match anything.
MATCHING_SECTIONS = frozenset({"", "Summary", "Root cause", "Symptoms"})
# Added to a past case's similarity when its leading hypothesis had the same failure
# signature, and again when it was about the same component.
SAME_SIGNATURE_BONUS = 0.08
SAME_COMPONENT_BONUS = 0.04
PAST_CANDIDATES = 16


@dataclass(frozen=True)
class RelatedItem:
    kind: Literal["case", "runbook"]
    document_id: int
    title: str
    link: str | None
    similarity: float
    line: str  # how the thread shows it, Slack mrkdwn
    text: str = ""  # the matching section's text (a runbook's, a postmortem's), for the LLM


def incident_query(case: Case, result: Investigation | None, evidence: list[Evidence]) -> str:
    """The incident in words: what it was called, what the engine thinks, which components,
    and the first error templates of each log (metric statistics would only add noise)."""
    parts = [case.title]
    live = [h for h in result.hypotheses if h.status != "ruled_out"] if result else []
    parts.extend(h.statement for h in live[:3])
    parts.extend(s.component for s in (result.suspects[:3] if result else []))
    parts.extend(error_templates(evidence, QUERY_TEMPLATES_PER_FILE))
    return "\n".join(p for p in parts if p and p.strip())


def fingerprint(result: Investigation | None) -> set[str]:
    """What identifies a failure beyond its words: the leading hypothesis's failure signature
    and component (stored as tags of a past case's document)."""
    _, lead = root_cause(result)  # the confirmed hypothesis, else the leading one
    if lead is None:
        return set()
    tags = {f"signature:{lead.signature}"} if lead.signature else set()
    if lead.component:
        tags.add(f"component:{canonical(lead.component)}")
    return tags


def _case_line(past: Case, hit: Hit, conclusion: str) -> str:
    when = f"{(past.closed_at or past.created_at):%b %-d}"
    fix = clip(past.resolution or "no resolution recorded", 120)
    return (
        f"Looks like {linked(f'case #{past.id}', hit.link)} ({when}): {clip(past.title, 80)}"
        f" — {clip(conclusion, 120)} — fix: {fix}"
    )


def _runbook_line(hit: Hit) -> str:
    where = f" › {hit.section}" if hit.section else ""
    return f"Runbook: {linked(hit.title, hit.link)}{where}"


def as_next_step(item: RelatedItem) -> str:
    """The item as a step of the investigation (the case summary's next steps)."""
    if item.kind == "case":
        return "Check whether this is the same failure: " + item.line.removeprefix("Looks like ")
    return "Follow the " + item.line.replace("Runbook: ", "runbook ", 1)


def _close(scored: list[tuple[float, Hit]], minimum: float) -> list[tuple[float, Hit]]:
    """The hits that clear `minimum` and are within MARGIN of the best one, best first."""
    best = max((score for score, _ in scored), default=0.0)
    floor = max(minimum, best - MARGIN)
    return sorted((pair for pair in scored if pair[0] >= floor), key=lambda pair: -pair[0])


def _best_per_document(hits: list[Hit], sections: frozenset[str]) -> dict[int, Hit]:
    best: dict[int, Hit] = {}
    for hit in hits:
        if hit.similarity is None or hit.section not in sections:
            continue
        known = best.get(hit.document_id)
        if known is None or (known.similarity or 0.0) < hit.similarity:
            best[hit.document_id] = hit
    return best


class RelatedKnowledge:
    def __init__(self, pool: AsyncConnectionPool, knowledge: KnowledgeBase) -> None:
        self.pool = pool
        self.knowledge = knowledge

    async def find(
        self, case: Case, result: Investigation | None, evidence: list[Evidence]
    ) -> list[RelatedItem]:
        """Close past cases (other than this one) and runbooks: past cases first."""
        # Each search returns nothing, without loading the model, while knowledge is empty.
        query = incident_query(case, result, evidence)
        cases = await self._past_cases(case, query, fingerprint(result))
        runbooks = await self.knowledge.search(
            query, k=SHOWN_RUNBOOKS, tiers=["global", "channel"], channel_id=case.channel_id
        )
        close = _close([(h.similarity or 0.0, h) for h in runbooks], MIN_RUNBOOK_SIMILARITY)
        return cases[:SHOWN_CASES] + [
            RelatedItem("runbook", h.document_id, h.title, h.link, score, _runbook_line(h), h.text)
            for score, h in close
        ]

    async def _past_cases(self, case: Case, query: str, marks: set[str]) -> list[RelatedItem]:
        """Closed cases whose postmortem describes this failure: the best similarity of its
        describing sections, plus a bonus for the same failure signature and component."""
        # Past cases of the whole workspace by default: incident channels are often one per
        # incident, so the case that looks alike is rarely in this channel.
        scope = self.knowledge.settings.past_cases_scope
        hits = await self.knowledge.search(
            query,
            k=PAST_CANDIDATES,
            tiers=["case"],
            channel_id=case.channel_id if scope == "channel" else None,
            per_document=len(MATCHING_SECTIONS),
        )
        own = case_source(case.id)
        best = _best_per_document([h for h in hits if h.source != own], MATCHING_SECTIONS)
        tags = await self.knowledge.tags(list(best))
        scored = []
        for document_id, hit in best.items():
            shared = marks & set(tags.get(document_id, []))
            bonus = sum(
                SAME_SIGNATURE_BONUS if mark.startswith("signature:") else SAME_COMPONENT_BONUS
                for mark in shared
            )
            scored.append(((hit.similarity or 0.0) + bonus, hit))
        close = _close(scored, MIN_CASE_SIMILARITY)
        ids = [cid for _, h in close if (cid := case_id_of(h.source)) is not None]
        past = await case_store.get_many(self.pool, ids) if ids else {}
        items = []
        for score, hit in close:
            past_case = past.get(case_id_of(hit.source) or 0)
            if past_case is None or past_case.status == "open":
                continue  # a reopened case is no answer yet
            conclusion = past_case.working_conclusion or root_cause(None)[0]
            line = _case_line(past_case, hit, conclusion)
            items.append(
                RelatedItem("case", hit.document_id, hit.title, hit.link, score, line, hit.text)
            )
        return items

    async def unseen(self, case_id: int, items: list[RelatedItem]) -> list[RelatedItem]:
        """The items this case's thread has not been shown yet."""
        if not items:
            return []
        seen = await related_shown.shown(self.pool, case_id)
        return [i for i in items if i.document_id not in seen]

    async def mark_shown(self, case_id: int, items: list[RelatedItem]) -> None:
        await related_shown.mark_shown(self.pool, case_id, [i.document_id for i in items])
