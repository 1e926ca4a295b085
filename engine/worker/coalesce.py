"""One run per case at a time, across every worker; input arriving during a run is coalesced.

Why: a run (an investigation) reads the case's stored messages and evidence when it starts.
Two runs of one case in parallel would race each other (duplicate replies, conflicting
conclusions), and a message that lands while a run is going must not be lost just because that
run had already read the case. So every worker goes through Redis:

- `request(case)` bumps a per-case generation counter, after the input is stored in Postgres.
- `drain(case, run)` takes the per-case lock (SET NX, random token, TTL) or, when another worker
  holds it, returns 0 at once: the holder reads the generation again before it stops, so it runs
  the new input. Holding the lock, it calls `run()` until the generation it read is marked done;
  each run sees everything requested before it started, and many requests make one run.
- After releasing, it looks once more: a request that landed between the holder's last look and
  its release found the lock held (its drain returned 0), so the holder takes the lock again.
- The lock expires after `lock_ttl_s`, so a dead worker blocks its case only that long (arq runs
  the dead worker's job again, which drains); a live holder renews it every ttl/3 while `run()`
  is going. Renewal and release check the token (Lua), so a holder whose lock expired and was
  taken over never extends or deletes the new holder's lock.
- A run that raises does not mark its generation done: the input stays pending for the next
  drain (arq's retry of the job, or the next request).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

log = logging.getLogger(__name__)

KEY_TTL_S = 7 * 24 * 3600  # generation counters of a case idle for a week are forgotten.

# KEYS: gen, done; ARGV: key ttl. The counter never falls back to or below `done` (if it
# expired first, input would otherwise look already done).
_REQUEST = """
local g = redis.call('INCR', KEYS[1])
local d = tonumber(redis.call('GET', KEYS[2]) or '0')
if g <= d then
  g = d + 1
  redis.call('SET', KEYS[1], g)
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return g
"""

# KEYS: lock, gen, done; ARGV: token. {gen, done} while the caller holds the lock, else nil.
_PEEK = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return false
end
return {tonumber(redis.call('GET', KEYS[2]) or '0'), tonumber(redis.call('GET', KEYS[3]) or '0')}
"""

# KEYS: gen, done; ARGV: generation run, key ttl. `done` only moves forward.
_MARK_DONE = """
if tonumber(ARGV[1]) > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
else
  redis.call('EXPIRE', KEYS[2], ARGV[2])
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

# KEYS: lock; ARGV: token, ttl ms.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: lock; ARGV: token.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class CaseRuns:
    """Per-case run coalescing over a Redis shared by every worker (see the module docstring)."""

    def __init__(self, redis: Redis, *, lock_ttl_s: float, prefix: str = "faultmaven:case") -> None:
        if lock_ttl_s <= 0:
            raise ValueError("lock_ttl_s must be positive")
        self.redis = redis
        self.lock_ttl_s = lock_ttl_s
        self.prefix = prefix
        self._ttl_ms = max(1, int(lock_ttl_s * 1000))
        self._request = redis.register_script(_REQUEST)
        self._peek = redis.register_script(_PEEK)
        self._mark_done = redis.register_script(_MARK_DONE)
        self._renew = redis.register_script(_RENEW)
        self._release_script = redis.register_script(_RELEASE)

    def _key(self, case_id: int, name: str) -> str:
        # The hash tag keeps a case's keys in one slot, so the scripts also work on a cluster.
        return f"{self.prefix}:{{{case_id}}}:{name}"

    def lock_key(self, case_id: int) -> str:
        return self._key(case_id, "lock")

    async def request(self, case_id: int) -> int:
        """Record new input for the case (call after storing it); returns its generation."""
        gen = await self._request(
            keys=[self._key(case_id, "gen"), self._key(case_id, "done")], args=[KEY_TTL_S]
        )
        return int(gen)

    async def pending(self, case_id: int) -> bool:
        """Whether the case has input that no finished run has seen."""
        gen, done = await self.redis.mget(self._key(case_id, "gen"), self._key(case_id, "done"))
        return int(gen or 0) > int(done or 0)

    async def look_again_in(self, case_id: int) -> float | None:
        """When a drain found the case held: None if nothing is pending any more, else the
        seconds until the holder's lock expires, by which time it either finished the input or
        died; someone must drain again then."""
        if not await self.pending(case_id):
            return None
        remaining_ms = await self.redis.pttl(self.lock_key(case_id))
        if remaining_ms < 0:
            return 0.0  # nobody holds the case: look now
        return remaining_ms / 1000 + 0.5

    async def drain(
        self, case_id: int, run: Callable[[], Awaitable[None]], *, max_runs: int | None = None
    ) -> int:
        """Run the case until no input is pending, unless another worker holds it (then 0).

        Returns how many times `run` was called. If `run` raises, the lock is released, the
        input stays pending and the exception propagates. `max_runs` stops early, leaving
        input pending (`look_again_in` then says 0 s): a job must end within its time limit.
        """
        runs = 0
        while True:
            token = uuid.uuid4().hex
            if not await self.redis.set(self.lock_key(case_id), token, nx=True, px=self._ttl_ms):
                return runs  # the holder looks at the generation again before it lets go
            allowed = None if max_runs is None else max_runs - runs
            try:
                runs += await self._hold(case_id, token, run, allowed)
            finally:
                await self._release(case_id, token)
            if max_runs is not None and runs >= max_runs:
                return runs
            # A request may have landed after our last look, while its drain found us holding.
            if not await self.pending(case_id):
                return runs

    async def _hold(
        self,
        case_id: int,
        token: str,
        run: Callable[[], Awaitable[None]],
        allowed: int | None = None,
    ) -> int:
        keys = [self.lock_key(case_id), self._key(case_id, "gen"), self._key(case_id, "done")]
        runs = 0
        while allowed is None or runs < allowed:
            state = await self._peek(keys=keys, args=[token])
            if state is None:
                log.warning("lock of case %s expired while held; its new holder goes on", case_id)
                return runs
            gen, done = int(state[0]), int(state[1])
            if gen <= done:
                return runs
            await self._run_renewing(case_id, token, run)
            runs += 1
            # Only now: a run that raised leaves `gen` pending.
            await self._mark_done(keys=keys[1:], args=[gen, KEY_TTL_S])
        return runs

    async def _run_renewing(
        self, case_id: int, token: str, run: Callable[[], Awaitable[None]]
    ) -> None:
        renewer = asyncio.create_task(self._keep_lock(case_id, token))
        try:
            await run()
        finally:
            renewer.cancel()
            await asyncio.wait([renewer])  # lets our own cancellation through, unlike awaiting

    async def _keep_lock(self, case_id: int, token: str) -> None:
        while True:
            await asyncio.sleep(self.lock_ttl_s / 3)
            try:
                kept = await self._renew(keys=[self.lock_key(case_id)], args=[token, self._ttl_ms])
            except Exception:
                log.warning(
                    "could not renew the lock of case %s; will retry", case_id, exc_info=True
                )
                continue
            if not kept:
                log.warning("lost the lock of case %s during a run", case_id)
                return

    async def _release(self, case_id: int, token: str) -> None:
        await self._release_script(keys=[self.lock_key(case_id)], args=[token])
