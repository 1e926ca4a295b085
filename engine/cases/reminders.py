"""Stale case reminders: one short nudge in the thread of an open case that went quiet.

A case is quiet when nothing happened in it (messages, uploads, turns, buttons) for the
configured hours. Each quiet spell gets at most one reminder: its reply key names the spell by
the time of the last activity, so a re-run finds the reply and posts nothing, and new activity
starts a new spell that may be reminded again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from engine.cases.posting import Poster
from engine.core.replies import NoticeReply
from engine.store import cases, replies
from engine.store import schedule as store
from engine.store.schedule import reminder_key

log = logging.getLogger(__name__)


class ReminderRequest(BaseModel):
    """Remind case `case_id` of its quiet spell since the activity stamped `stamp`, found
    due by the scheduler's tick at `due_at`."""

    case_id: int
    stamp: int
    due_at: datetime


def quiet_for(delta: timedelta) -> str:
    """'45 min', '4 h', '3 days': how long a case has been quiet, roughly."""
    minutes = max(1, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def reminder_text(case_id: int, quiet: timedelta) -> str:
    return (
        f"⏰ No activity on case #{case_id} for {quiet_for(quiet)}. Still investigating? "
        f"`/faultmaven close #{case_id} <resolution>` when it's fixed."
    )


async def due(
    pool: AsyncConnectionPool, *, now: datetime, stale_after_h: float
) -> list[ReminderRequest]:
    """The reminders owed at `now`; none when reminders are off (0 hours)."""
    if stale_after_h <= 0:
        return []
    quiet = await store.quiet_cases(pool, now=now, quiet_s=stale_after_h * 3600)
    return [ReminderRequest(case_id=q.case_id, stamp=q.stamp, due_at=now) for q in quiet]


async def remind(
    pool: AsyncConnectionPool,
    poster: Poster,
    req: ReminderRequest,
    *,
    now: datetime,
    stale_after_h: float,
) -> bool:
    """Post the reminder unless something changed since it was found due: the case closed,
    someone spoke (a new spell), or it was already posted. True when posted now."""
    case = await cases.get(pool, req.case_id)
    if case is None or case.status != "open" or stale_after_h <= 0:
        return False
    current = await store.activity(pool, req.case_id)
    if current is None or current.stamp != req.stamp:
        log.info("case %s became active again; no reminder", req.case_id)
        return False
    # The tick's time when it is later: clocks of two machines may differ a little.
    quiet = max(now, req.due_at) - current.last_activity
    if quiet < timedelta(hours=stale_after_h):
        return False
    key = reminder_key(req.case_id, req.stamp)
    if await replies.find(pool, key) is not None:
        return False  # a re-run of a job that posted: Poster would edit it, nothing to add
    notice = NoticeReply(text=reminder_text(case.id, quiet))
    _, posted = await poster.post_once(key, case.channel_id, notice, case.thread_ts, case.id)
    return posted
