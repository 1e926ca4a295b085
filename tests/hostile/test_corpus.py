"""Every hostile input gets a report or a clear refusal: no traceback, no hang, no secret out.

Files go through what an upload goes through: archives are opened member by member, and each
file is read in a child process with a deadline enforced from outside
(engine/evidence/isolated.py). The deadline here is generous, so a slow machine never fails a
test: it is there so that a regression hangs nothing. Time and memory per input are measured
in tests/bench/bench_hostile.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine.core.errors import EvidenceRejected
from engine.evidence.archives import archive_kind, expand
from engine.evidence.isolated import ReadLimits, read_isolated
from engine.evidence.reports import AnyReport
from tests.hostile.corpus import Hostile, corpus
from tests.hostile.secret_shapes import SHAPES

LIMITS = ReadLimits(base_s=120.0, s_per_mb=2.0, grace_s=30.0)
# What a user must never see in place of a sentence.
PYTHON_ERRORS = re.compile(r"Traceback|Error:|Exception|\bline \d+, in\b|object at 0x")
ESCAPE_TARGETS = [
    Path("/tmp/faultmaven-escape.log"),
    Path("/etc/faultmaven-absolute.log"),
    Path("/tmp/faultmaven-pwned"),
]


def read_upload(item: Hostile) -> list[AnyReport | str]:
    """What intake makes of the upload: a report or a refusal message per file it holds."""
    data = item.data
    if archive_kind(data) is None:
        files = [(item.name, data)]
    else:
        try:
            files = [(m.path, m.data) for m in expand(item.name, data).members]
        except EvidenceRejected as refused:
            return [refused.user_message]
    outcomes: list[AnyReport | str] = []
    for name, content in files:
        try:
            outcomes.append(read_isolated(name, content, limits=LIMITS))
        except EvidenceRejected as refused:
            outcomes.append(refused.user_message)
    return outcomes


@pytest.mark.parametrize("item", corpus(), ids=lambda item: item.label)
def test_a_report_or_a_clear_refusal(item: Hostile) -> None:
    outcomes = read_upload(item)
    assert outcomes
    for outcome in outcomes:
        if isinstance(outcome, str):
            assert outcome.strip() and not PYTHON_ERRORS.search(outcome), outcome
            assert "took longer than" not in outcome, outcome  # a hang, stopped from outside
    reports = [o for o in outcomes if not isinstance(o, str)]
    if item.outcome == "report":
        assert reports, outcomes
        if item.kind is not None:
            assert {r.kind for r in reports} == {item.kind}, outcomes
    if item.outcome == "refused":
        assert not reports, outcomes
    for escaped in ESCAPE_TARGETS:
        assert not escaped.exists(), f"{escaped} was written"


def test_no_secret_reaches_a_report() -> None:
    [item] = [h for h in corpus() if h.category == "secrets"]
    [report] = read_upload(item)
    assert not isinstance(report, str)
    stored = json.dumps(report.model_dump(mode="json"))
    leaked = [shape.secret for shape in SHAPES if shape.secret in stored]
    assert leaked == []


def test_every_stream_of_a_joined_gzip_is_read() -> None:
    [item] = [h for h in corpus() if h.label == "multi-member gzip"]
    [report] = read_upload(item)
    assert not isinstance(report, str) and report.kind == "log"
    assert report.line_count == 40  # 20 lines in each of the two streams


def test_a_read_past_its_deadline_is_stopped_from_outside() -> None:
    """A reader that cannot stop itself (a config is parsed whole) is killed at the hard
    deadline and the file gets one line saying so."""
    big_yaml = "".join(f"key{i}: [{', '.join(map(str, range(40)))}]\n" for i in range(60_000))
    limits = ReadLimits(base_s=0.0, s_per_mb=0.0, grace_s=0.2)
    with pytest.raises(EvidenceRejected, match="took longer than 0 s to read"):
        read_isolated("values.yaml", big_yaml.encode(), limits=limits)


def test_a_log_past_its_deadline_reports_the_part_it_read() -> None:
    lines = "".join(
        f"2026-11-21T14:{(i // 60) % 60:02d}:{i % 60:02d}Z ERROR api: request {i} failed\n"
        for i in range(200_000)
    )
    limits = ReadLimits(base_s=0.05, s_per_mb=0.0, grace_s=60.0)
    report = read_isolated("big.log", lines.encode(), limits=limits)
    assert report.kind == "log"
    assert any(note.startswith("analysed the first ") for note in report.notes), report.notes


def test_memory_is_capped_per_file() -> None:
    """A config is parsed whole: 22 MB of JSON needs several hundred MB as Python objects."""
    limits = ReadLimits(memory_mb=250)
    small = json.dumps({"replicas": 3, "image": "shop/cart:1.4"}).encode()
    assert read_isolated("values.json", small, limits=limits).kind == "config"
    big = {f"k{i}": {"a": [1, 2, 3, 4, 5, 6, 7, 8], "b": "x" * 20} for i in range(300_000)}
    with pytest.raises(EvidenceRejected, match="needs more than 250 MB of memory"):
        read_isolated("values.json", json.dumps(big).encode(), limits=limits)


def test_a_reader_that_breaks_costs_one_line_with_an_id(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception no reader meant (a bug) becomes a line with an error id; the log holds the
    id and the error in one line, the traceback only at DEBUG."""
    with pytest.raises(EvidenceRejected) as refused:
        read_isolated("app.log", b"2026-11-21 14:00:00 INFO ok\n", redactor=_Broken())  # type: ignore[arg-type]
    message = refused.value.user_message
    assert re.fullmatch(
        r"The file could not be read: the reader failed \(error id [0-9a-f]{8}\)\.", message
    )
    error_id = message.rsplit(" ", 1)[1].strip(").")
    logged = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any(error_id in line and "Broken redactor" in line for line in logged), logged
    assert not any("Traceback" in line for line in logged)


class _Broken:
    """A redactor that fails: the log reader calls it on the first record."""

    def redact(self, text: str) -> object:
        raise RuntimeError("Broken redactor")
