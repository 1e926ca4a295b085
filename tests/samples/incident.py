"""A small multi-service incident for tests: payments' DB pool runs dry at 14:05.

One hour of traffic from 13:30 UTC. From 14:05, payments logs pool timeouts and stops
logging "payment authorized"; checkout, which calls payments, logs upstream 503s; search
logs the same slow-index error all hour long (noise, not the cause). Each service can be
written in its own format, with its own clock, as real uploads are.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone

START = datetime(2026, 11, 21, 13, 30, tzinfo=UTC)
INCIDENT = datetime(2026, 11, 21, 14, 5, tzinfo=UTC)
MINUTES = 60


def _events(service: str, rng: random.Random) -> list[tuple[datetime, str, str]]:
    """(time, level, message) of one service over the hour."""
    out: list[tuple[datetime, str, str]] = []
    for second in range(0, MINUTES * 60, 3):
        at = START + timedelta(seconds=second, milliseconds=rng.randint(0, 999))
        broken = at >= INCIDENT
        if service == "checkout":
            out.append(
                (at, "INFO", f"GET /api/cart/{rng.randint(1, 999)} 200 in {rng.randint(3, 80)}ms")
            )
            if broken and second % 6 == 0:
                out.append(
                    (
                        at,
                        "ERROR",
                        f"upstream payments returned 503 for order {rng.randint(10**5, 10**6)}",
                    )
                )
        elif service == "payments":
            if not broken and second % 15 == 0:
                out.append(
                    (
                        at,
                        "INFO",
                        f"payment {rng.randint(10**6, 10**7)} authorized "
                        f"in {rng.randint(20, 90)}ms",
                    )
                )
            if broken and second % 6 == 0:
                waiting = rng.randint(1, 90)
                out.append(
                    (
                        at,
                        "ERROR",
                        "could not get connection from pool after 30000ms "
                        f"(active=50 idle=0 waiting={waiting})",
                    )
                )
            if second % 60 == 0:
                out.append(
                    (
                        at,
                        "INFO",
                        f"pool stats active={50 if broken else rng.randint(5, 20)} "
                        f"idle={0 if broken else rng.randint(5, 30)}",
                    )
                )
        elif service == "search":
            out.append(
                (
                    at,
                    "INFO",
                    f"query q={rng.choice(['shoes', 'hat', 'coat'])} hits={rng.randint(0, 500)}",
                )
            )
            if second % 120 == 0:
                out.append((at, "ERROR", f"index refresh slow for shard {rng.randint(1, 9)}"))
    return out


def json_lines(service: str, *, seed: int = 1) -> bytes:
    """JSON lines with epoch-millisecond times and a "service" field."""
    rng = random.Random(seed)
    rows = [
        json.dumps(
            {
                "ts": int(at.timestamp() * 1000),
                "level": level.lower(),
                "service": service,
                "msg": msg,
            }
        )
        for at, level, msg in _events(service, rng)
    ]
    return ("\n".join(rows) + "\n").encode()


def plain_log(service: str, *, seed: int = 1, offset_hours: int = 0) -> bytes:
    """'2026-11-21T15:05:00.123+01:00 ERROR message' lines in a local time zone."""
    rng = random.Random(seed)
    zone = timezone(timedelta(hours=offset_hours))
    rows = [
        f"{at.astimezone(zone).isoformat(timespec='milliseconds')} {level:<5} {msg}"
        for at, level, msg in _events(service, rng)
    ]
    return ("\n".join(rows) + "\n").encode()
