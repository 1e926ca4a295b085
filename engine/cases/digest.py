"""The daily digest: once a day, the open cases of each channel that asked for it.

Opt-in per channel (`/faultmaven digest on`). One message per channel and day, posted under a
reply key naming both, so a re-run or a second worker posts nothing more; a channel without
open cases gets no message that day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from engine.cases.posting import Poster
from engine.core.replies import NoticeReply
from engine.core.wording import clip, plural
from engine.store import cases, investigation, replies
from engine.store import schedule as store

SHOWN_CASES = 20
HYPOTHESIS_CHARS = 120


class DigestRequest(BaseModel):
    channel_id: str
    day: date


def digest_key(channel_id: str, day: date) -> str:
    return f"digest:{channel_id}:{day.isoformat()}"


def age(delta: timedelta) -> str:
    """'35 min', '5 h', '3 d': how long a case has been open."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} d"


def due(now: datetime, *, hour_utc: int) -> date | None:
    """The day whose digest is due at `now` (UTC): today once its hour has come. A worker that
    was down at that hour still sends it later the same day."""
    return now.date() if now.hour >= hour_utc else None


async def requests(
    pool: AsyncConnectionPool, *, now: datetime, hour_utc: int
) -> list[DigestRequest]:
    day = due(now, hour_utc=hour_utc)
    if day is None:
        return []
    return [DigestRequest(channel_id=c, day=day) for c in await store.digest_channels(pool)]


async def digest_text(pool: AsyncConnectionPool, channel_id: str, *, now: datetime) -> str | None:
    """The digest of a channel: one line per open case (id, title, age, phase, leading
    hypothesis); None when there are no open cases."""
    open_cases = await cases.list_open(pool, channel_id=channel_id)
    if not open_cases:
        return None
    lines = [f"🗂️ *Daily digest:* {plural(len(open_cases), 'open case')} in this channel"]
    for case in open_cases[:SHOWN_CASES]:
        opened = age(now - case.created_at)
        line = f"• *#{case.id}* {clip(case.title, 80)} — open {opened}, {case.phase}"
        known = await investigation.hypotheses(pool, case.id)
        live = [h for h in known if h.status != "ruled_out"]
        if live:
            lead = clip(live[0].statement, HYPOTHESIS_CHARS)
            line += f"; leading: {lead} ({live[0].confidence:.0%})"
        lines.append(line)
    if len(open_cases) > SHOWN_CASES:
        lines.append(f"…and {len(open_cases) - SHOWN_CASES} more: `/faultmaven list`")
    lines.append("`/faultmaven digest off` stops this digest.")
    return "\n".join(lines)


async def post(
    pool: AsyncConnectionPool, poster: Poster, req: DigestRequest, *, now: datetime
) -> bool:
    """Post the channel's digest of `req.day` if it still wants one, has open cases and has
    not had it yet; True when posted now."""
    key = digest_key(req.channel_id, req.day)
    if not await store.wants_digest(pool, req.channel_id) or await replies.find(pool, key):
        return False
    text = await digest_text(pool, req.channel_id, now=now)
    if text is None:
        return False
    _, posted = await poster.post_once(key, req.channel_id, NoticeReply(text=text))
    return posted


async def subscribe(
    pool: AsyncConnectionPool, *, channel_id: str, team_id: str, user: str, on: bool, hour_utc: int
) -> str:
    """Turn a channel's digest on or off; what to tell the person who asked."""
    changed = await store.set_digest(pool, channel_id=channel_id, team_id=team_id, user=user, on=on)
    if on:
        return (
            f"{'Daily digest on' if changed else 'The daily digest is already on'}: every day "
            f"at {hour_utc:02d}:00 UTC I post this channel's open cases here (nothing on days "
            "without any). `/faultmaven digest off` stops it."
        )
    if changed:
        return "Daily digest off for this channel. `/faultmaven digest on` brings it back."
    return "The daily digest is not on in this channel. `/faultmaven digest on` starts it."


async def status(pool: AsyncConnectionPool, *, channel_id: str, hour_utc: int) -> str:
    if await store.wants_digest(pool, channel_id):
        return (
            f"The daily digest is on here ({hour_utc:02d}:00 UTC). "
            "`/faultmaven digest off` stops it."
        )
    return (
        "The daily digest is off here. `/faultmaven digest on` posts this channel's open cases "
        f"every day at {hour_utc:02d}:00 UTC."
    )
