"""Find and parse the timestamps that log lines start with; every result is aware UTC.

Hand-written regexes rather than `strptime` or dateutil: we need the end index (to cut the
prefix off the message), must never raise on arbitrary text, and run once per line of
files with millions of lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
_MON = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_DAY = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
_FRACTION = r"(?:[.,](\d{1,9}))?"

# 2026-11-21T14:02:03.123Z, 2026-11-21 14:02:03,123 +0100, 2026/11/21 14:02:03.
# An offset after a space must have four digits so "... 14:02:03 +12 retries" stays text.
_ISO = re.compile(
    r"(\d{4})([-/])(\d{2})\2(\d{2})[T ](\d{2}):(\d{2}):(\d{2})"
    + _FRACTION
    + r"(?:(Z)|\s?(?:UTC|GMT)\b|([+-]\d{2}(?::?\d{2})?)|\s([+-]\d{2}:?\d{2}))?(?!\d)"
)
# 21/Nov/2026:14:02:03 +0000 (Apache/nginx), 21-Nov-2026 14:02:03.123 (Tomcat),
# Sat, 21 Nov 2026 14:02:03 +0000 (RFC 2822).
_DMY = re.compile(
    rf"(?:(?:{_DAY}),?\s)?(\d{{1,2}})([-/ ])({_MON})\2(\d{{4}})[ :](\d{{2}}):(\d{{2}}):(\d{{2}})"
    + _FRACTION
    + r"(?:\s?(?:(Z)|(?:UTC|GMT)\b|([+-]\d{2}:?\d{2})))?(?!\d)"
)
# Nov 21 14:02:03 (syslog, no year), optionally "Sat Nov 21 14:02:03 2026" (ctime).
_SYSLOG = re.compile(
    rf"(?:(?:{_DAY})\s+)?({_MON})\s+(\d{{1,2}})\s+(\d{{2}}):(\d{{2}}):(\d{{2}})"
    + _FRACTION
    + r"(?:\s+(\d{4})(?=[\s\]]|$))?"
)
# Shapes other tools write, tried after those above:
# 20171223-22:15:29:606 (compact date, the fraction after a colon);
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})-(\d{2}):(\d{2}):(\d{2})(?:[.,:](\d{1,9}))?(?!\d)")
# 3/23/2022 3:09:50 AM (US order, 12-hour clock);
_US = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2}):(\d{2})"
    + _FRACTION
    + r"(?:\s?([AP]M))?(?!\w)"
)
# 08-07 05:12:39.029 or 07.07 03:23:49 (month and day, no year);
_MONTH_DAY = re.compile(r"(\d{2})[-.](\d{2}) (\d{2}):(\d{2}):(\d{2})" + _FRACTION + r"(?![\d.:-])")
# I1121 14:02:03.123456 (glog / klog): level letter, month, day; no year.
_GLOG = re.compile(r"[IWEF](\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})" + _FRACTION)
_NUMBER = re.compile(r"[ \t]*[-+]?[0-9]+(?:\.[0-9]+)?[ \t]*")  # what float() accepts, no more

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Below 1e11 seconds (year 5138) it is seconds; below 1e14, milliseconds; and so on.
_EPOCH_UNITS = ((1e11, 1.0), (1e14, 1e3), (1e17, 1e6))
# A year-less timestamp further ahead than this is taken to be from the previous year
# (a December syslog read in January).
_FUTURE_SLACK = timedelta(days=2)


# Consecutive log lines share their second: remembering the datetime for each
# "date time offset" text skips most int() and datetime() calls (a third of the cost).
_SECONDS: dict[str, datetime | None] = {}
_SECONDS_MAX = 4096
_UNSEEN = datetime.min


def _remember(key: str, value: datetime | None) -> datetime | None:
    if len(_SECONDS) >= _SECONDS_MAX:
        _SECONDS.clear()
    _SECONDS[key] = value
    return value


class TimestampMatch(NamedTuple):
    ts: datetime
    end: int
    has_year: bool


def _fraction(digits: str | None) -> int:
    return int(digits[:6].ljust(6, "0")) if digits else 0


_FRACTIONS: dict[str, timedelta] = {}


def _plus_fraction(base: datetime, digits: str | None) -> datetime:
    """`base.replace(microsecond=_fraction(digits))` for a `base` on a whole second: adding a
    remembered timedelta costs a fifth of what replace() does."""
    if not digits:
        return base
    delta = _FRACTIONS.get(digits)
    if delta is None:
        if len(_FRACTIONS) >= _SECONDS_MAX:
            _FRACTIONS.clear()
        delta = _FRACTIONS[digits] = timedelta(microseconds=_fraction(digits))
    return base + delta


def _offset(text: str | None) -> timedelta | None:
    """'+01:00' / '-0530' / '+01' -> timedelta; None when out of the real-world range."""
    if not text:
        return timedelta(0)
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 18 or minutes > 59:
        return None
    return sign * timedelta(hours=hours, minutes=minutes)


def _build(
    year: int,
    month: int,
    day: int,
    hms: Sequence[str],
    frac: str | None,
    offset: timedelta | None,
) -> datetime | None:
    if offset is None:
        return None
    second = min(int(hms[2]), 59)  # a leap second ":60" is not worth rejecting the line
    try:
        dt = datetime(year, month, day, int(hms[0]), int(hms[1]), second, _fraction(frac), UTC)
        return dt - offset if offset else dt
    except (ValueError, OverflowError):
        return None


def _yearless(
    month: int, day: int, hms: Sequence[str], frac: str | None, year: int | None
) -> datetime | None:
    if year is not None:
        return _build(year, month, day, hms, frac, timedelta(0))
    now = datetime.now(UTC)
    dt = _build(now.year, month, day, hms, frac, timedelta(0))
    if dt is not None and dt > now + _FUTURE_SLACK:
        dt = _build(now.year - 1, month, day, hms, frac, timedelta(0))
    return dt


def match_timestamp(
    text: str, pos: int = 0, reference_year: int | None = None
) -> TimestampMatch | None:
    """The timestamp starting at `text[pos]`, or None; never raises.

    Year-less formats (syslog, glog) use `reference_year`; without one, the current year,
    or the previous one when that would put the time more than two days in the future.
    """
    first = text[pos : pos + 1]
    if not first:
        return None
    if first == "[":
        inner = match_timestamp(text, pos + 1, reference_year)
        if inner is None:
            return None
        end = inner.end + 1 if text[inner.end : inner.end + 1] == "]" else inner.end
        return TimestampMatch(inner.ts, end, inner.has_year)
    if first.isdigit():
        return (
            _match_iso(text, pos)
            or _match_dmy(text, pos)
            or _match_other(text, pos, reference_year)
        )
    if first in "IWEF":
        found = _match_glog(text, pos, reference_year)
        if found is not None:
            return found
    if first.isalpha():
        return _match_syslog(text, pos, reference_year) or _match_dmy(text, pos)
    return None


def _match_iso(text: str, pos: int) -> TimestampMatch | None:
    m = _ISO.match(text, pos)
    if not m:
        return None
    g = m.groups()
    offset = g[9] or g[10]
    key = text[pos : m.end(7)] + (offset or "")
    base = _SECONDS.get(key, _UNSEEN)
    if base is _UNSEEN:
        base = _remember(
            key, _build(int(g[0]), int(g[2]), int(g[3]), g[4:7], None, _offset(offset))
        )
    if base is None:
        return None
    return TimestampMatch(_plus_fraction(base, g[7]), m.end(), True)


def _match_dmy(text: str, pos: int) -> TimestampMatch | None:
    m = _DMY.match(text, pos)
    if not m:
        return None
    g = m.groups()
    key = text[pos : m.end(7)] + (g[9] or "")
    base = _SECONDS.get(key, _UNSEEN)
    if base is _UNSEEN:
        ymd = (int(g[3]), _MONTHS[g[2]], int(g[0]))
        base = _remember(key, _build(*ymd, g[4:7], None, _offset(g[9])))
    if base is None:
        return None
    return TimestampMatch(_plus_fraction(base, g[7]), m.end(), True)


def _match_glog(text: str, pos: int, year: int | None) -> TimestampMatch | None:
    m = _GLOG.match(text, pos)
    if not m:
        return None
    g = m.groups()
    dt = _yearless(int(g[0]), int(g[1]), g[2:5], g[5], year)
    return TimestampMatch(dt, m.end(), False) if dt else None


def _match_syslog(text: str, pos: int, year: int | None) -> TimestampMatch | None:
    m = _SYSLOG.match(text, pos)
    if not m:
        return None
    g = m.groups()
    second = text[m.start(1) : m.end(5)]  # "Nov 21 14:02:03": what neighbouring lines share
    if g[6]:
        base = _syslog_second(second, int(g[6]), g)
    elif year is not None:
        base = _syslog_second(second, year, g)
    else:  # as _yearless reads it
        now = datetime.now(UTC)
        base = _syslog_second(second, now.year, g)
        if base is not None and _plus_fraction(base, g[5]) > now + _FUTURE_SLACK:
            base = _syslog_second(second, now.year - 1, g)
    if base is None:
        return None
    return TimestampMatch(_plus_fraction(base, g[5]), m.end(), bool(g[6]))


_SYSLOG_SECONDS: dict[tuple[str, int], datetime | None] = {}


def _syslog_second(second: str, year: int, g: Sequence[str]) -> datetime | None:
    """The whole second a syslog time (`_SYSLOG`'s groups `g`) names in `year`."""
    key = (second, year)
    base = _SYSLOG_SECONDS.get(key, _UNSEEN)
    if base is _UNSEEN:
        if len(_SYSLOG_SECONDS) >= _SECONDS_MAX:
            _SYSLOG_SECONDS.clear()
        month, day = _MONTHS[g[0]], int(g[1])
        base = _SYSLOG_SECONDS[key] = _build(year, month, day, g[2:5], None, timedelta(0))
    return base


def _match_other(text: str, pos: int, year: int | None) -> TimestampMatch | None:
    """The rarer numeric shapes: compact, US with AM/PM, month and day without a year."""
    m = _COMPACT.match(text, pos)
    if m:
        g = m.groups()
        dt = _build(int(g[0]), int(g[1]), int(g[2]), g[3:6], g[6], timedelta(0))
        return TimestampMatch(dt, m.end(), True) if dt else None
    m = _US.match(text, pos)
    if m:
        g = m.groups()
        hour = int(g[3]) % 12 + (12 if g[7] == "PM" else 0) if g[7] else int(g[3])
        hms = (str(hour), g[4], g[5])
        dt = _build(int(g[2]), int(g[0]), int(g[1]), hms, g[6], timedelta(0))
        return TimestampMatch(dt, m.end(), True) if dt else None
    m = _MONTH_DAY.match(text, pos)
    if m:
        g = m.groups()
        dt = _yearless(int(g[0]), int(g[1]), g[2:5], g[5], year)
        return TimestampMatch(dt, m.end(), False) if dt else None
    return None


def parse_timestamp(text: str, reference_year: int | None = None) -> tuple[datetime, int] | None:
    """A timestamp at the start of `text` (optionally in brackets) and where it ends."""
    m = match_timestamp(text, 0, reference_year)
    return (m.ts, m.end) if m else None


def from_epoch(value: float) -> datetime | None:
    """Seconds, milliseconds, microseconds or nanoseconds since 1970, told apart by size."""
    magnitude = abs(value)
    scale = next((scale for limit, scale in _EPOCH_UNITS if magnitude < limit), 1e9)
    try:
        return _EPOCH + timedelta(microseconds=round(value / scale * 1e6))
    except (OverflowError, ValueError):
        return None


def parse_timestamp_value(value: object, reference_year: int | None = None) -> datetime | None:
    """A timestamp from a JSON or logfmt field: epoch number, numeric string or date text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return from_epoch(value) if value == value else None  # NaN never equals itself
    if not isinstance(value, str):
        return None
    if _NUMBER.fullmatch(value):
        return from_epoch(float(value))
    m = match_timestamp(value.strip(), 0, reference_year)
    return m.ts if m else None
