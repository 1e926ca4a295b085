"""Refused requests, kept in the audit log: who asked what, where, and why it was refused.

engine/core/authz.py decides; this module keeps the decision. Each entry is keyed by the
request that caused it, so a redelivered request adds nothing, and whoever answers the
refusal can tell whether it was answered already.
"""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from engine.core.authz import NotAllowed
from engine.core.models import Case, ChannelRequest
from engine.store import audit

CHANNEL_NOT_ENABLED = "channel not enabled"


async def keep_channel_refusal(pool: AsyncConnectionPool, req: ChannelRequest) -> bool:
    """A request from a channel FaultMaven is not enabled in; True the first time this
    request is seen (its refusal is then still to be said)."""
    return await audit.record(
        pool,
        actor=req.user,
        action=audit.DENIED,
        target=req.channel_id,
        detail={"asked": req.asked, "reason": CHANNEL_NOT_ENABLED},
        team_id=req.team_id,
        key=f"denied:{req.trigger}" if req.trigger else None,
    )


async def keep_close_refusal(
    pool: AsyncConnectionPool,
    case: Case,
    user: str,
    denied: NotAllowed,
    *,
    policy: str,
    key: str | None,
) -> None:
    """A close the close policy (FAULTMAVEN_CLOSE_POLICY) refused to `user`."""
    await audit.record(
        pool,
        actor=user,
        action=audit.DENIED,
        case_id=case.id,
        target=case.channel_id,
        detail={"asked": denied.action, "policy": policy},
        team_id=case.team_id,
        key=f"denied:{key}" if key else None,
    )
