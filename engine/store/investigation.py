"""Queries on the investigation of a case: hypotheses, feedback, phase changes and turns.

A turn is saved in one transaction (hypotheses, case state, phase change, turn row), so a
worker that dies mid-save leaves the previous turn's state whole, and the retried job saves
the same turn number once.
"""

from __future__ import annotations

from datetime import datetime

from psycopg import AsyncConnection
from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from engine.core.models import Feedback, FeedbackKind, PhaseChange
from engine.investigate.result import Citation, Hypothesis, Investigation


class TurnRecord(BaseModel):
    """One investigation turn as stored: what it read, who answered, what it cost."""

    case_id: int
    number: int
    engine: str
    model: str | None = None
    response_type: str
    phase: str
    last_message_id: int
    evidence_count: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    full_history_tokens: int = 0
    result: Investigation
    started_at: datetime
    finished_at: datetime | None = None


class _HypothesisRow(BaseModel):
    key: str
    statement: str
    category: str | None
    component: str | None
    status: str
    confidence: float
    evidence_confidence: float | None
    supporting: list[Citation]
    contradicting: list[Citation]
    checks: list[str]
    rank: int | None
    decided_by: str | None

    def hypothesis(self) -> Hypothesis:
        return Hypothesis.model_validate(
            {**self.model_dump(exclude={"key", "rank"}), "id": self.key}
        )


_HYPOTHESIS_COLUMNS = (
    "key, statement, category, component, status, confidence, evidence_confidence, supporting,"
    " contradicting, checks, rank, decided_by"
)


async def hypotheses(pool: AsyncConnectionPool, case_id: int) -> list[Hypothesis]:
    """The case's hypotheses: those of the latest turn in its order, then the others."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(_HypothesisRow)) as cur:
        await cur.execute(
            f"SELECT {_HYPOTHESIS_COLUMNS} FROM hypotheses WHERE case_id = %(case)s"
            " ORDER BY rank NULLS LAST, confidence DESC, id",
            {"case": case_id},
        )
        return [row.hypothesis() for row in await cur.fetchall()]


async def record_feedback(
    pool: AsyncConnectionPool,
    *,
    case_id: int,
    key: str,
    kind: FeedbackKind,
    author: str,
    hypothesis_key: str | None = None,
    text: str = "",
) -> bool:
    """Store feedback once per trigger and apply a Confirm / Rule out to its hypothesis.

    False when this trigger was already recorded (a redelivered click or message).
    """
    async with pool.connection() as conn, conn.transaction():
        cur = await conn.execute(
            "INSERT INTO feedback (case_id, key, hypothesis_key, kind, author, text)"
            " VALUES (%(case)s, %(key)s, %(hyp)s, %(kind)s, %(author)s, %(text)s)"
            " ON CONFLICT (key) DO NOTHING",
            {
                "case": case_id,
                "key": key,
                "hyp": hypothesis_key,
                "kind": kind,
                "author": author,
                "text": text,
            },
        )
        if cur.rowcount != 1:
            return False
        if hypothesis_key is not None and kind != "note":
            await _decide(conn, case_id, hypothesis_key, kind, author)
        return True


async def _decide(
    conn: AsyncConnection, case_id: int, hypothesis_key: str, kind: FeedbackKind, author: str
) -> None:
    status = "confirmed" if kind == "confirm" else "ruled_out"
    await conn.execute(
        "UPDATE hypotheses SET status = %(status)s, decided_by = %(author)s, updated_at = now()"
        " WHERE case_id = %(case)s AND key = %(key)s",
        {"status": status, "author": author, "case": case_id, "key": hypothesis_key},
    )
    await conn.execute(
        "INSERT INTO audit_log (case_id, actor, action, detail)"
        " VALUES (%(case)s, %(actor)s, %(action)s,"
        " jsonb_build_object('hypothesis', %(key)s::text))",
        {"case": case_id, "actor": author, "action": f"hypothesis.{status}", "key": hypothesis_key},
    )


async def feedback(pool: AsyncConnectionPool, case_id: int) -> list[Feedback]:
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Feedback)) as cur:
        await cur.execute(
            "SELECT id, case_id, hypothesis_key, kind, author, text, created_at"
            " FROM feedback WHERE case_id = %(case)s ORDER BY id",
            {"case": case_id},
        )
        return await cur.fetchall()


async def phase_history(pool: AsyncConnectionPool, case_id: int) -> list[PhaseChange]:
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(PhaseChange)) as cur:
        await cur.execute(
            "SELECT from_phase, to_phase, reason, created_at FROM phase_changes"
            " WHERE case_id = %(case)s ORDER BY id",
            {"case": case_id},
        )
        return await cur.fetchall()


async def last_turn(pool: AsyncConnectionPool, case_id: int) -> TurnRecord | None:
    found = await turns(pool, case_id, last=1)
    return found[-1] if found else None


async def turns(pool: AsyncConnectionPool, case_id: int, *, last: int = 1000) -> list[TurnRecord]:
    """The case's latest `last` turns, oldest first."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(TurnRecord)) as cur:
        await cur.execute(
            "SELECT * FROM (SELECT case_id, number, engine, model, response_type, phase,"
            " last_message_id, evidence_count, prompt_tokens, completion_tokens,"
            " full_history_tokens, result, started_at, finished_at"
            " FROM turns WHERE case_id = %(case)s ORDER BY number DESC LIMIT %(last)s) t"
            " ORDER BY number",
            {"case": case_id, "last": last},
        )
        return await cur.fetchall()


async def save_turn(
    pool: AsyncConnectionPool,
    turn: TurnRecord,
    *,
    phase_reason: str | None,
    answered: list[int] | None = None,
) -> bool:
    """Store a turn and the case state it leaves; False when this turn number was saved already.

    `answered` are the ids of the questions this turn answered.

    Hypotheses a person decided keep their status whatever the engine says now.
    """
    result = turn.result
    async with pool.connection() as conn, conn.transaction():
        cur = await conn.execute(
            "INSERT INTO turns (case_id, number, engine, model, response_type, phase,"
            " last_message_id, evidence_count, prompt_tokens, completion_tokens,"
            " full_history_tokens, result, started_at)"
            " VALUES (%(case)s, %(number)s, %(engine)s, %(model)s, %(rtype)s, %(phase)s,"
            " %(last_msg)s, %(evidence)s, %(prompt)s, %(completion)s, %(full)s, %(result)s,"
            " %(started)s) ON CONFLICT (case_id, number) DO NOTHING",
            {
                "case": turn.case_id,
                "number": turn.number,
                "engine": turn.engine,
                "model": turn.model,
                "rtype": turn.response_type,
                "phase": turn.phase,
                "last_msg": turn.last_message_id,
                "evidence": turn.evidence_count,
                "prompt": turn.prompt_tokens,
                "completion": turn.completion_tokens,
                "full": turn.full_history_tokens,
                "result": Jsonb(result.model_dump(mode="json")),
                "started": turn.started_at,
            },
        )
        if cur.rowcount != 1:
            return False
        await _save_hypotheses(conn, turn.case_id, result.hypotheses)
        if answered:
            await conn.execute(
                "UPDATE messages SET answered_in = %(number)s"
                " WHERE case_id = %(case)s AND id = ANY(%(ids)s) AND answered_in IS NULL",
                {"number": turn.number, "case": turn.case_id, "ids": answered},
            )
        old = await conn.execute(
            "SELECT phase FROM cases WHERE id = %(case)s FOR UPDATE", {"case": turn.case_id}
        )
        row = await old.fetchone()
        if row is not None and row[0] != turn.phase and phase_reason:
            await conn.execute(
                "INSERT INTO phase_changes (case_id, from_phase, to_phase, reason)"
                " VALUES (%(case)s, %(from)s, %(to)s, %(reason)s)",
                {"case": turn.case_id, "from": row[0], "to": turn.phase, "reason": phase_reason},
            )
        await conn.execute(
            "UPDATE cases SET phase = %(phase)s, working_conclusion = %(conclusion)s,"
            " confidence = %(confidence)s, next_steps = %(steps)s, updated_at = now()"
            " WHERE id = %(case)s AND status = 'open'",
            {
                "case": turn.case_id,
                "phase": turn.phase,
                "conclusion": result.working_conclusion,
                "confidence": result.confidence,
                "steps": Jsonb(result.next_steps),
            },
        )
        return True


async def _save_hypotheses(conn: AsyncConnection, case_id: int, ranked: list[Hypothesis]) -> None:
    await conn.execute(
        "UPDATE hypotheses SET rank = NULL WHERE case_id = %(case)s", {"case": case_id}
    )
    for rank, hypothesis in enumerate(ranked):
        await conn.execute(
            "INSERT INTO hypotheses (case_id, key, statement, category, component, status,"
            " confidence, evidence_confidence, supporting, contradicting, checks, rank)"
            " VALUES (%(case)s, %(key)s, %(statement)s, %(category)s, %(component)s,"
            " %(status)s, %(confidence)s, %(evidence)s, %(supporting)s, %(contradicting)s,"
            " %(checks)s, %(rank)s)"
            " ON CONFLICT (case_id, key) DO UPDATE SET statement = EXCLUDED.statement,"
            " category = EXCLUDED.category, component = EXCLUDED.component,"
            " status = CASE WHEN hypotheses.decided_by IS NULL THEN EXCLUDED.status"
            "   ELSE hypotheses.status END,"
            " confidence = EXCLUDED.confidence,"
            " evidence_confidence = EXCLUDED.evidence_confidence,"
            " supporting = EXCLUDED.supporting,"
            " contradicting = EXCLUDED.contradicting, checks = EXCLUDED.checks,"
            " rank = EXCLUDED.rank, updated_at = now()",
            {
                "case": case_id,
                "key": hypothesis.id,
                "statement": hypothesis.statement,
                "category": hypothesis.category,
                "component": hypothesis.component,
                "status": hypothesis.status,
                "confidence": hypothesis.confidence,
                "evidence": hypothesis.evidence_confidence,
                "supporting": Jsonb([c.model_dump(mode="json") for c in hypothesis.supporting]),
                "contradicting": Jsonb(
                    [c.model_dump(mode="json") for c in hypothesis.contradicting]
                ),
                "checks": Jsonb(hypothesis.checks),
                "rank": rank,
            },
        )
