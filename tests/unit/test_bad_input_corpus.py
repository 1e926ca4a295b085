"""The bad-input corpus: every file gets a report or a clear refusal; nothing crashes.

Run through the same entry points as uploads (archive expansion, then the dispatcher).
"""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest

from engine.core.errors import EvidenceRejected
from engine.evidence.analyze import analyze
from engine.evidence.archives import archive_kind, expand


def upload(name: str, data: bytes) -> list[object]:
    """What intake does with a file: open archives, then analyse each member."""
    if archive_kind(data) is None:
        return [analyze(name, data)]
    return [analyze(m.path, m.data) for m in expand(name, data).members]


def wide_csv(columns: int) -> bytes:
    header = ",".join(["time", *(f"c{i}" for i in range(columns))])
    rows = [
        ",".join([f"2026-11-21T14:0{r}:00Z", *(str(i * r) for i in range(columns))])
        for r in range(5)
    ]
    return "\n".join([header, *rows]).encode()


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.log", bytes(300 * 1024 * 1024))
    return buffer.getvalue()


_VARIED_LOG = b"".join(
    b"2026-11-21 14:00:00 ERROR request %d failed\n" % (i * 7919) for i in range(20_000)
)
TRUNCATED_GZIP = gzip.compress(_VARIED_LOG)[: len(gzip.compress(_VARIED_LOG)) // 2]

LATIN1_AND_SJIS = (
    "2026-11-21 14:00:00 ERROR café\n".encode()
    + "2026-11-21 14:00:01 ERROR crème brûlée\n".encode("latin-1")
    + "2026-11-21 14:00:02 INFO 日本語\n".encode("shift_jis")
)


@pytest.mark.parametrize(
    ("name", "data", "expect"),
    [
        ("binary.log", bytes(range(256)) * 400, "binary"),
        ("truncated.log.gz", TRUNCATED_GZIP, "truncated"),
        ("bomb.zip", zip_bomb(), "zip bomb"),
        ("empty.log", b"", "empty"),
    ],
    ids=["binary", "truncated-gzip", "zip-bomb", "empty"],
)
def test_refused_with_a_clear_reason(name: str, data: bytes, expect: str) -> None:
    with pytest.raises(EvidenceRejected) as refused:
        upload(name, data)
    assert expect in refused.value.user_message.lower()


def test_a_50_mb_single_line_is_one_record() -> None:
    [report] = upload("one-line.log", b"2026-11-21 14:00:00 ERROR " + b"x" * (50 * 1024 * 1024))
    assert report.kind == "log"  # type: ignore[attr-defined]
    assert report.record_count == 1  # type: ignore[attr-defined]
    assert len(report.error_groups[0].example) <= 500  # type: ignore[attr-defined]


def test_mixed_encodings_are_read_and_noted() -> None:
    [report] = upload("legacy.log", LATIN1_AND_SJIS)
    assert report.level_counts == {"ERROR": 2, "INFO": 1}  # type: ignore[attr-defined]
    assert any("not valid UTF-8" in note for note in report.notes)  # type: ignore[attr-defined]


def test_crlf_line_ends() -> None:
    [report] = upload("win.log", b"2026-11-21 14:00:00 ERROR a\r\n2026-11-21 14:00:01 INFO b\r\n")
    assert report.line_count == 2 and report.level_counts == {"ERROR": 1, "INFO": 1}  # type: ignore[attr-defined]


def test_a_csv_with_10k_columns_is_bounded_metrics() -> None:
    [report] = upload("wide.csv", wide_csv(10_000))
    assert report.kind == "metrics"  # type: ignore[attr-defined]
    assert len(report.series) <= 200  # type: ignore[attr-defined]
    assert any("10,000 series" in note for note in report.notes)  # type: ignore[attr-defined]
