"""What changed in a log: the incident window, new / vanished templates, components."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.evidence.logs.analyze import analyze_log
from engine.evidence.logs.rate_changes import find_rate_window
from engine.evidence.logs.records import iter_records
from engine.evidence.logs.timebuckets import MAX_BUCKETS, BucketClock, Histogram
from tests.samples.incident import INCIDENT, json_lines, plain_log

# --- rate windows -------------------------------------------------------------------------


def test_a_step_up_is_a_window_to_the_end() -> None:
    counts = [0] * 30 + [8] * 20
    window = find_rate_window(counts)
    assert window is not None
    assert (window.start, window.stop) == (30, 50)
    assert window.inside == 160 and window.outside == 0


def test_a_burst_that_recovers_ends_where_it_ends() -> None:
    rng = random.Random(3)
    counts = [rng.choice([0, 1]) for _ in range(60)]
    counts[20:26] = [40, 55, 61, 48, 39, 30]
    window = find_rate_window(counts)
    assert window is not None
    assert (window.start, window.stop) == (20, 26)


def test_steady_noise_is_not_an_incident() -> None:
    import numpy as np

    for seed in range(30):
        counts = np.random.default_rng(seed).poisson(3.0, 120).tolist()
        assert find_rate_window(counts) is None, seed


def test_a_few_errors_are_not_an_incident() -> None:
    assert find_rate_window([0] * 40 + [1, 0, 2]) is None


# --- time buckets -------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40 * 86_400), min_size=1, max_size=300))
def test_buckets_widen_without_losing_counts(offsets: list[int]) -> None:
    clock = BucketClock()
    histogram = Histogram(clock)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for offset in offsets:
        histogram.add(clock.index(start + timedelta(seconds=offset)))
    dense = histogram.dense()
    assert sum(dense) == len(offsets)
    assert len(dense) <= MAX_BUCKETS + 1


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-90_000, 90_000), st.integers(0, 999_999), st.integers(1, 4)),
        min_size=1,
        max_size=60,
    )
)
def test_a_bucket_is_the_time_in_epoch_seconds_over_the_width(
    steps: list[tuple[int, int, int]],
) -> None:
    """Records of one second skip the clock's arithmetic; they land where it would put them,
    on either side of 1970 too (where a second's epoch value truncates towards zero)."""
    clock = BucketClock()
    start = datetime(1970, 1, 1, tzinfo=UTC)
    seen: list[int] = []
    for seconds, micro, repeats in steps:
        for _ in range(repeats):  # several records in one second, as logs write them
            ts = start + timedelta(seconds=seconds, microseconds=micro)
            seen.append(int(ts.timestamp()))
            index = clock.index(ts)
            assert index == seen[-1] // clock.width
            assert (clock.first, clock.last) == (min(seen), max(seen))
            micro = (micro * 7 + 13) % 1_000_000


# --- components in records -----------------------------------------------------------------


def test_records_keep_who_logged_them() -> None:
    lines = [
        '{"ts":"2026-11-21T14:00:00Z","level":"error","msg":"x","service":{"name":"payments"},'
        '"host":{"name":"node-1"}}',
        "Nov 21 14:00:01 db-01 postgres[123]: FATAL: too many connections",
        "time=2026-11-21T14:00:02Z level=error msg=x app=checkout pod=checkout-7d9f8c6b5-x2k4p",
    ]
    found = [(r.component, r.host) for r in iter_records(lines, reference_year=2026)]
    assert found == [
        ("payments", "node-1"),
        (None, "db-01"),
        ("checkout", "checkout-7d9f8c6b5-x2k4p"),
    ]


# --- log reports ----------------------------------------------------------------------------


def test_the_incident_window_starts_when_errors_rise() -> None:
    report = analyze_log("checkout.log", plain_log("checkout", offset_hours=2))
    assert report.incident_start == INCIDENT
    assert report.incident_end is None  # still broken when the log ends
    rate = report.anomalies[0]
    assert rate.kind == "error-rate" and rate.before_per_min == 0 and rate.during_per_min > 5


def test_new_and_vanished_templates_are_named_with_their_component() -> None:
    report = analyze_log("payments.json", json_lines("payments"))
    kinds = {(a.kind, a.template, a.component) for a in report.anomalies}
    assert (
        "new",
        "could not get connection from pool after <*> (active=<*> idle=<*> waiting=<*>)",
        "payments",
    ) in kinds
    assert ("vanished", "payment <*> authorized in <*>", "payments") in kinds
    [payments] = report.components
    assert payments.name == "payments" and payments.onset == INCIDENT
    assert payments.errors_before_per_min == 0 and payments.errors_during_per_min > 5


def test_steady_errors_have_no_incident() -> None:
    report = analyze_log("search.log", plain_log("search"))
    assert report.error_count > 20
    assert report.incident_start is None and report.anomalies == []
    assert report.templates[0].template == "index refresh slow for shard <*>"


def test_templates_list_errors_first_with_counts_in_the_window() -> None:
    report = analyze_log("checkout.log", plain_log("checkout"))
    top = report.templates[0]
    assert top.template == "upstream payments returned <*> for order <*>"
    assert top.level == "ERROR" and top.count == top.in_window > 200
    assert report.template_count == 2


def test_secrets_in_templates_are_masked_and_counted() -> None:
    lines = [
        f"2026-11-21T14:{m:02d}:00Z INFO login ok token=ghp_{'a1B2c3D4' * 5}" for m in range(10)
    ]
    report = analyze_log("auth.log", "\n".join(lines).encode())
    assert "ghp_" not in report.model_dump_json()
    assert report.redactions == {"secret": 1}
