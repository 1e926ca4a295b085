"""Leading timestamps in the formats real logs use; every result is aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.evidence.timestamps import match_timestamp, parse_timestamp, parse_timestamp_value

T = datetime(2026, 11, 21, 14, 2, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "expected", "rest"),
    [
        ("2026-11-21T14:02:03Z msg", T, " msg"),
        ("2026-11-21T14:02:03.123456789Z msg", T.replace(microsecond=123456), " msg"),
        ("2026-11-21 14:02:03,123 ERROR x", T.replace(microsecond=123000), " ERROR x"),
        ("2026-11-21 14:02:03+01:00 x", T - timedelta(hours=1), " x"),
        ("2026-11-21 14:02:03 -0500 x", T + timedelta(hours=5), " x"),
        ("2026-11-21 14:02:03 x", T, " x"),
        ("2026/11/21 14:02:03 listening", T, " listening"),
        ("[2026-11-21 14:02:03,000] INFO", T, " INFO"),
        ("[21/Nov/2026:14:02:03 +0000] GET", T, " GET"),
        ("21/Nov/2026:16:02:03 +0200", T, ""),
        ("21-Nov-2026 14:02:03.000 SEVERE", T, " SEVERE"),
        ("Sat, 21 Nov 2026 14:02:03 GMT", T, ""),
        ("Nov 21 14:02:03 web1 sshd[1]: x", T, " web1 sshd[1]: x"),
        ("I1121 14:02:03.000000    1 main.go:42] x", T, "    1 main.go:42] x"),
        ("2026-11-21 14:02:03 - app - ERROR - x", T, " - app - ERROR - x"),
        ("2026-11-21 14:02:03 +12 retries", T, " +12 retries"),
    ],
)
def test_formats(line: str, expected: datetime, rest: str) -> None:
    found = parse_timestamp(line, reference_year=2026)
    assert found is not None
    ts, end = found
    assert ts == expected
    assert ts.tzinfo is UTC
    assert line[end:] == rest


@pytest.mark.parametrize(
    "text",
    ["hello", "", "2026-13-01 00:00:00", "2026-02-30 10:00:00", "Foo 21 14:02:03", "12:00:00 x"],
)
def test_not_a_timestamp(text: str) -> None:
    assert parse_timestamp(text) is None


def test_syslog_without_reference_year_is_never_far_in_the_future() -> None:
    now = datetime.now(UTC)
    ahead = now + timedelta(days=10)
    found = match_timestamp(ahead.strftime("%b %d %H:%M:%S host x"))
    assert found is not None and not found.has_year
    assert found.ts <= now + timedelta(days=2)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1795269723, T),
        (1795269723123, T.replace(microsecond=123000)),
        (1795269723123456, T.replace(microsecond=123456)),
        ("1795269723.5", T.replace(microsecond=500000)),
        ("2026-11-21T15:02:03+01:00", T),
        ("not a time", None),
        ("0\x1f", None),  # found by hypothesis: \s matched what float() refuses
        ("²³", None),
        (True, None),
        (None, None),
        (float("inf"), None),
    ],
)
def test_field_values(value: object, expected: datetime | None) -> None:
    assert parse_timestamp_value(value) == expected


offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1001, 1, 2), max_value=datetime(9998, 12, 30)),
    offsets,
)


def _offset(dt: datetime) -> str:
    return dt.strftime("%z")  # +HHMM


@settings(max_examples=150, deadline=None)
@given(aware)
def test_any_aware_datetime_parses_back_to_the_same_instant(dt: datetime) -> None:
    whole = dt.replace(microsecond=0)
    millis = dt.replace(microsecond=dt.microsecond // 1000 * 1000)
    texts = {
        dt.isoformat(): dt,
        dt.isoformat(sep=" "): dt,
        dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"): dt,
        millis.strftime("%Y-%m-%d %H:%M:%S,")
        + f"{millis.microsecond // 1000:03d} "
        + _offset(dt): millis,
        whole.strftime("[%d/%b/%Y:%H:%M:%S ") + _offset(dt) + "]": whole,
        whole.strftime("%d-%b-%Y %H:%M:%S") + _offset(dt): whole,
    }
    for text, expected in texts.items():
        found = parse_timestamp(text + " message")
        assert found is not None, text
        assert found[0] == expected, text
        assert found[0].utcoffset() == timedelta(0)


# Epoch units are told apart by size, so milliseconds before 1973 would read as seconds;
# logs from this century are what matter.
@settings(max_examples=100, deadline=None)
@given(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2100, 12, 31)))
def test_syslog_and_epoch_round_trip(naive: datetime) -> None:
    dt = naive.replace(microsecond=0, tzinfo=UTC)
    syslog = f"{dt:%b} {dt.day:>2} {dt:%H:%M:%S} host proc: x"
    assert parse_timestamp(syslog, reference_year=dt.year) == (dt, 15)
    epoch_ms = (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    assert parse_timestamp_value(epoch_ms) == dt


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.text(alphabet="0123456789-/:T .,Z+[]NovJanDecIWEFSat"),
        st.from_regex(r"\A\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}.{0,12}", fullmatch=True),
    )
)
def test_random_text_never_raises(text: str) -> None:
    found = parse_timestamp(text)
    if found is not None:
        assert found[0].tzinfo is UTC
        assert 0 < found[1] <= len(text)
    parse_timestamp_value(text)
