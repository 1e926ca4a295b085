"""Property-based fuzzing of the readers' entry points: any input gives a report or a clear
refusal (EvidenceRejected), never another exception.

Readers run in this process here (not isolated), so an exception surfaces as itself. The
budget is fixed and the search derandomised, so CI runs the same examples every time; an
input that once crashed a reader is kept as an @example.
"""

from __future__ import annotations

import contextlib
import json
import os

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.core.errors import EvidenceRejected
from engine.core.redact import Redactor
from engine.evidence.analyze import analyze, describe_report, summarize_report
from engine.evidence.archives import expand
from engine.evidence.logs.mining import mine_log

# FAULTMAVEN_FUZZ_EXAMPLES=5000 searches further, with a random seed (by hand, not in CI).
EXAMPLES = int(os.environ.get("FAULTMAVEN_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="FAULTMAVEN_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NAMES = [
    "app.log", "data.json", "values.yaml", "metrics.csv", "spans.tsv", ".env", "pyproject.toml",
    "app.ini", "app.properties", "notes.txt", "trace.json", "export.jsonl",
]  # fmt: skip

# Pieces that make readers branch: timestamps, levels, delimiters, quotes, brackets, keys.
PIECES = [
    "2026-11-21T14:00:00Z", "Nov 21 14:00:01", "1732197600", "ERROR", "WARN", "INFO", "level=error",
    ",", "\t", "|", ";", "=", ":", '"', "'", "[", "]", "{", "}", "<*>", "\\", "\r", "\n", " ",
    "password=", "token:", "at com.x.Y(Y.java:1)", "Traceback", "trace_id", "span_id", "duration",
    "apiVersion: v1", "kind: Pod", "---", "# comment", "0x1f", "1e308", "-1", "NaN", "é", "\x00",
    "\x1b[31m", "http://a:b@c/d", "key", "1.2.3.4:5432", "<evidence>", "Assistant:",
]  # fmt: skip


def _read(name: str, data: bytes) -> None:
    try:
        report = analyze(name, data)
    except EvidenceRejected as refused:
        assert refused.user_message.strip()
        return
    assert summarize_report(report)
    describe_report(report, 5)


@FUZZ
@given(name=st.sampled_from(NAMES), data=st.binary(max_size=4096))
@example(name="app.log", data=b"a,b\rc,d\nx,y\n")  # a lone CR in the sniffed header
@example(name="data.json", data=b"[" * 3000 + b"]" * 3000)
@example(name="pyproject.toml", data=b"v = " + b"9" * 5000)
@example(name="values.yaml", data=b"\x08")  # PyYAML refused it in the loader's constructor
def test_any_bytes(name: str, data: bytes) -> None:
    _read(name, data)


@FUZZ
@given(
    name=st.sampled_from(NAMES),
    lines=st.lists(st.lists(st.sampled_from(PIECES), max_size=30).map("".join), max_size=60),
)
def test_lines_of_log_and_config_pieces(name: str, lines: list[str]) -> None:
    data = "\n".join(lines).encode("utf-8", errors="surrogatepass")
    _read(name, data)
    if data.strip():
        with contextlib.suppress(EvidenceRejected):
            mine_log(data)


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=40,
)


@FUZZ
@given(
    name=st.sampled_from(["data.json", "trace.json", "metrics.json", "export.jsonl"]),
    doc=_DOCUMENTS,
)
def test_structured_documents(name: str, doc: object) -> None:
    text = (
        json.dumps(doc) if not name.endswith("l") else "\n".join(json.dumps(doc) for _ in range(3))
    )
    _read(name, text.encode())


@FUZZ
@given(
    data=st.binary(max_size=2048),
    magic=st.sampled_from([b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00"]),
)
def test_archive_look_alikes(data: bytes, magic: bytes) -> None:
    try:
        expand("upload.bin", magic + data)
    except EvidenceRejected as refused:
        assert refused.user_message.strip()


@FUZZ
@given(text=st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=40).map("".join))
@example(text="key2026-11-21T14:00:00Zpassword=2026-11-21T14:00:00Z")  # a placeholder was cut
def test_redaction_is_stable(text: str) -> None:
    """Masking twice changes nothing: a placeholder is never masked again."""
    redactor = Redactor()
    once = redactor.redact(text).text
    assert redactor.redact(once).text == once
