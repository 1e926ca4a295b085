"""A log of any size decoded as it is read: the same lines, notes and refusals as
decode_text, with memory bounded by the chunk and the longest kept line."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.errors import EvidenceRejected
from engine.evidence.decode import decode_stream, decode_text

Outcome = tuple[object, ...]


def text_outcome(data: bytes) -> Outcome:
    try:
        decoded = decode_text(data)
    except EvidenceRejected as refused:
        return ("refused", refused.user_message)
    return (decoded.encoding, list(decoded.lines()), decoded.line_count, decoded.notes)


def stream_outcome(data: bytes, chunk_bytes: int) -> Outcome:
    try:
        stream = decode_stream(io.BytesIO(data), chunk_bytes=chunk_bytes)
        lines = list(stream.lines())
    except EvidenceRejected as refused:
        return ("refused", refused.user_message)
    assert stream.sha256 == hashlib.sha256(data).hexdigest()
    assert stream.size_bytes == len(data)
    return (stream.encoding, lines, stream.line_count, stream.notes)


TOKENS = [
    "a", "ERROR", "2026-11-21 14:02:03", " ", "\t", "\n", "\r", "\r\n", "\n\r", "é", "日本",
    "😀", "\x1b[31m", "\x1b[0m", "\x1b[", "\x1b", "\ufeff", "\ufffd", "\x0c",
]  # fmt: skip
ENCODINGS = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8 with BOM": lambda text: text.encode("utf-8-sig"),
    "utf-16 with BOM": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16-be with BOM": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    "utf-16 without BOM": lambda text: text.encode("utf-16-le"),
    "utf-32 with BOM": lambda text: codecs.BOM_UTF32_LE + text.encode("utf-32-le"),
}


@settings(max_examples=400, deadline=None)
@given(
    text=st.lists(st.sampled_from(TOKENS) | st.text(max_size=4), max_size=40).map("".join),
    encoding=st.sampled_from(sorted(ENCODINGS)),
    junk=st.binary(max_size=3),
    junk_at=st.floats(0, 1),
    chunk_bytes=st.integers(1, 64),
)
def test_stream_gives_what_decode_text_gives_for_any_chunking(
    text: str, encoding: str, junk: bytes, junk_at: float, chunk_bytes: int
) -> None:
    """Same lines, line count, notes, encoding, or the same refusal; bytes that are not valid
    in the encoding (junk) and characters cut between chunks included."""
    data = ENCODINGS[encoding](text)
    at = int(junk_at * len(data))
    data = data[:at] + junk + data[at:]
    assert stream_outcome(data, chunk_bytes) == text_outcome(data)


def log_lines(count: int) -> str:
    """A log with CRLF, CR, colours and multi-byte characters, so that chunk boundaries fall
    inside all of them somewhere."""
    ends = ["\n", "\r\n", "\r"]
    return "".join(
        f"2026-11-21 14:02:{i % 60:02d} \x1b[31mERROR\x1b[0m Zahlung für 用户 {i} 😀{ends[i % 3]}"
        for i in range(count)
    )


@pytest.mark.parametrize("chunk_bytes", [1, 7, 4096, 1 << 20])
@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf", b"\x00" * 100_000])
def test_files_larger_than_the_sample_stream_like_decode_text(
    prefix: bytes, chunk_bytes: int
) -> None:
    data = prefix + log_lines(3000).encode() + b"caf\xe9 \xff last line without newline"
    assert len(data) > 2 * 64 * 1024
    expected = text_outcome(data)
    assert stream_outcome(data, chunk_bytes) == expected
    lines = expected[1]
    assert isinstance(lines, list) and len(lines) == 3001
    assert lines[0] == "2026-11-21 14:02:00 ERROR Zahlung für 用户 0 😀"
    assert lines[-1] == "caf� � last line without newline"


def test_notes_for_skipped_nuls_and_bad_bytes() -> None:
    data = b"\x00" * 100_000 + b"2026-11-21 ERROR caf\xe9 closed\n2026-11-21 INFO ok \xff\xfe\n"
    stream = decode_stream(io.BytesIO(data), chunk_bytes=3)
    assert list(stream.lines()) == ["2026-11-21 ERROR caf� closed", "2026-11-21 INFO ok ��"]
    assert stream.notes == [
        "100,000 leading NUL bytes were skipped",
        "3 bytes were not valid UTF-8 and were shown as �",
    ]
    assert stream.line_count == 2


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        (b"", "empty (0 bytes)"),
        (b"\x00" * 200_000, "only NUL bytes"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00" * 50, "contains NUL bytes"),
        (bytes(range(1, 32)) * 40, "control characters"),
        (bytes(range(0x80, 0x100)) * 300, "not valid UTF-8"),
        (gzip.compress(b"2026-11-21 14:02:03 ERROR boom\n" * 50), "gzip archive"),
    ],
)
def test_binary_and_empty_files_are_refused_before_any_line(data: bytes, phrase: str) -> None:
    with pytest.raises(EvidenceRejected) as caught:
        decode_stream(io.BytesIO(data), chunk_bytes=5)
    assert phrase in caught.value.user_message
    assert ("refused", caught.value.user_message) == text_outcome(data)


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        (b" \n\t\r\n  \n", "only blank lines"),
        (b"\r\n" * 100_000 + b"   ", "only blank lines"),
        (b"\xef\xbb\xbf", "no text"),
        (codecs.BOM_UTF16_LE, "no text"),
    ],
)
def test_text_without_anything_visible_is_refused_at_the_end(data: bytes, phrase: str) -> None:
    stream = decode_stream(io.BytesIO(data), chunk_bytes=5)
    with pytest.raises(EvidenceRejected) as caught:
        list(stream.lines())
    assert phrase in caught.value.user_message
    assert ("refused", caught.value.user_message) == text_outcome(data)


def test_crlf_and_characters_split_between_chunks() -> None:
    data = "one\r\ntwo\rthrée\r\n日本\r\n".encode()
    for chunk_bytes in range(1, len(data) + 1):
        stream = decode_stream(io.BytesIO(data), chunk_bytes=chunk_bytes)
        assert list(stream.lines()) == ["one", "two", "thrée", "日本"], chunk_bytes
        assert stream.notes == []


def test_long_lines_are_cut_and_noted() -> None:
    data = b"short\n" + b"x" * 1000 + b"\nafter\r\n" + b"\x1b[31m" + b"y" * 500
    stream = decode_stream(io.BytesIO(data), chunk_bytes=3, max_line_chars=10)
    assert list(stream.lines()) == ["short", "x" * 10, "after", "yyyyy"]
    assert stream.line_count == 4
    assert stream.notes == ["2 lines were longer than 10 characters and were cut to that length"]


def test_one_long_line_in_one_big_chunk() -> None:
    data = "é" * 50 + "\nok\n"
    stream = decode_stream(io.BytesIO(data.encode()), max_line_chars=20)
    assert list(stream.lines()) == ["é" * 20, "ok"]
    assert stream.notes == ["1 line was longer than 20 characters and was cut to that length"]


class EndlessLine(io.RawIOBase):
    """`size` bytes of one line with no line end, made as they are read."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), self.left)
        buffer[:count] = b"x" * count
        self.left -= count
        return count


def test_memory_stays_bounded_for_a_huge_line() -> None:
    """40 MB without a newline: never held whole, only the kept part of the line."""
    tracemalloc.start()
    try:
        stream = decode_stream(EndlessLine(40 << 20), chunk_bytes=256 << 10)  # type: ignore[arg-type]
        lines = list(stream.lines())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == ["x" * (1 << 20)]
    assert stream.size_bytes == 40 << 20
    assert stream.notes == [
        "1 line was longer than 1,048,576 characters and was cut to that length"
    ]
    assert peak < 6 << 20, f"peak {peak:,} bytes"


def test_reading_is_lazy_and_totals_wait_for_the_end() -> None:
    data = log_lines(20_000).encode()
    source = io.BytesIO(data)
    stream = decode_stream(source, chunk_bytes=4096)
    assert stream.encoding == "utf-8"
    assert source.tell() <= 64 * 1024 + 4096  # the sample and one chunk, not the file
    with pytest.raises(RuntimeError, match="lines"):
        _ = stream.sha256
    lines = stream.lines()
    assert next(lines) == "2026-11-21 14:02:00 ERROR Zahlung für 用户 0 😀"
    with pytest.raises(RuntimeError, match="line_count"):
        _ = stream.line_count
    assert sum(1 for _ in lines) == 19_999
    assert stream.line_count == 20_000
    assert stream.sha256 == hashlib.sha256(data).hexdigest()
    assert stream.size_bytes == len(data)
    with pytest.raises(RuntimeError, match="only once"):
        stream.lines()
