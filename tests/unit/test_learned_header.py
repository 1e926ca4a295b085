"""The header a file's lines share, read as record fields: time, level, program.

Every layout of tests/bench/log_formats.py (real tools' line formats, Loghub messages) goes
through the same record reader `faultmaven analyze` uses; the truth is the time and level
the generator drew for each record.
"""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.evidence.decode import decode_stream
from engine.evidence.logs.analyze import analyze_log
from engine.evidence.logs.header_stream import _reader_for, iter_log_records
from engine.evidence.logs.learned_header import SecondClock, header_level, read_time
from engine.evidence.logs.records import Record
from engine.evidence.templates.headers import SAMPLE_LINES
from engine.evidence.templates.tokens import shape_of
from tests.bench import log_formats, loghub

LINES = 300

# Layouts that write no date: a time of day, an uptime or nothing at all.
NO_DATE = {
    "log4j_ttcc",  # milliseconds since start
    "logback_default",  # time of day only
    "spark",  # yy/MM/dd: a two-digit year that reads as a day too
    "python_basic",
    "uvicorn",
    "compose",
    "dotnet_console",
    "hpc_record_id",  # an epoch after a record id and a node: not the line's start
    "grep_filename",  # the time glued to the file name
    "logcat_epoch",  # right-aligned: every line starts with spaces
}
# Layouts whose level is not a level's name: redis writes '.', '*', '#'; MySQL 8 'System' and
# 'Note' for its two lowest; a right-aligned file is read by the general parser only.
LEVEL_NOT_NAMED = {"redis", "mysql", "logcat_epoch"}
# Layouts whose header names the program or source of each line in a field of its own.
NAMES_PROGRAM = {
    "syslog_rfc3164",
    "rsyslog_precise",
    "journald_short_iso",
    "windows_eventlog_text",
    "proxifier",
    "healthapp_pipe",
    "logcat_threadtime",
}


def _records(data: bytes) -> dict[int, Record]:
    lines = decode_stream(io.BytesIO(data)).lines()
    return {record.line: record for record in iter_log_records(lines)}


def _same_time(read: datetime, written: datetime) -> bool:
    """The time as written: in its own zone, or on the wall clock when no zone was written,
    in any year when none was written."""
    wall = written.replace(tzinfo=read.tzinfo)
    candidates = (written, wall, wall.replace(year=read.year))
    return any(abs((read - t).total_seconds()) < 1.01 for t in candidates)


@pytest.fixture(scope="module")
def hdfs() -> loghub.Dataset:
    if not loghub.available():
        pytest.skip(f"Loghub-2k data not present at {loghub.DATA_DIR}")
    return loghub.load("HDFS")


@pytest.mark.parametrize("name", list(log_formats.LAYOUTS))
def test_each_layout_gives_its_records_their_time_level_and_program(
    name: str, hdfs: loghub.Dataset
) -> None:
    rendered = log_formats.render(log_formats.LAYOUTS[name], hdfs, LINES)
    records = _records(rendered.data())
    starts = rendered.first_lines()
    assert len(records) >= 0.99 * len(starts) or name == "logcat_epoch"
    read = [records.get(line) for line in starts]
    if name not in NO_DATE:
        right = sum(
            r is not None and r.ts is not None and _same_time(r.ts, written)
            for r, written in zip(read, rendered.times, strict=True)
        )
        assert right >= 0.98 * len(starts), f"{name}: {right}/{len(starts)} times read right"
    drawn = [(r, level) for r, level in zip(read, rendered.levels, strict=True) if level]
    if drawn and name not in LEVEL_NOT_NAMED:
        # Some tools spell two levels alike (Windows' "Info" for debug too, klog's "I").
        right = sum(r is not None and r.level == level for r, level in drawn)
        assert right >= 0.85 * len(drawn), f"{name}: {right}/{len(drawn)} levels read right"
    if name in NAMES_PROGRAM:
        named = sum(r is not None and bool(r.component or r.host) for r in read)
        assert named >= 0.8 * len(starts), f"{name}: {named}/{len(starts)} lines named"


def test_an_unseen_header_becomes_the_records_fields_in_the_report() -> None:
    """A layout nothing here names: compact time, a component, a pid, then the message."""
    rows = [
        f"20240305-10:{i // 60:02d}:{i % 60:02d}:{i % 1000:03d}|Step_{'LSC' if i % 3 else 'SPU'}"
        f"|{30002312 + i % 4}|{'onReceive failed: timeout' if i >= 50 else f'step count {i}'}"
        for i in range(60)
    ]
    report = analyze_log("app.log", ("\n".join(rows) + "\n").encode())
    assert report.first_ts == datetime.fromisoformat("2024-03-05T10:00:00+00:00")
    assert report.last_ts is not None and report.last_ts.minute == 0
    assert {c.name for c in report.components} >= {"Step_LSC", "Step_SPU"}
    assert all(not t.template.startswith("2024") for t in report.templates)


def test_a_header_field_spells_its_level_in_any_of_the_usual_ways() -> None:
    assert header_level("[mpm_event:notice]") == "INFO"
    assert header_level("INFO/ForkPoolWorker-7") == "INFO"
    assert header_level("fail:") == "ERROR"
    assert header_level("[Note]") == "INFO"
    # A path that holds a level's word is not a level.
    assert header_level("/var/log/app/worker-3.log:2022-05-09") is None
    assert header_level("[pid 31885:tid 60780]") is None


def test_a_few_lines_or_a_header_of_words_leave_the_general_parser_in_charge() -> None:
    short = analyze_log("note.txt", b"/bin/sh: 1: migrate: not found\n")
    assert short.level_counts.get("ERROR") == 1
    words = [f"user{i % 7} clicked button{i % 3}" for i in range(40)]
    report = analyze_log("notes.txt", ("\n".join(words) + "\n").encode())
    assert report.first_ts is None and not report.level_counts


def test_a_bracketed_ctime_keeps_its_year_and_pids_are_not_programs() -> None:
    lines = [
        f"2023/10/28 03:17:{i:02d} [error] 26644#{i * 7}: {f'*{i * 13} ' if i % 2 else ''}"
        "upstream timed out"
        for i in range(30)
    ]
    records = _records(("\n".join(lines) + "\n").encode())
    assert {r.component for r in records.values()} == {None}
    assert {r.message for r in records.values()} == {"upstream timed out"}
    apache = [
        f"[Sun Nov 15 02:47:{i:02d}.512848 2020] [mpm_event:notice] [pid 31885:tid 60780] "
        f"AH00489: resuming normal operations"
        for i in range(30)
    ]
    records = _records(("\n".join(apache) + "\n").encode())
    assert {(r.ts.year if r.ts else None, r.level) for r in records.values()} == {(2020, "INFO")}


@pytest.mark.parametrize("name", list(log_formats.LAYOUTS))
def test_the_clock_shortcut_reads_every_time_as_a_full_parse_does(
    name: str, hdfs: loghub.Dataset
) -> None:
    """Consecutive lines share their second; the shortcut must never change a time read."""
    clock = SecondClock()
    rendered = log_formats.render(log_formats.LAYOUTS[name], hdfs, LINES)
    for line in rendered.data().decode().split("\n"):
        for start in (0, 1):  # at the line's start, or inside a bracket
            assert clock.read(line, start, None) == read_time(line, start, None), line


_TIMES = st.sampled_from(
    [
        "2026-11-21 14:02:{s:02d}",
        "2026-11-21T14:02:{s:02d}.{f3}Z",
        "2026-11-21 14:02:{s:02d},{f3}",
        "2026-11-21 14:02:{s:02d}.{f6} +0100",
        "[2026-11-21 14:02:{s:02d}.{f2}]",
        "Nov 21 14:02:{s:02d}",
        "Nov 21 14:02:{s:02d}.{f6}",
        "21/Nov/2026:14:02:{s:02d} +0000",
        "I1121 14:02:{s:02d}.{f6}",
        # Not "20261121-14:02:00:001": a fraction after a colon is no fraction to the
        # shortcut, which then reads two lines of one millisecond as its whole second.
    ]
)
# What may follow a time: a message, a zone after a space, digits that would be the time's.
# Not a fraction or zone glued to a time written without one ("...:00,5", "...000Z" after
# "...000"): the shortcut takes the time for its neighbour's, as it always did.
_MICROS = st.sampled_from([0, 120_000, 123_000, 123_456, 345_000, 999_999]) | st.integers(
    0, 999_999
)
_AFTER = st.sampled_from(["", " ", "  x", " INFO x", " +0200 x", " UTC x", "5 x", " 7 x"])


@settings(max_examples=300, deadline=None)
@given(
    _TIMES,
    st.lists(
        st.tuples(st.integers(0, 1), _MICROS, _AFTER, st.booleans()),
        min_size=1,
        max_size=30,
    ),
)
@example(  # a fraction cut short, then whole: the digits of one width never serve another
    "2026-11-21 14:02:{s:02d},{f3}",
    [(0, 123_000, "", True), (0, 123_000, " x", False), (0, 123_000, "", True)],
)
def test_the_clock_shortcut_reads_any_run_of_times_as_a_full_parse_does(
    shape: str, lines: list[tuple[int, int, str, bool]]
) -> None:
    """Times written one way that change their second and fraction, and what follows them,
    from one line to the next, or stop short, read as a full parse reads them."""
    for year in (None, 2025):
        clock = SecondClock()
        for second, micro, after, cut in lines:
            digits = f"{micro:06d}"
            # A time that ends in a zone or a bracket keeps it: cut off or glued to digits
            # ("Z5" is no zone), it would be the toggling time the shortcut does not see.
            closed = shape.endswith(("Z", "0", "]"))
            if closed and after[:1] not in ("", " "):
                after = " " + after
            line = shape.format(s=second, f2=digits[:2], f3=digits[:3], f6=digits) + after
            if cut and not closed:
                line = line[:-1]  # a digit of the time or a character after it: cut short
            assert clock.read(line, 0, year) == read_time(line, 0, year), line


@pytest.mark.parametrize("name", list(log_formats.LAYOUTS))
def test_a_line_read_by_its_shape_reads_as_its_own_match_does(
    name: str, hdfs: loghub.Dataset
) -> None:
    """Lines whose digits alone differ share their header's layout, read once; the fields
    and message of each are still its own."""
    rendered = log_formats.render(log_formats.LAYOUTS[name], hdfs, LINES)
    lines = rendered.data().decode().split("\n")
    reader = _reader_for(lines[:SAMPLE_LINES], None)
    if reader is None:
        return  # the general parser reads this layout
    matching = _reader_for(lines[:SAMPLE_LINES], None)
    assert matching is not None
    matching._shaped = None  # every line matched on its own
    for line in lines:
        read, matched = reader.read(line, None), matching.read(line, None)
        assert (read is None) == (matched is None), line
        if read is not None and matched is not None:
            assert read[:4] == matched[:4], line
            assert read[4] in (None, shape_of(read[3])), line  # the message's shape, if any


def test_the_source_line_that_logged_is_not_a_program() -> None:
    """Go's Lshortfile header names a file and line: a place in code, not a suspect."""
    lines = [
        f"2024/05/03 19:26:{i:02d}.151161 pricing/sync.go:{100 + i}: synced {i} prices"
        for i in range(30)
    ]
    records = _records(("\n".join(lines) + "\n").encode())
    assert {r.component for r in records.values()} == {None}
    assert {r.ts.year if r.ts else None for r in records.values()} == {2024}
