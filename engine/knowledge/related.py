"""Past cases and runbooks that look like the case at hand.

The query is the incident as the engine sees it: the title, the working conclusion, the
leading hypotheses, the suspect components and the first error templates of each file. Past
cases are postmortems stored at close (engine/knowledge/postmortem.py), whose Symptoms
section holds the same kind of text, so like finds like.

Only close matches are shown: fused (RRF) scores are ranks, not relevance, so each hit must
also be near the query by cosine similarity. A case is shown each document once
(`case_related_shown`), so later turns only mention what is new.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from psycopg_pool import AsyncConnectionPool

from engine.investigate.prompting import evidence_details
from engine.investigate.result import Investigation
from engine.knowledge.base import KnowledgeBase, case_id_of, case_source
from engine.knowledge.postmortem import root_cause
from engine.knowledge.search import Hit
from engine.models import Case, Evidence
from engine.store import cases as case_store
from engine.wording import clip

# MiniLM cosine similarity of incident text (title, conclusion, error templates) to the
# starter runbooks: its own runbook's section 0.52-0.71, neighbouring topics 0.41-0.43,
# unrelated 0.1-0.3. A past case of the same failure scores ~0.7 against its postmortem, a
# different failure ~0.5 (postmortems share their shape). A hit must clear its floor and be
# within the margin of the best one.
MIN_RUNBOOK_SIMILARITY = 0.45
MIN_CASE_SIMILARITY = 0.6
MARGIN = 0.1
SHOWN_CASES = 2
SHOWN_RUNBOOKS = 2
QUERY_TEMPLATES_PER_FILE = 2


@dataclass(frozen=True)
class RelatedItem:
    kind: Literal["case", "runbook"]
    document_id: int
    title: str
    link: str | None
    similarity: float
    line: str  # how the thread shows it, Slack mrkdwn


def incident_query(case: Case, result: Investigation | None, evidence: list[Evidence]) -> str:
    parts = [case.title]
    live = [h for h in result.hypotheses if h.status != "ruled_out"] if result else []
    if result is not None and live:  # without a lead the conclusion is boilerplate
        parts.append(result.working_conclusion)
        parts.extend(h.statement for h in live[:3])
        parts.extend(s.component for s in result.suspects[:3])
    for item in evidence:
        if item.status == "analysed":
            parts.extend(evidence_details(item, limit=QUERY_TEMPLATES_PER_FILE))
    return "\n".join(p for p in parts if p and p.strip())


def _link(text: str, link: str | None) -> str:
    return f"<{link}|{text}>" if link else text


def _case_line(past: Case, hit: Hit, conclusion: str) -> str:
    when = f"{(past.closed_at or past.created_at):%b %-d}"
    fix = clip(past.resolution or "no resolution recorded", 120)
    return (
        f"Looks like {_link(f'case #{past.id}', hit.link)} ({when}): {clip(past.title, 80)}"
        f" — {clip(conclusion, 120)} — fix: {fix}"
    )


def _runbook_line(hit: Hit) -> str:
    where = f" › {hit.section}" if hit.section else ""
    return f"Runbook: {_link(hit.title, hit.link)}{where}"


def as_next_step(item: RelatedItem) -> str:
    """The item as a step of the investigation (the case summary's next steps)."""
    if item.kind == "case":
        return "Check whether this is the same failure: " + item.line.removeprefix("Looks like ")
    return "Follow the " + item.line.replace("Runbook: ", "runbook ", 1)


def _close(hits: list[Hit], minimum: float) -> list[Hit]:
    best = max((h.similarity or 0.0 for h in hits), default=0.0)
    floor = max(minimum, best - MARGIN)
    return [h for h in hits if h.similarity is not None and h.similarity >= floor]


class RelatedKnowledge:
    def __init__(self, pool: AsyncConnectionPool, knowledge: KnowledgeBase) -> None:
        self.pool = pool
        self.knowledge = knowledge

    async def find(self, case: Case, query: str) -> list[RelatedItem]:
        """Close past cases (other than this one) and runbooks, best first."""
        if not query.strip() or await self.knowledge.is_empty():
            return []
        # Past cases of the whole workspace by default: incident channels are often one per
        # incident, so the case that looks alike is rarely in this channel.
        case_channel = (
            case.channel_id if self.knowledge.settings.past_cases_scope == "channel" else None
        )
        past_hits = await self.knowledge.search(
            query, k=SHOWN_CASES + 1, tiers=["case"], channel_id=case_channel
        )
        runbook_hits = await self.knowledge.search(
            query, k=SHOWN_RUNBOOKS, tiers=["global", "channel"], channel_id=case.channel_id
        )
        own = case_source(case.id)
        close = _close([h for h in past_hits if h.source != own], MIN_CASE_SIMILARITY)
        close += _close(runbook_hits, MIN_RUNBOOK_SIMILARITY)
        past_ids = [cid for h in close if (cid := case_id_of(h.source)) is not None]
        past = await case_store.get_many(self.pool, past_ids) if past_ids else {}
        items: list[RelatedItem] = []
        for hit in close:
            case_id = case_id_of(hit.source)
            similarity = hit.similarity or 0.0
            if case_id is not None and hit.tier == "case":
                past_case = past.get(case_id)
                if past_case is None or past_case.status == "open":
                    continue  # a reopened case is no answer yet
                conclusion = past_case.working_conclusion or root_cause(None)[0]
                line = _case_line(past_case, hit, conclusion)
                items.append(
                    RelatedItem("case", hit.document_id, hit.title, hit.link, similarity, line)
                )
            elif hit.tier != "case":
                items.append(
                    RelatedItem(
                        "runbook",
                        hit.document_id,
                        hit.title,
                        hit.link,
                        similarity,
                        _runbook_line(hit),
                    )
                )
        cases_first = sorted(items, key=lambda i: (i.kind != "case", -i.similarity))
        return [i for i in cases_first if i.kind == "case"][:SHOWN_CASES] + [
            i for i in cases_first if i.kind == "runbook"
        ][:SHOWN_RUNBOOKS]

    async def unseen(self, case_id: int, items: list[RelatedItem]) -> list[RelatedItem]:
        """The items this case's thread has not been shown yet."""
        if not items:
            return []
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT document_id FROM case_related_shown WHERE case_id = %s", (case_id,)
            )
            seen = {int(row[0]) for row in await cur.fetchall()}
        return [i for i in items if i.document_id not in seen]

    async def mark_shown(self, case_id: int, items: list[RelatedItem]) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO case_related_shown (case_id, document_id)"
                " SELECT %s, unnest(%s::bigint[]) ON CONFLICT DO NOTHING",
                (case_id, [i.document_id for i in items]),
            )
