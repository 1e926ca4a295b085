"""Deadline-bounded waiting shared by the fake servers.

Tests must never ``asyncio.sleep`` and hope: they wait for a condition with a
deadline, and a timeout fails with a message that shows what *did* happen.
:class:`Signal` is a broadcast "something changed" pulse built on
:class:`asyncio.Event`; :class:`EventLog` is an append-only list whose appends
pulse the signal, so a waiter also sees items recorded before it started.
Appends are synchronous, so sync helpers (``add_message``) can record too.
"""

# The spec'd test API takes `timeout=` deadlines (tests read better than asyncio.timeout blocks).

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Signal:
    """Broadcast pulse: every waiter re-checks its condition after :meth:`pulse`.

    A fresh :class:`asyncio.Event` is swapped in on each pulse, so a waiter that
    awaited the old event wakes exactly once per change and no set/clear race
    can lose a wake-up.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def pulse(self) -> None:
        """Wake every current waiter (callable from sync code on the loop thread)."""
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_until(
        self,
        check: Callable[[], T | None],
        *,
        timeout: float,
        describe: Callable[[], str],
    ) -> T:
        """Return ``check()`` once it is not ``None``; raise AssertionError at the deadline.

        ``describe`` is only called on timeout and should list what was recorded,
        so a failing test explains itself instead of just saying "timeout".
        """
        try:
            async with asyncio.timeout(timeout):
                while True:
                    result = check()
                    if result is not None:
                        return result
                    await self._event.wait()
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout:.1f}s: {describe()}") from None


class EventLog(Generic[T]):
    """Append-only record with deadline-bounded :meth:`wait_for`."""

    def __init__(self, what: str, render: Callable[[T], str] = repr) -> None:
        self.what = what
        self.items: list[T] = []
        self.signal = Signal()
        self._render = render

    def append(self, item: T) -> T:
        """Record ``item`` and wake waiters."""
        self.items.append(item)
        self.signal.pulse()
        return item

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]

    def describe(self, limit: int = 40) -> str:
        """Human-readable dump of the newest ``limit`` items for failure messages."""
        if not self.items:
            return f"no {self.what} recorded"
        shown = self.items[-limit:]
        skipped = len(self.items) - len(shown)
        header = f"{len(self.items)} {self.what} recorded"
        if skipped:
            header += f" ({skipped} older omitted)"
        lines = [header + ":"]
        lines += [f"  - {self._render(item)}" for item in shown]
        return "\n".join(lines)

    async def wait_for(
        self,
        predicate: Callable[[T], bool] | None,
        *,
        timeout: float,
        wanted: str = "a matching item",
    ) -> T:
        """First recorded item (past or future) satisfying ``predicate`` (any item if None)."""

        def check() -> T | None:
            for item in self.items:
                if predicate is None or predicate(item):
                    return item
            return None

        return await self.signal.wait_until(
            check, timeout=timeout, describe=lambda: f"waiting for {wanted}; {self.describe()}"
        )
