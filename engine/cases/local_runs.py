"""One investigation run per case at a time inside a single process (the shell, tests).

The same contract as `engine.worker.coalesce.CaseRuns`, which does this across processes through
Redis: `request` notes new input, `drain` runs until every noted input was seen by a run
that started after it, and returns at once when another task already holds the case.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable


class LocalCaseRuns:
    def __init__(self) -> None:
        self._generation: dict[int, int] = defaultdict(int)
        self._done: dict[int, int] = defaultdict(int)
        self._locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def request(self, case_id: int) -> int:
        self._generation[case_id] += 1
        return self._generation[case_id]

    async def drain(
        self, case_id: int, run: Callable[[], Awaitable[None]], *, max_runs: int | None = None
    ) -> int:
        lock = self._locks[case_id]
        if lock.locked():
            return 0  # the holder loops until our input is seen
        runs = 0
        async with lock:
            while self._generation[case_id] > self._done[case_id]:
                if max_runs is not None and runs >= max_runs:
                    break
                seen = self._generation[case_id]
                await run()
                self._done[case_id] = seen
                runs += 1
        return runs

    async def look_again_in(self, case_id: int) -> float | None:
        """Never: the holder is a task of this process and loops until nothing is pending."""
        return None
