"""Readiness checks of a process: can it reach what it needs right now?

A check returns when its dependency answers and raises when it does not. Checks are named up
front, before the process has started what they look at, so a process that is still starting
reads "not ready: starting" rather than ready with nothing checked. Postgres's check is
engine/store/db.py's `readiness_check`: SQL stays in the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from redis.asyncio import Redis

Check = Callable[[], Awaitable[None]]

CHECK_TIMEOUT_S = 2.0
OK = "ok"


class NotReady(Exception):
    """A check's plain reason for failing (no traceback needed)."""


def redis(client: Redis) -> Check:
    async def check() -> None:
        if not await client.ping():
            raise NotReady("no PONG")

    return check


def task_running(task: asyncio.Task[None], what: str) -> Check:
    async def check() -> None:
        if task.done():
            raise NotReady(f"{what} stopped")

    return check


class Readiness:
    def __init__(self, names: Iterable[str]) -> None:
        self._checks: dict[str, Check | None] = dict.fromkeys(names)

    def provide(self, name: str, check: Check) -> None:
        """Start checking `name` with `check` (its dependency now exists)."""
        self._checks[name] = check

    async def run(self) -> dict[str, str]:
        """Each check's "ok" or the reason it is down; checks run concurrently, each within
        CHECK_TIMEOUT_S, so a hung dependency cannot hang the probe."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._run_one(self._checks[n]) for n in names))
        return dict(zip(names, results, strict=True))

    @staticmethod
    async def _run_one(check: Check | None) -> str:
        if check is None:
            return "starting"
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
        except TimeoutError:
            return f"no answer within {CHECK_TIMEOUT_S:g} s"
        except Exception as exc:  # any failure means down; say which, briefly
            return _reason(exc)
        return OK


def _reason(exc: BaseException) -> str:
    if isinstance(exc, NotReady):
        return str(exc)
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
