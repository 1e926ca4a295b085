"""Metrics exports written for the tests."""

from __future__ import annotations

JITTER = (-2, 2, 0, 3, -3, 1, -1)  # deterministic noise, median 0


def latency_csv() -> str:
    """A Grafana-style wide export: p99 latency steps up at 14:02 and stays there; the error
    rate has one bad minute at 14:03; CPU wobbles around 40%."""
    rows = ["time,p99_latency_ms,error_rate,cpu_pct"]
    for minute in range(31):
        jitter = JITTER[minute % len(JITTER)]
        latency = (120 if minute < 2 else 850) + jitter
        errors = 0.31 if minute == 3 else 0.01 + jitter / 1000
        rows.append(f"2026-11-21T14:{minute:02d}:00Z,{latency},{errors:.3f},{40 + jitter}")
    return "\n".join(rows) + "\n"
