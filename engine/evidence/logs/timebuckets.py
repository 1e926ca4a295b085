"""Counts over time in a bounded number of buckets, for logs of any length, streamed.

Every histogram of one file shares a `BucketClock`. Buckets start 10 s wide and double
whenever the file's time span would need more than MAX_BUCKETS of them, so a one-hour log
gets 20 s buckets and a month-long one a few hours' worth, and memory stays bounded per
histogram. Buckets are aligned on the epoch, so a bucket of width 2w is exactly two buckets
of width w: a histogram filled before the clock widened is merged, never re-read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_BUCKETS = 240
FIRST_WIDTH_S = 10
_SECOND = timedelta(seconds=1)
_MICROSECOND = timedelta(microseconds=1)
_LAST_SECOND = datetime.max.replace(microsecond=0, tzinfo=UTC)  # its end is past datetime.max


@dataclass(slots=True)
class Span:
    """The earliest and latest time seen so far."""

    first: datetime | None = None
    last: datetime | None = None

    def add(self, ts: datetime) -> None:
        first, last = self.first, self.last
        if first is None or last is None:
            self.first = ts if first is None or ts < first else first
            self.last = ts if last is None or ts > last else last
        elif ts > last:  # the usual case, in a log written in order
            self.last = ts
        elif ts < first:
            self.first = ts

    def merge(self, other: Span) -> None:
        for ts in (other.first, other.last):
            if ts is not None:
                self.add(ts)


class BucketClock:
    """The bucket width of one file, widened as its time span grows."""

    __slots__ = (
        "_last_seconds",
        "first",
        "last",
        "second",
        "second_end",
        "second_start",
        "width",
    )

    def __init__(self) -> None:
        self.width = FIRST_WIDTH_S
        self.first: int | None = None  # epoch seconds
        self.last: int | None = None
        self._last_seconds: int | None = None  # of the last time indexed
        # That second as [start, end), once two times fell in it, and its epoch seconds: a
        # log that writes many lines a second then skips timestamp() for the rest. Public
        # for a caller that indexes every record, to test before calling `index`.
        self.second_start: datetime | None = None
        self.second_end = _LAST_SECOND
        self.second = 0

    def index(self, ts: datetime) -> int:
        """The bucket of `ts` at the current width, widening the clock first if needed."""
        start = self.second_start
        if start is not None and start <= ts < self.second_end:
            # The second of the last call: first, last and the width are as it left them.
            return self.second // self.width
        seconds = int(ts.timestamp())
        if seconds == self._last_seconds:
            self._window(ts, seconds)
            return seconds // self.width
        self._last_seconds = seconds
        self.second_start = None
        if self.first is None or seconds < self.first:
            self.first = seconds
        if self.last is None or seconds > self.last:
            self.last = seconds
        while (self.last // self.width) - (self.first // self.width) >= MAX_BUCKETS:
            self.width *= 2
        return seconds // self.width

    def _window(self, ts: datetime, seconds: int) -> None:
        """Remember the second of `ts` as a range of times, where every time in it has
        these epoch `seconds` (true but for float rounding centuries ahead)."""
        start = ts - timedelta(microseconds=ts.microsecond)
        if start < _LAST_SECOND:
            end = start + _SECOND
            if int(start.timestamp()) == seconds == int((end - _MICROSECOND).timestamp()):
                self.second_start, self.second_end, self.second = start, end, seconds

    def start_of(self, index: int) -> datetime:
        return datetime.fromtimestamp(index * self.width, UTC)

    def span(self) -> range:
        """Bucket indexes from the first to the last time seen (empty when none)."""
        if self.first is None or self.last is None:
            return range(0)
        return range(self.first // self.width, self.last // self.width + 1)

    @property
    def step(self) -> timedelta:
        return timedelta(seconds=self.width)


class Histogram:
    """Counts per bucket of a shared clock; catches up with the clock's width lazily."""

    __slots__ = ("clock", "counts", "width")

    def __init__(self, clock: BucketClock) -> None:
        self.clock = clock
        self.width = clock.width
        # A plain dict, not a Counter: one is counted per record, and a Counter's `+= 1`
        # costs nearly twice a dict's.
        self.counts: dict[int, int] = {}

    def add(self, index: int) -> None:
        """Count one event in bucket `index`, from `clock.index(ts)` just before."""
        if self.width != self.clock.width:
            self._widen()
        counts = self.counts
        counts[index] = counts.get(index, 0) + 1

    def _widen(self) -> None:
        factor = self.clock.width // self.width
        merged: dict[int, int] = {}
        for index, count in self.counts.items():
            merged[index // factor] = merged.get(index // factor, 0) + count
        self.counts, self.width = merged, self.clock.width

    def merge(self, other: Histogram) -> None:
        """Add `other`'s counts (same clock) to these."""
        for histogram in (self, other):
            if histogram.width != self.clock.width:
                histogram._widen()
        counts = self.counts
        for index, count in other.counts.items():
            counts[index] = counts.get(index, 0) + count

    def total(self, buckets: range) -> int:
        """Events in the buckets `buckets` of the clock's current width."""
        if self.width != self.clock.width:
            self._widen()
        return sum(count for index, count in self.counts.items() if index in buckets)

    def dense(self) -> list[int]:
        """One count per bucket of the clock's whole span, zeros included."""
        if self.width != self.clock.width:
            self._widen()
        return [self.counts.get(index, 0) for index in self.clock.span()]
