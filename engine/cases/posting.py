"""Post a reply once per trigger: a retried job updates the message it already posted."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from engine.core.ports import Replier
from engine.core.replies import Reply
from engine.store import replies


class Poster:
    def __init__(self, pool: AsyncConnectionPool, replier: Replier) -> None:
        self.pool = pool
        self.replier = replier

    async def post_once(
        self,
        key: str,
        channel_id: str,
        reply: Reply,
        thread_ts: str | None = None,
        case_id: int | None = None,
    ) -> tuple[str, bool]:
        """Post `reply` for `key`, or update the message already posted for it (a retry).

        Returns the message ts and whether it was posted now (False: updated).
        """
        posted = await replies.find(self.pool, key)
        if posted is not None:
            await self.replier.update(posted[0], posted[1], reply)
            return posted[1], False
        ts = await self.replier.post(channel_id, reply, thread_ts)
        await replies.remember(
            self.pool, key=key, case_id=case_id, channel_id=channel_id, message_ts=ts
        )
        return ts, True
