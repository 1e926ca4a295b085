"""Queries on how cases ended (case_outcomes): the grade of the leading hypothesis at close,
the runbook or past case that helped, and what they add up to per failure signature.

An outcome grades the case's latest close: a click after a new close (the case was reopened
and closed again) starts a fresh outcome instead of mixing two closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool

from engine.investigate.calibration import Calibration, SignatureRecord

# What the case's latest close was, read by both kinds of click: the team, the fix given,
# when it closed, and (for a verdict) when the graded hypothesis first appeared and which
# hypothesis led the first turn that had evidence.
_RECORD_VERDICT = (
    "INSERT INTO case_outcomes (case_id, team_id, verdict, grade, hypothesis_key, signature,"
    " statement, confidence, first_seen_at, first_lead_key, graded_by, graded_at, fix,"
    " closed_at)"
    " SELECT c.id, c.team_id, %(verdict)s, %(grade)s, %(key)s, %(signature)s, %(statement)s,"
    " %(confidence)s,"
    " (SELECT h.created_at FROM hypotheses h WHERE h.case_id = c.id AND h.key = %(key)s),"
    " (SELECT t.result -> 'hypotheses' -> 0 ->> 'id' FROM turns t WHERE t.case_id = c.id"
    "   AND t.evidence_count > 0 AND jsonb_array_length(t.result -> 'hypotheses') > 0"
    "   ORDER BY t.number LIMIT 1),"
    " %(by)s, now(), coalesce(c.resolution, ''), c.closed_at"
    " FROM cases c WHERE c.id = %(case)s AND c.status <> 'open' AND c.closed_at IS NOT NULL"
    " ON CONFLICT (case_id) DO UPDATE SET verdict = EXCLUDED.verdict, grade = EXCLUDED.grade,"
    " hypothesis_key = EXCLUDED.hypothesis_key, signature = EXCLUDED.signature,"
    " statement = EXCLUDED.statement, confidence = EXCLUDED.confidence,"
    " first_seen_at = EXCLUDED.first_seen_at, first_lead_key = EXCLUDED.first_lead_key,"
    " graded_by = EXCLUDED.graded_by, graded_at = EXCLUDED.graded_at,"
    " helped_document_id = CASE WHEN case_outcomes.closed_at = EXCLUDED.closed_at"
    "   THEN case_outcomes.helped_document_id END,"
    " helped_by = CASE WHEN case_outcomes.closed_at = EXCLUDED.closed_at"
    "   THEN case_outcomes.helped_by END,"
    " fix = EXCLUDED.fix, closed_at = EXCLUDED.closed_at, updated_at = now()"
)

# The lead's signature is kept with a "this helped" too: it is what the page helped with.
_RECORD_HELPED = (
    "INSERT INTO case_outcomes (case_id, team_id, hypothesis_key, signature, statement,"
    " helped_document_id, helped_by, fix, closed_at)"
    " SELECT c.id, c.team_id, %(key)s, %(signature)s, %(statement)s, %(document)s, %(by)s,"
    " coalesce(c.resolution, ''), c.closed_at"
    " FROM cases c WHERE c.id = %(case)s AND c.status <> 'open' AND c.closed_at IS NOT NULL"
    " AND EXISTS (SELECT 1 FROM knowledge_documents d WHERE d.id = %(document)s)"
    " ON CONFLICT (case_id) DO UPDATE SET helped_document_id = EXCLUDED.helped_document_id,"
    " helped_by = EXCLUDED.helped_by, hypothesis_key = EXCLUDED.hypothesis_key,"
    " signature = EXCLUDED.signature, statement = EXCLUDED.statement,"
    " verdict = CASE WHEN case_outcomes.closed_at = EXCLUDED.closed_at"
    "   THEN case_outcomes.verdict END,"
    " grade = CASE WHEN case_outcomes.closed_at = EXCLUDED.closed_at"
    "   THEN case_outcomes.grade END,"
    " fix = EXCLUDED.fix, closed_at = EXCLUDED.closed_at, updated_at = now()"
)


@dataclass(frozen=True)
class Outcome:
    case_id: int
    team_id: str
    verdict: str | None
    grade: int | None
    hypothesis_key: str | None
    signature: str | None
    statement: str | None
    helped_document_id: int | None
    fix: str
    closed_at: datetime


@dataclass(frozen=True)
class SignatureTally:
    """Graded outcomes whose leading hypothesis had this failure signature."""

    signature: str
    graded: int
    credit: float  # the grades summed, as fractions (root cause 1, contributing 0.65...)


@dataclass(frozen=True)
class TrackRecord:
    """What became of a past case: how often it was reopened, and its grade."""

    case_id: int
    reopened: int
    verdict: str | None


@dataclass(frozen=True)
class ShownDocument:
    id: int
    title: str
    tier: str
    link: str | None


@dataclass(frozen=True)
class GradedCase:
    """One graded case, for the accuracy view."""

    case_id: int
    verdict: str
    grade: int
    signature: str | None
    hypothesis_key: str | None
    first_lead_key: str | None
    opened_at: datetime
    first_seen_at: datetime | None
    reopened: int


async def record_verdict(
    pool: AsyncConnectionPool,
    *,
    case_id: int,
    verdict: str,
    grade: int,
    hypothesis_key: str | None,
    signature: str | None,
    statement: str | None,
    confidence: float | None,
    graded_by: str,
) -> bool:
    """Grade the case's leading hypothesis at its latest close (the latest grade wins);
    False when the case is not closed."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            _RECORD_VERDICT,
            {
                "case": case_id,
                "verdict": verdict,
                "grade": grade,
                "key": hypothesis_key,
                "signature": signature,
                "statement": statement,
                "confidence": confidence,
                "by": graded_by,
            },
        )
        return cur.rowcount > 0


async def record_helped(
    pool: AsyncConnectionPool,
    *,
    case_id: int,
    document_id: int,
    helped_by: str,
    hypothesis_key: str | None,
    signature: str | None,
    statement: str | None,
) -> bool:
    """Note the runbook or past case that helped close the case, with the case's lead at
    close; False when the case is not closed or the document is gone."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            _RECORD_HELPED,
            {
                "case": case_id,
                "document": document_id,
                "by": helped_by,
                "key": hypothesis_key,
                "signature": signature,
                "statement": statement,
            },
        )
        return cur.rowcount > 0


async def outcome(pool: AsyncConnectionPool, case_id: int) -> Outcome | None:
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Outcome)) as cur:
        await cur.execute(
            "SELECT case_id, team_id, verdict, grade, hypothesis_key, signature, statement,"
            " helped_document_id, fix, closed_at FROM case_outcomes WHERE case_id = %(case)s",
            {"case": case_id},
        )
        return await cur.fetchone()


async def signature_tallies(pool: AsyncConnectionPool, team_id: str) -> list[SignatureTally]:
    """Per failure signature, the team's graded outcomes whose lead had it. A grade counts
    while it grades the case's latest close: a reopened case's waits for the next one."""
    rows = class_row(SignatureTally)
    async with pool.connection() as conn, conn.cursor(row_factory=rows) as cur:
        await cur.execute(
            "SELECT o.signature, count(*)::int AS graded, sum(o.grade)::float / 100 AS credit"
            " FROM case_outcomes o JOIN cases c ON c.id = o.case_id"
            " WHERE o.team_id = %(team)s AND o.verdict IS NOT NULL AND o.closed_at = c.closed_at"
            " AND o.signature IS NOT NULL GROUP BY o.signature ORDER BY o.signature",
            {"team": team_id},
        )
        return await cur.fetchall()


async def calibration(pool: AsyncConnectionPool, team_id: str) -> Calibration:
    """The team's outcomes as the offline reasoner's calibration table."""
    tallies = await signature_tallies(pool, team_id)
    return Calibration(SignatureRecord(t.signature, t.graded, t.credit) for t in tallies)


async def helped_counts(
    pool: AsyncConnectionPool, *, team_id: str, signature: str
) -> dict[int, int]:
    """Documents that helped close the team's cases led by `signature`: how many times."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT helped_document_id, count(*) FROM case_outcomes"
            " WHERE team_id = %(team)s AND signature = %(signature)s"
            " AND helped_document_id IS NOT NULL GROUP BY helped_document_id",
            {"team": team_id, "signature": signature},
        )
        return {int(row[0]): int(row[1]) for row in await cur.fetchall()}


async def track_records(pool: AsyncConnectionPool, case_ids: list[int]) -> dict[int, TrackRecord]:
    """How often each case was reopened (its fix did not hold) and how it was graded."""
    if not case_ids:
        return {}
    rows = class_row(TrackRecord)
    async with pool.connection() as conn, conn.cursor(row_factory=rows) as cur:
        await cur.execute(
            "SELECT c.id AS case_id,"
            " (SELECT count(*) FROM phase_changes p WHERE p.case_id = c.id"
            "   AND p.from_phase = 'resolved' AND p.to_phase <> 'resolved')::int"
            "   AS reopened,"
            " o.verdict FROM cases c LEFT JOIN case_outcomes o ON o.case_id = c.id"
            " WHERE c.id = ANY(%(ids)s)",
            {"ids": case_ids},
        )
        return {row.case_id: row for row in await cur.fetchall()}


async def shown_documents(pool: AsyncConnectionPool, case_id: int) -> list[ShownDocument]:
    """The runbooks and past cases the case's thread was shown, in the order shown."""
    rows = class_row(ShownDocument)
    async with pool.connection() as conn, conn.cursor(row_factory=rows) as cur:
        await cur.execute(
            "SELECT d.id, d.title, d.tier, d.link FROM case_related_shown s"
            " JOIN knowledge_documents d ON d.id = s.document_id"
            " WHERE s.case_id = %(case)s ORDER BY s.shown_at, d.id",
            {"case": case_id},
        )
        return await cur.fetchall()


async def closed_cases(pool: AsyncConnectionPool, team_id: str | None) -> int:
    """Cases closed (and not open again), of one team or of all."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM cases WHERE status <> 'open'"
            " AND (%(team)s::text IS NULL OR team_id = %(team)s)",
            {"team": team_id},
        )
        row = await cur.fetchone()
        return int(row[0]) if row else 0


async def graded_cases(pool: AsyncConnectionPool, team_id: str | None) -> list[GradedCase]:
    """Closed cases whose leading hypothesis was graded at their latest close, of one team
    or of all, oldest first."""
    rows = class_row(GradedCase)
    async with pool.connection() as conn, conn.cursor(row_factory=rows) as cur:
        await cur.execute(
            "SELECT o.case_id, o.verdict, o.grade, o.signature, o.hypothesis_key,"
            " o.first_lead_key, c.created_at AS opened_at, o.first_seen_at,"
            " (SELECT count(*) FROM phase_changes p WHERE p.case_id = c.id"
            "   AND p.from_phase = 'resolved' AND p.to_phase <> 'resolved')::int"
            "   AS reopened"
            " FROM case_outcomes o JOIN cases c ON c.id = o.case_id"
            " WHERE o.verdict IS NOT NULL AND o.closed_at = c.closed_at"
            " AND (%(team)s::text IS NULL OR o.team_id = %(team)s)"
            " ORDER BY o.closed_at, o.case_id",
            {"team": team_id},
        )
        return await cur.fetchall()
