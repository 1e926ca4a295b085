"""The log-format generator of tests/bench/log_formats.py: every layout keeps its truth."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.bench import log_formats, loghub

pytestmark = pytest.mark.skipif(
    not loghub.available(), reason=f"Loghub-2k data not present at {loghub.DATA_DIR}"
)

LINES = 60
_LOGFMT_MSG = re.compile(r'(?:^| )msg=("(?:[^"\\]|\\.)*"|\S*)')


@pytest.fixture(scope="module")
def datasets() -> list[loghub.Dataset]:
    return [loghub.load(name) for name in loghub.DATASETS]


def _strings(value: object) -> Iterator[str]:
    """Every string in a parsed JSON value, nested ones included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def holds(layout: log_formats.Layout, record: str, message: str) -> bool:
    """Whether the record carries the message as the layout's tool writes it."""
    if layout.encoding == log_formats.JSON:
        # Docker's json-file keeps the line's newline in "log".
        return any(text in (message, message + "\n") for text in _strings(json.loads(record)))
    if layout.encoding == log_formats.LOGFMT:
        found = _LOGFMT_MSG.search(record)
        value = found.group(1) if found else ""
        return (json.loads(value) if value.startswith('"') else value) == message
    return record.endswith(message)


def header(layout: log_formats.Layout, record: str, message: str) -> str:
    """The record without its message: the header, or the fields around a structured one."""
    if layout.encoding == log_formats.JSON:
        fields = {k: v for k, v in json.loads(record).items() if v not in (message, message + "\n")}
        return json.dumps(fields)
    if layout.encoding == log_formats.LOGFMT:
        return _LOGFMT_MSG.sub("", record)
    return record[: len(record) - len(message)]


def test_at_least_25_layouts() -> None:
    assert len(log_formats.LAYOUTS) >= 25


@pytest.mark.parametrize("name", list(log_formats.LAYOUTS))
def test_every_record_holds_its_message(name: str, datasets: list[loghub.Dataset]) -> None:
    layout = log_formats.LAYOUTS[name]
    for data in datasets:
        rendered = log_formats.render(layout, data, LINES)
        assert len(rendered.records) == LINES
        assert rendered.templates == data.templates[:LINES]
        assert rendered.event_ids == data.event_ids[:LINES]
        for record, message in zip(rendered.records, rendered.contents, strict=True):
            assert holds(layout, record, message), (data.name, record)


@pytest.mark.parametrize("name", list(log_formats.LAYOUTS))
def test_headers_vary(name: str, datasets: list[loghub.Dataset]) -> None:
    layout = log_formats.LAYOUTS[name]
    rendered = log_formats.render(layout, datasets[0], LINES)
    headers = [
        header(layout, record, message)
        for record, message in zip(rendered.records, rendered.contents, strict=True)
    ]
    # Some real headers carry only a level (uvicorn) or a service name (docker compose), so
    # only a few distinct ones are asked of every layout; timed ones differ far more often.
    assert len(set(headers)) >= 3, headers[:5]


def test_rendering_is_seeded(datasets: list[loghub.Dataset]) -> None:
    layout = log_formats.LAYOUTS["spring_boot"]
    first = log_formats.render(layout, datasets[0], LINES, seed=1)
    assert first == log_formats.render(layout, datasets[0], LINES, seed=1)
    assert first != log_formats.render(layout, datasets[0], LINES, seed=2)


def test_record_lines_count_two_line_records(datasets: list[loghub.Dataset]) -> None:
    rendered = log_formats.render(log_formats.LAYOUTS["dotnet_console"], datasets[0], 3)
    assert rendered.first_lines() == [1, 3, 5]
    assert rendered.data().count(b"\n") == 6
