"""Small readings shared by the Kubernetes tools: timestamps, ages as kubectl shows them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

# RFC 3339 as the API writes it; the `T` is optional because exports and hand edits drop it
# ("2025-08-2312:02:32Z") and an age is still worth showing.
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ]?(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$"
)
MAX_MESSAGE_CHARS = 300


def parse_time(value: Any) -> datetime | None:
    """An API timestamp as an aware datetime; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    zone_info = UTC
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        zone_info = timezone(offset if zone[0] == "+" else -offset)
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=zone_info
        )
    except ValueError:
        return None
    return moment.astimezone(UTC)


def age(value: Any, now: datetime | None = None) -> str:
    """'40s', '5m', '3h', '16d' since the timestamp, as kubectl shows ages; '?' if unknown."""
    moment = parse_time(value)
    if moment is None:
        return "?"
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    return duration(max(seconds, 0))


def duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 2 * 3600:
        return f"{seconds // 60}m"
    if seconds < 2 * 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def counted(number: int, word: str) -> str:
    """'1 pod', '3 pods'."""
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


def one_line(text: Any, limit: int = MAX_MESSAGE_CHARS) -> str:
    """A message on one line, cut to `limit` characters."""
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def meta(obj: dict[str, Any]) -> dict[str, Any]:
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def field(obj: Any, *path: str) -> Any:
    """obj[path[0]][path[1]]…, None where any step is missing or not a mapping."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def items(listing: dict[str, Any]) -> list[dict[str, Any]]:
    found = listing.get("items")
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []
