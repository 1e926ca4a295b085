"""Generated multi-service logs for benchmarks: realistic mix of formats and failures."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

SERVICES = ("checkout", "payments", "cart", "search", "auth")


def generate_log(lines: int, *, seed: int = 1) -> bytes:
    """A Java/Python-style app log with INFO noise, WARNs, several error kinds and stack traces."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
    out: list[str] = []
    t = start
    while len(out) < lines:
        t += timedelta(milliseconds=rng.randint(1, 40))
        stamp = t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"
        svc = rng.choice(SERVICES)
        roll = rng.random()
        if roll < 0.90:
            out.append(
                f"{stamp} INFO  [http-{rng.randint(1, 64)}] c.a.{svc}.Api - GET /v1/{svc}/"
                f"{rng.randint(1, 10**6)} 200 {rng.randint(2, 90)}ms user={rng.randint(1, 10**5)}"
            )
        elif roll < 0.96:
            out.append(
                f"{stamp} WARN  [pool-{rng.randint(1, 8)}] c.a.{svc}.Pool - slow checkout "
                f"{rng.randint(500, 3000)}ms from 10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            )
        elif roll < 0.99:
            out.append(
                f"{stamp} ERROR [http-{rng.randint(1, 64)}] c.a.{svc}.Client - timeout after "
                f"{rng.randint(1000, 5000)}ms calling payments-db:5432 "
                f"(attempt {rng.randint(1, 3)})"
            )
        else:
            out.append(
                f"{stamp} ERROR [http-3] c.a.{svc}.Pay - upstream payments-db: pool exhausted"
            )
            out.append("java.sql.SQLTransientConnectionException: Connection is not available")
            out.append(
                "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)"
            )
            out.append(f"\tat com.acme.{svc}.Pay.charge(Pay.java:{rng.randint(10, 400)})")
    return ("\n".join(out[:lines]) + "\n").encode()
