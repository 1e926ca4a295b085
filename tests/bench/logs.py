"""Generated multi-service logs for benchmarks: realistic mix of formats and failures."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice

SERVICES = ("checkout", "payments", "cart", "search", "auth")


def iter_log_lines(*, seed: int = 1, incident_after: int | None = None) -> Iterator[str]:
    """Endless app log lines (INFO noise, WARNs, several error kinds, stack traces).

    From line `incident_after` on, payments-db pool errors come ten times as often: an
    incident for the anomaly detection to find."""
    rng = random.Random(seed)
    t = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
    count = 0
    while True:
        t += timedelta(milliseconds=rng.randint(1, 40))
        stamp = t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"
        svc = rng.choice(SERVICES)
        roll = rng.random()
        extra = 0.0 if incident_after is None or count < incident_after else 0.09
        count += 1
        if roll < 0.90 - extra:
            yield (
                f"{stamp} INFO  [http-{rng.randint(1, 64)}] c.a.{svc}.Api - GET /v1/{svc}/"
                f"{rng.randint(1, 10**6)} 200 {rng.randint(2, 90)}ms user={rng.randint(1, 10**5)}"
            )
        elif roll < 0.96 - extra:
            yield (
                f"{stamp} WARN  [pool-{rng.randint(1, 8)}] c.a.{svc}.Pool - slow checkout "
                f"{rng.randint(500, 3000)}ms from 10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            )
        elif roll < 0.99 - extra:
            yield (
                f"{stamp} ERROR [http-{rng.randint(1, 64)}] c.a.{svc}.Client - timeout after "
                f"{rng.randint(1000, 5000)}ms calling payments-db:5432 "
                f"(attempt {rng.randint(1, 3)})"
            )
        else:
            yield f"{stamp} ERROR [http-3] c.a.{svc}.Pay - upstream payments-db: pool exhausted"
            yield "java.sql.SQLTransientConnectionException: Connection is not available"
            # a real Hikari frame: keep it whole
            yield "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)"  # noqa: E501
            yield f"\tat com.acme.{svc}.Pay.charge(Pay.java:{rng.randint(10, 400)})"


def generate_log(lines: int, *, seed: int = 1) -> bytes:
    """`lines` lines of `iter_log_lines`, as an upload."""
    return ("\n".join(islice(iter_log_lines(seed=seed), lines)) + "\n").encode()
