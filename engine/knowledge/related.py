"""Past cases and runbooks that look like the case at hand, each with why it was picked.

Runbooks are asked for by the case's facets (engine/knowledge/facets.py): one short query per
failure signature of its leading hypotheses, error template of its logs, alert, kubectl
finding, its title and its suspect components. A runbook keeps its best match (the facet's
weight times the section's cosine similarity to it) and says which facet found it ("matches
the error template `x509: certificate has expired`"); one found by several facets gains a
little.

Past cases are postmortems stored at close (engine/knowledge/postmortem.py). They are asked
for by the incident as a whole (title, leading hypotheses, suspect components, the first error
templates, alerts and kubectl findings of the evidence): a postmortem is a whole incident too.
Only their sections that describe a failure (summary, root cause, symptoms) are compared,
since the others read alike from case to case, and a past case whose lead had the same
failure signature or component gets a bonus (tags stored with it), which is also what it
says of itself ("same failure signature as case #12"). Measured by
tests/bench/bench_past_cases.py and tests/bench/bench_related_runbooks.py.

How cases ended counts too (engine/store/outcomes.py): a past case reopened because its fix
did not hold ranks below one whose fix held, and a runbook or past case that helped close the
team's cases of the same failure signature gains a small, bounded bonus.

Only close matches are shown: a hybrid score is a weighted sum of normalised BM25 and cosine
similarity, comparable within one search but not a relevance between searches, so each hit
must also be near its query by cosine similarity. A case is shown each document once
(`case_related_shown`), so later turns only mention what is new.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from psycopg_pool import AsyncConnectionPool

from engine.core.models import Case
from engine.core.wording import clip, linked, plural
from engine.evidence.components import canonical
from engine.evidence.reports import Evidence
from engine.investigate.result import Investigation
from engine.knowledge.base import KnowledgeBase, case_id_of, case_source
from engine.knowledge.facets import Facet, incident_facets
from engine.knowledge.postmortem import error_templates, root_cause, state_symptoms
from engine.knowledge.search import Hit
from engine.store import cases as case_store
from engine.store import outcomes as outcome_store
from engine.store import related_shown
from engine.store.outcomes import TrackRecord

# MiniLM cosine similarity of a past case of the same failure to its postmortem's describing
# sections is ~0.7 for the incident text (title, hypotheses, error templates), a different
# failure's ~0.5. A hit must clear its floor (a runbook: its facet's, facets.py) and be
# within the margin of the best one.
MIN_CASE_SIMILARITY = 0.6
MARGIN = 0.1
SHOWN_CASES = 2
SHOWN_RUNBOOKS = 2
QUERY_TEMPLATES_PER_FILE = 3
RUNBOOK_CANDIDATES = 3  # per facet
# A runbook found by more than one facet: a little more likely the one (two more at most).
AGREEMENT_BONUS = 0.02
MAX_AGREEING = 2
# Postmortem sections that describe the failure; the rest (timeline, impact, follow-ups)
# reads alike from one case to the next and would match anything.
MATCHING_SECTIONS = frozenset({"", "Summary", "Root cause", "Symptoms"})
# Added to a past case's similarity when its leading hypothesis had the same failure
# signature, and again when it was about the same component.
SAME_SIGNATURE_BONUS = 0.08
SAME_COMPONENT_BONUS = 0.04
PAST_CANDIDATES = 16
# Outcomes. Bounded so that they order close matches without making a far one close:
# a document that helped close cases of this failure signature, per case (at most the cap);
# a past case whose lead was graded the root cause and never reopened; one reopened, per
# reopening (at most the cap).
HELPED_BONUS = 0.03
HELPED_CAP = 0.06
HELD_BONUS = 0.02
REOPENED_PENALTY = 0.05
REOPENED_CAP = 0.1


@dataclass(frozen=True)
class RelatedItem:
    kind: Literal["case", "runbook"]
    document_id: int
    title: str
    link: str | None
    similarity: float
    line: str  # how the thread shows it, Slack mrkdwn
    text: str = ""  # the matching section's text (a runbook's, a postmortem's), for the LLM
    why: str = ""  # why it was picked: "matches the error template `…`"


@dataclass(frozen=True)
class _Match:
    score: float  # the facet's weight times the hit's similarity
    hit: Hit
    facet: Facet
    agreeing: int = 1  # facets that found the document


def incident_query(case: Case, result: Investigation | None, evidence: list[Evidence]) -> str:
    """The incident in words: what it was called, what the engine thinks, which components,
    and the first error templates of each log, alerts and kubectl findings (metric
    statistics would only add noise). What a postmortem's describing sections hold."""
    parts = [case.title]
    live = [h for h in result.hypotheses if h.status != "ruled_out"] if result else []
    parts.extend(h.statement for h in live[:3])
    parts.extend(s.component for s in (result.suspects[:3] if result else []))
    parts.extend(error_templates(evidence, QUERY_TEMPLATES_PER_FILE))
    parts.extend(state_symptoms(evidence, QUERY_TEMPLATES_PER_FILE))
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


def _lead_signature(marks: set[str]) -> str | None:
    return next((m.removeprefix("signature:") for m in marks if m.startswith("signature:")), None)


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
    """The item as a step of the investigation (the case summary's next steps), with why."""
    why = f" ({item.why})" if item.why else ""  # bounded where it is written
    if item.kind == "case":
        return (
            "Check whether this is the same failure: " + item.line.removeprefix("Looks like ") + why
        )
    return "Follow the " + item.line.replace("Runbook: ", "runbook ", 1) + why


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


def _helped(times: int, signature: str | None) -> tuple[float, str]:
    """The bonus of a document that helped close `times` of the team's cases of this
    signature, and what to say of it."""
    if not times or not signature:
        return 0.0, ""
    said = f"helped close {plural(times, 'past case')} of the same failure (`{signature}`)"
    return min(HELPED_CAP, HELPED_BONUS * times), said


def _track(record: TrackRecord | None) -> tuple[float, str]:
    """A past case's bonus (or penalty) for how its fix fared, and what to say of it."""
    if record is None:
        return 0.0, ""
    if record.reopened:
        times = "once" if record.reopened == 1 else f"{record.reopened} times"
        penalty = min(REOPENED_CAP, REOPENED_PENALTY * record.reopened)
        return -penalty, f"reopened {times}: a fix of it did not hold"
    if record.verdict == "root_cause":
        return HELD_BONUS, "its fix held and its conclusion was graded the root cause"
    return 0.0, ""


def _case_reason(past_id: int, shared: set[str], hit: Hit, templates: list[str]) -> str:
    """Why a past case is shown: what it shares with this one."""
    signature = _lead_signature(shared)
    component = next((m.split(":", 1)[1] for m in shared if m.startswith("component:")), None)
    if signature:
        why = f"same failure signature as case #{past_id} (`{signature}`)"
        return why + (f", same component (`{component}`)" if component else "")
    if component:
        return f"same component as case #{past_id} (`{component}`)"
    listed = next((t for t in templates if t in hit.text), None)
    if listed:
        return f"its postmortem lists the same error template `{clip(listed, 80)}`"
    return f"its postmortem's {hit.section.lower() or 'summary'} reads like this case"


class RelatedKnowledge:
    def __init__(self, pool: AsyncConnectionPool, knowledge: KnowledgeBase) -> None:
        self.pool = pool
        self.knowledge = knowledge

    async def find(
        self, case: Case, result: Investigation | None, evidence: list[Evidence]
    ) -> list[RelatedItem]:
        """Close past cases (other than this one) and runbooks: past cases first."""
        # Each search returns nothing, without loading the model, while knowledge is empty.
        marks = fingerprint(result)
        query = incident_query(case, result, evidence)
        facets = incident_facets(case, result, evidence)
        # The facets embedded in one call of the model: a batch is padded to its longest
        # text, so the (long) incident query is embedded on its own by its search.
        await self.knowledge.prime([facet.query for facet in facets])
        templates = error_templates(evidence, QUERY_TEMPLATES_PER_FILE)
        cases = await self._past_cases(case, query, marks, templates)
        runbooks = await self._runbooks(case, facets, _lead_signature(marks))
        return cases[:SHOWN_CASES] + runbooks[:SHOWN_RUNBOOKS]

    async def _runbooks(
        self, case: Case, facets: list[Facet], signature: str | None
    ) -> list[RelatedItem]:
        """Runbooks and team notes close to one of the facets, best first."""
        best: dict[int, _Match] = {}
        for facet in facets:
            hits = await self.knowledge.search(
                facet.query,
                k=RUNBOOK_CANDIDATES,
                tiers=["global", "channel"],
                channel_id=case.channel_id,
            )
            for hit in hits:
                similarity = hit.similarity or 0.0
                if similarity < facet.floor:
                    continue
                match = _Match(facet.weight * similarity, hit, facet)
                known = best.get(hit.document_id)
                if known is None:
                    best[hit.document_id] = match
                    continue
                winner = match if match.score > known.score else known
                best[hit.document_id] = _Match(
                    winner.score, winner.hit, winner.facet, known.agreeing + 1
                )
        if not best:
            return []
        helped = (
            await outcome_store.helped_counts(self.pool, team_id=case.team_id, signature=signature)
            if signature
            else {}
        )
        scored: list[tuple[float, Hit]] = []
        reasons: dict[int, str] = {}
        for document_id, match in best.items():
            bonus, said = _helped(helped.get(document_id, 0), signature)
            bonus += AGREEMENT_BONUS * min(match.agreeing - 1, MAX_AGREEING)
            scored.append((match.score + bonus, match.hit))
            reasons[document_id] = "; ".join(p for p in (match.facet.why, said) if p)
        return [
            RelatedItem(
                "runbook",
                hit.document_id,
                hit.title,
                hit.link,
                score,
                _runbook_line(hit),
                hit.text,
                reasons[hit.document_id],
            )
            for score, hit in _close(scored, 0.0)
        ]

    async def _past_cases(
        self, case: Case, query: str, marks: set[str], templates: list[str]
    ) -> list[RelatedItem]:
        """Closed cases whose postmortem describes this failure: the best similarity of its
        describing sections, plus a bonus for the same failure signature and component, and
        for how its fix fared."""
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
        if not best:
            return []
        tags = await self.knowledge.tags(list(best))
        case_of = {d: cid for d, h in best.items() if (cid := case_id_of(h.source)) is not None}
        records = await outcome_store.track_records(self.pool, list(case_of.values()))
        signature = _lead_signature(marks)
        helped = (
            await outcome_store.helped_counts(self.pool, team_id=case.team_id, signature=signature)
            if signature
            else {}
        )
        scored = []
        reasons: dict[int, str] = {}
        for document_id, hit in best.items():
            shared = marks & set(tags.get(document_id, []))
            bonus = sum(
                SAME_SIGNATURE_BONUS if mark.startswith("signature:") else SAME_COMPONENT_BONUS
                for mark in shared
            )
            past_id = case_of.get(document_id, 0)
            fared, fate = _track(records.get(past_id))
            helps, help_said = _helped(helped.get(document_id, 0), signature)
            scored.append(((hit.similarity or 0.0) + bonus + fared + helps, hit))
            why = _case_reason(past_id, shared, hit, templates)
            reasons[document_id] = "; ".join(p for p in (why, fate, help_said) if p)
        close = _close(scored, MIN_CASE_SIMILARITY)
        ids = [case_of[h.document_id] for _, h in close if h.document_id in case_of]
        past = await case_store.get_many(self.pool, ids) if ids else {}
        items = []
        for score, hit in close:
            past_case = past.get(case_of.get(hit.document_id, 0))
            if past_case is None or past_case.status == "open":
                continue  # a reopened case is no answer yet
            conclusion = past_case.working_conclusion or root_cause(None)[0]
            line = _case_line(past_case, hit, conclusion)
            items.append(
                RelatedItem(
                    "case",
                    hit.document_id,
                    hit.title,
                    hit.link,
                    score,
                    line,
                    hit.text,
                    reasons[hit.document_id],
                )
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
