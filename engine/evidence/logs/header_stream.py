"""Records of a streamed log, read through the header its first lines share.

The first SAMPLE_LINES lines are read twice: once by the general line parser, to find the
lines that start records and to learn the header layout from them, then for real, with
the learned header when it reads that sample at least as well as the general parser did
(learned_header.py). Either way every line is read once more only within the sample.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from engine.evidence.logs.learned_header import (
    MIN_AGREEING,
    MIN_MATCHED,
    HeaderReader,
    learn_reader,
)
from engine.evidence.logs.records import Record, iter_records
from engine.evidence.templates.headers import SAMPLE_LINES, learn_layout

MIN_SAMPLE = 20  # records in the sample: fewer say nothing of a file's layout


def iter_log_records(
    lines: Iterable[str],
    *,
    reference_year: int | None = None,
    years_assumed: set[int] | None = None,
) -> Iterator[Record]:
    """`iter_records`, with each line that has the file's learned header read by it."""
    stream = iter(lines)
    sample = list(itertools.islice(stream, SAMPLE_LINES))
    reader = _reader_for(sample, reference_year)
    return iter_records(
        itertools.chain(sample, stream),
        reference_year=reference_year,
        years_assumed=years_assumed,
        header=reader,
    )


def _reader_for(sample: list[str], year: int | None) -> HeaderReader | None:
    """A reader of the sample's header when it reads the sample as well as the general parser."""
    general = list(iter_records(sample, reference_year=year))
    starts = [(sample[r.line - 1], r) for r in general]
    if len(starts) < MIN_SAMPLE or any(line[:1] in " \t" for line, _ in starts[:5]):
        return None  # a few lines say nothing of a layout; indented files: the general parser

    layout = learn_layout([line for line, _ in starts])
    reader = learn_reader(layout, [line for line, _ in starts], year)
    if reader is None or (reader.time_at is None and reader.level_at is None):
        return None  # a header of words alone: nothing the general parser would not read
    matched = agreeing = 0
    for line, record in starts:
        read = reader.read(line, year)
        if read is None:
            continue
        matched += 1
        ts, level, component, _, _ = read
        agreeing += _agrees(ts[0] if ts else None, level, component, record)
    if matched < MIN_MATCHED * len(starts) or agreeing < MIN_AGREEING * matched:
        return None
    return reader


def _agrees(ts: object, level: str | None, component: str | None, general: Record) -> bool:
    """Whether the header read of a line loses nothing the general parser read from it."""
    if general.ts is not None and ts != general.ts:
        return False
    if general.level is not None and not general.level_inferred and level != general.level:
        return False
    known = general.component or general.host
    return known is None or known == component
