"""Realistic evidence files written for the tests (no real customer data)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

START = datetime(2026, 11, 21, 14, 0, 0, tzinfo=UTC)


def checkout_log(*, errors: int = 40, warns: int = 15, infos: int = 400, seed: int = 7) -> bytes:
    """A checkout service log, 14:00-14:09 UTC: errors from the payments-db pool from 14:02,
    peaking at 14:03, with one Java stack trace among them."""
    rng = random.Random(seed)
    lines: list[tuple[datetime, str]] = []
    for i in range(infos):
        at = START + timedelta(seconds=rng.uniform(0, 599))
        thread, took = rng.randint(1, 8), rng.randint(3, 40)
        text = f"INFO  [http-{thread}] c.a.checkout.Api - GET /cart/{1000 + i} 200 {took}ms"
        lines.append((at, text))
    for _ in range(warns):
        at = START + timedelta(seconds=rng.uniform(60, 599))
        thread, took = rng.randint(1, 8), rng.randint(900, 2000)
        text = f"WARN  [http-{thread}] c.a.checkout.Pool - slow checkout of connection: {took}ms"
        lines.append((at, text))
    for i in range(errors):
        # Most errors land in 14:03, the rest spread to 14:08.
        at = START + timedelta(
            seconds=rng.uniform(180, 239) if i < errors * 3 // 4 else rng.uniform(120, 539)
        )
        lines.append(
            (
                at,
                "ERROR [http-3] c.a.checkout.Pay - upstream payments-db: connection pool exhausted",
            )
        )
    lines.sort()
    out = []
    for at, text in lines:
        stamp = at.strftime("%Y-%m-%d %H:%M:%S,") + f"{at.microsecond // 1000:03d}"
        out.append(f"{stamp} {text}")
    # One stack trace right after the first error: it must count as part of one record.
    first_error = next(i for i, line in enumerate(out) if " ERROR " in line)
    out[first_error + 1 : first_error + 1] = [
        "java.sql.SQLTransientConnectionException: payments-db - Connection is not available",
        "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)",
        "\tat com.acme.checkout.Pay.charge(Pay.java:88)",
    ]
    return ("\n".join(out) + "\n").encode()


def healthy_log(lines: int = 50) -> bytes:
    return "".join(
        f"2026-11-21T10:{i // 60:02d}:{i % 60:02d}Z INFO worker: processed batch {i}\n"
        for i in range(lines)
    ).encode()
