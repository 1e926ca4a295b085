"""Durations in span tables: the unit a bare number is in.

A cell like "12ms" or a column named duration_us says its unit. A bare number does not, and
tools differ (milliseconds in one, microseconds or nanoseconds in another), so the table is
asked: where it also has start and end times, the unit that makes durations agree with
end - start is the one; otherwise the numbers' size decides, and a note says so, because a
wrong guess makes every figure off by a thousand.
"""

from __future__ import annotations

import math
import re
from statistics import median

US_PER = {
    "ns": 1e-3,
    "nano": 1e-3,
    "nanos": 1e-3,
    "nanoseconds": 1e-3,
    "us": 1.0,
    "µs": 1.0,
    "μs": 1.0,
    "micros": 1.0,
    "microseconds": 1.0,
    "ms": 1e3,
    "millis": 1e3,
    "milliseconds": 1e3,
    "s": 1e6,
    "sec": 1e6,
    "secs": 1e6,
    "seconds": 1e6,
    "m": 6e7,
}
_WORDS = {1e-3: "nanoseconds", 1.0: "microseconds", 1e3: "milliseconds", 1e6: "seconds"}
DURATION = re.compile(
    r"\s*([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*(ns|us|µs|μs|ms|s|m)?\s*", re.IGNORECASE
)
# Units a bare duration may be in when only its size can tell, in order: the first whose
# reading puts the median span under MAX_TYPICAL_US wins. Half the spans of a request taking
# longer than that is rare, while a unit too coarse by 1000 makes them take minutes.
_BY_SIZE = (1e3, 1.0, 1e-3)
MAX_TYPICAL_US = 1e6
# durations / (end - start) must be this close to 1 for a unit to count as confirmed; spans
# timed to the millisecond are off by up to a millisecond either way.
_AGREEMENT = 2.0
MIN_CHECKS = 3


def split_duration(value: str) -> tuple[float, str | None] | None:
    """The number and unit of a duration cell ('12ms' -> (12.0, 'ms')); None when it is not
    one."""
    m = DURATION.fullmatch(value)
    if not m:
        return None
    return float(m.group(1)), m.group(2).lower() if m.group(2) else None


def _unit_from_times(pairs: list[tuple[float, float]]) -> tuple[float | None, bool]:
    """Microseconds per unit that makes bare durations agree with end - start, if any; and
    whether there were enough rows to check (zero-length spans say nothing)."""
    ratios = [elapsed / value for value, elapsed in pairs if value > 0 and elapsed > 0]
    if len(ratios) < MIN_CHECKS:
        return None, False
    ratio = median(ratios)
    scale = min(_WORDS, key=lambda s: abs(math.log(ratio / s)))
    return (scale if abs(math.log(ratio / scale)) <= math.log(_AGREEMENT) else None), True


def _unit_from_size(values: list[float]) -> tuple[float, float]:
    """Microseconds per unit judged by the median bare duration, and that median."""
    positive = [value for value in values if value > 0]
    typical = median(positive) if positive else 0.0
    scale = next((s for s in _BY_SIZE if typical * s <= MAX_TYPICAL_US), _BY_SIZE[-1])
    return scale, typical


def bare_unit(values: list[float], pairs: list[tuple[float, float]]) -> tuple[float, str]:
    """Microseconds per unit for a table's bare durations, and a note saying how it was found.

    `pairs` are (bare duration, end - start in microseconds) of the rows that have both.
    """
    found, checked = _unit_from_times(pairs)
    if found is not None:
        return found, f"durations have no unit; read as {_WORDS[found]}, as end − start agrees"
    scale, typical = _unit_from_size(values)
    why = "match end − start in no unit" if checked else "have no unit"
    size = f"{typical:,.0f}" if typical >= 10 else f"{typical:.3g}"
    return scale, (
        f"durations {why}; read as {_WORDS[scale]} judged by their size (median {size}); "
        "a column name like duration_ms makes the unit certain"
    )
