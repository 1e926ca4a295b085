"""Per-case run coalescing on the real Redis: one run per case at a time, across workers, and
no input lost (every input is seen by a run that started after it was recorded)."""

from __future__ import annotations

import asyncio
import itertools
import random
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from arq.connections import ArqRedis
from redis.asyncio import Redis

from engine.worker.coalesce import KEY_TTL_S, CaseRuns

pytestmark = pytest.mark.integration

CASE = 7
OTHER_CASE = 8
WORKERS = 6
REPO_ROOT = Path(__file__).resolve().parents[2]


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 10.0) -> None:
    """Poll `check` until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


async def nothing() -> None:
    return None


@pytest.fixture
async def worker_conns(redis_url: str, redis: ArqRedis) -> AsyncIterator[list[Redis]]:
    """One connection pool per simulated worker (`redis` is requested for its key cleanup)."""
    conns = [Redis.from_url(redis_url) for _ in range(WORKERS)]
    yield conns
    for conn in conns:
        await conn.aclose()


@dataclass
class RunRecord:
    case: int
    start: float
    seen: frozenset[int]
    end: float = field(default=0.0)


async def test_concurrent_workers_run_each_case_alone_and_lose_no_input(
    redis: ArqRedis, worker_conns: list[Redis]
) -> None:
    rng = random.Random(20240611)
    cases = (CASE, OTHER_CASE)
    inputs: dict[int, list[int]] = {case: [] for case in cases}
    recorded_at: dict[int, float] = {}
    runs: list[RunRecord] = []
    active: Counter[int] = Counter()
    most_active: Counter[int] = Counter()
    jobs: asyncio.Queue[int | None] = asyncio.Queue()
    requester = CaseRuns(redis, lock_ttl_s=5)
    requests = 0

    def run_for(case: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            active[case] += 1
            most_active[case] = max(most_active[case], active[case])
            # What a real run reads from Postgres when it starts.
            record = RunRecord(case, time.monotonic(), frozenset(inputs[case]))
            await asyncio.sleep(rng.uniform(0.002, 0.02))
            record.end = time.monotonic()
            active[case] -= 1
            runs.append(record)

        return run

    async def worker(conn: Redis) -> None:
        case_runs = CaseRuns(conn, lock_ttl_s=5)
        while (case := await jobs.get()) is not None:
            await case_runs.drain(case, run_for(case))

    async def inputs_arrive() -> None:
        nonlocal requests
        for item in range(80):
            await asyncio.sleep(rng.uniform(0, 0.004))
            case = rng.choice(cases)
            inputs[case].append(item)  # stored first ...
            recorded_at[item] = time.monotonic()
            await requester.request(case)  # ... then requested, then a job for any worker
            requests += 1
            jobs.put_nowait(case)
        for _ in worker_conns:
            jobs.put_nowait(None)

    await asyncio.wait_for(
        asyncio.gather(inputs_arrive(), *(worker(conn) for conn in worker_conns)), timeout=60
    )

    assert most_active[CASE] == 1 and most_active[OTHER_CASE] == 1
    for case in cases:
        mine = sorted((r for r in runs if r.case == case), key=lambda r: r.start)
        for earlier, later in itertools.pairwise(mine):
            assert earlier.end <= later.start, "two runs of one case overlapped"
        for item in inputs[case]:
            assert any(item in r.seen and r.start >= recorded_at[item] for r in mine), (
                f"input {item} of case {case} was never seen by a run"
            )
        assert not await requester.pending(case)
    assert len(runs) < requests, "inputs were not coalesced"
    assert not [k async for k in redis.scan_iter(match="faultmaven:case:*:lock")]


async def test_two_cases_run_in_parallel(redis: ArqRedis, worker_conns: list[Redis]) -> None:
    first, second, third = (CaseRuns(conn, lock_ttl_s=5) for conn in worker_conns[:3])
    started = {CASE: asyncio.Event(), OTHER_CASE: asyncio.Event()}
    busy: list[int] = []

    def run_for(case: int, other: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            started[case].set()
            # Only returns if the other case's run is going at the same time.
            await asyncio.wait_for(started[other].wait(), timeout=10)
            busy.append(await third.drain(case, nothing))

        return run

    await first.request(CASE)
    await first.request(OTHER_CASE)
    done = await asyncio.gather(
        first.drain(CASE, run_for(CASE, OTHER_CASE)),
        second.drain(OTHER_CASE, run_for(OTHER_CASE, CASE)),
    )
    assert done == [1, 1]
    assert busy == [0, 0]  # a third worker was turned away from both busy cases


async def test_a_run_that_raises_leaves_its_input_pending(redis: ArqRedis) -> None:
    case_runs = CaseRuns(redis, lock_ttl_s=5)
    await case_runs.request(CASE)

    async def broken() -> None:
        raise RuntimeError("LLM provider down")

    with pytest.raises(RuntimeError, match="provider down"):
        await case_runs.drain(CASE, broken)
    assert await case_runs.pending(CASE)
    assert not await redis.exists(case_runs.lock_key(CASE))

    ran: list[str] = []

    async def works() -> None:
        ran.append("ok")

    assert await case_runs.drain(CASE, works) == 1
    assert ran == ["ok"]
    assert not await case_runs.pending(CASE)
    assert await case_runs.drain(CASE, works) == 0  # nothing new: no run


DYING_HOLDER = """
import asyncio, sys
from redis.asyncio import Redis
from engine.worker.coalesce import CaseRuns

async def main() -> None:
    conn = Redis.from_url(sys.argv[1])
    case_runs = CaseRuns(conn, lock_ttl_s=float(sys.argv[2]))

    async def run() -> None:
        await conn.set("faultmaven:case:test:holder", "running")
        await asyncio.Event().wait()  # runs until killed

    await case_runs.drain(int(sys.argv[3]), run)

asyncio.run(main())
"""


async def test_a_dead_holder_blocks_its_case_only_until_the_lock_expires(
    redis_url: str, redis: ArqRedis
) -> None:
    ttl = 0.5
    case_runs = CaseRuns(redis, lock_ttl_s=ttl)
    await case_runs.request(CASE)
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", DYING_HOLDER, redis_url, str(ttl), str(CASE), cwd=REPO_ROOT
    )
    try:

        async def holder_running() -> bool:
            assert holder.returncode is None, "the holder process exited"
            return await redis.get("faultmaven:case:test:holder") == b"running"

        await eventually(holder_running)
        # While its holder lives, the lock is renewed well past its TTL: nobody else runs.
        held_since = time.monotonic()
        while time.monotonic() - held_since < 3 * ttl:
            assert await case_runs.drain(CASE, nothing) == 0
            await asyncio.sleep(0.05)
    finally:
        holder.kill()  # dies without releasing
        await holder.wait()

    ran: list[float] = []

    async def run() -> None:
        ran.append(time.monotonic())

    async def drained() -> bool:
        return await case_runs.drain(CASE, run) == 1

    await eventually(drained, timeout=10 * ttl)
    assert len(ran) == 1
    assert not await case_runs.pending(CASE)


async def test_an_expired_holder_never_releases_its_successors_lock(
    redis: ArqRedis, worker_conns: list[Redis]
) -> None:
    old, new = (CaseRuns(conn, lock_ttl_s=5) for conn in worker_conns[:2])
    lock = old.lock_key(CASE)
    await old.request(CASE)
    new_started = asyncio.Event()
    let_new_finish = asyncio.Event()

    async def new_run() -> None:
        new_started.set()
        await asyncio.wait_for(let_new_finish.wait(), timeout=10)

    async def old_run() -> None:
        await redis.delete(lock)  # as if the old holder stalled past its TTL
        successor.append(asyncio.create_task(new.drain(CASE, new_run)))
        await asyncio.wait_for(new_started.wait(), timeout=10)

    successor: list[asyncio.Task[int]] = []
    assert await old.drain(CASE, old_run) == 1
    assert await redis.exists(lock), "the old holder deleted its successor's lock"
    assert await old.drain(CASE, nothing) == 0
    let_new_finish.set()
    assert await successor[0] == 1
    assert not await redis.exists(lock)


async def test_a_request_made_at_the_end_of_a_run_gets_its_own_run(
    redis: ArqRedis, worker_conns: list[Redis]
) -> None:
    holder, requester = (CaseRuns(conn, lock_ttl_s=5) for conn in worker_conns[:2])
    inputs = ["first"]
    seen: list[list[str]] = []
    turned_away: list[int] = []

    async def run() -> None:
        seen.append(list(inputs))
        if len(seen) == 1:
            # A message lands as the run finishes; its job's drain finds the case held.
            inputs.append("second")
            await requester.request(CASE)
            turned_away.append(await requester.drain(CASE, run))

    await holder.request(CASE)
    assert await holder.drain(CASE, run) == 2
    assert turned_away == [0]
    assert seen == [["first"], ["first", "second"]]
    assert not await holder.pending(CASE)


async def test_a_request_landing_while_the_holder_releases_is_still_run(
    redis: ArqRedis, worker_conns: list[Redis]
) -> None:
    """The window between the holder's last look at the generation and its release."""
    requester = CaseRuns(worker_conns[1], lock_ttl_s=5)
    inputs = ["first"]
    seen: list[list[str]] = []
    turned_away: list[int] = []

    async def run() -> None:
        seen.append(list(inputs))

    class ReleasingSlowly(CaseRuns):
        async def _release(self, case_id: int, token: str) -> None:
            if not turned_away:
                inputs.append("second")
                await requester.request(case_id)
                turned_away.append(await requester.drain(case_id, run))
            await super()._release(case_id, token)

    holder = ReleasingSlowly(worker_conns[0], lock_ttl_s=5)
    await holder.request(CASE)
    assert await holder.drain(CASE, run) == 2
    assert turned_away == [0]
    assert seen == [["first"], ["first", "second"]]
    assert not await holder.pending(CASE)


async def test_generations_keep_growing_and_keys_expire(redis: ArqRedis) -> None:
    case_runs = CaseRuns(redis, lock_ttl_s=5)
    assert [await case_runs.request(CASE) for _ in range(3)] == [1, 2, 3]
    assert await case_runs.drain(CASE, nothing) == 1
    for name in ("gen", "done"):
        ttl = await redis.ttl(f"faultmaven:case:{{{CASE}}}:{name}")
        assert 0 < ttl <= KEY_TTL_S
    # Should the counter expire before `done`, new input must still count as new.
    await redis.delete(f"faultmaven:case:{{{CASE}}}:gen")
    assert await case_runs.request(CASE) == 4
    assert await case_runs.pending(CASE)


async def test_a_capped_drain_leaves_later_input_for_an_early_second_look(redis: ArqRedis) -> None:
    """A job runs one turn and ends within its time limit: input that came during the turn
    stays pending, and `look_again_in` says to look again at once (the lock is free)."""
    runs = CaseRuns(redis, lock_ttl_s=5)
    await runs.request(7)

    async def run_while_input_arrives() -> None:
        await runs.request(7)

    assert await runs.drain(7, run_while_input_arrives, max_runs=1) == 1
    assert await runs.pending(7)
    delay = await runs.look_again_in(7)
    assert delay == 0.0
    assert await runs.drain(7, nothing, max_runs=1) == 1
    assert not await runs.pending(7)
    assert await runs.look_again_in(7) is None
