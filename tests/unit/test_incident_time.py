"""When people say the incident started: the window metric changes are weighed against."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.investigate.incident_time import incident_start

DAY = (datetime(2024, 3, 11, 6, 0, tzinfo=UTC), datetime(2024, 3, 11, 12, 0, tzinfo=UTC))


def test_a_time_and_a_date_in_the_question() -> None:
    text = "users report failing requests since about 08:43 UTC on 2024-03-11; why?"
    assert incident_start([text], []) == datetime(2024, 3, 11, 8, 43, tzinfo=UTC)


def test_a_time_alone_takes_the_day_the_evidence_covers() -> None:
    assert incident_start(["checkout fails since 09:15"], [DAY]) == datetime(
        2024, 3, 11, 9, 15, tzinfo=UTC
    )


def test_an_offset_and_a_twelve_hour_clock_are_converted_to_utc() -> None:
    assert incident_start(["since 10:30+02:00 on 2024-03-11"], []) == datetime(
        2024, 3, 11, 8, 30, tzinfo=UTC
    )
    assert incident_start(["slow since 9:15 am"], [DAY]) == datetime(2024, 3, 11, 9, 15, tzinfo=UTC)


def test_the_earliest_time_across_question_and_thread_wins() -> None:
    texts = ["errors since 10:05", "actually the first alert fired at 09:58"]
    assert incident_start(texts, [DAY]) == datetime(2024, 3, 11, 9, 58, tzinfo=UTC)


def test_no_time_or_no_day_to_put_it_on_gives_none() -> None:
    assert incident_start(["the shop is slow; which service is the root cause?"], [DAY]) is None
    assert incident_start(["since 09:15"], []) is None
    assert (
        incident_start(["version 1.2.3 and ratio 3:1 are not times, nor is 25:99"], [DAY]) is None
    )
