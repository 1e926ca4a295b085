"""Upload bytes -> text: what a user sees when a file is odd (empty, binary, bad bytes)."""

from __future__ import annotations

import codecs
import gzip

import pytest

from engine.core.errors import EvidenceRejected
from engine.evidence.decode import decode_text


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        (b"", "empty"),
        (b" \n\t\r\n  \n", "only blank lines"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00" * 50, "looks binary"),
        (bytes(range(1, 32)) * 40, "control characters"),
        (gzip.compress(b"2026-11-21 14:02:03 ERROR boom\n" * 50), "gzip archive"),
    ],
)
def test_unusable_files_are_rejected_with_a_clear_message(data: bytes, phrase: str) -> None:
    with pytest.raises(EvidenceRejected) as caught:
        decode_text(data)
    message = caught.value.user_message
    assert phrase in message
    assert message.endswith(".") and "\n" not in message


def test_binary_rejection_says_what_we_accept() -> None:
    with pytest.raises(EvidenceRejected, match="text log"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)


def test_invalid_utf8_is_noted_not_rejected() -> None:
    data = b"2026-11-21 14:02:03 ERROR caf\xe9 closed\n2026-11-21 14:02:04 INFO ok \xff\xfe\n"
    decoded = decode_text(data)
    assert decoded.notes == ["3 bytes were not valid UTF-8 and were shown as �"]
    assert next(decoded.lines()) == "2026-11-21 14:02:03 ERROR caf� closed"


def test_single_bad_byte_note_is_singular() -> None:
    assert decode_text(b"abc\x80def\n").notes == ["1 byte was not valid UTF-8 and was shown as �"]


def test_crlf_cr_and_bom_are_normalised() -> None:
    decoded = decode_text(b"\xef\xbb\xbfone\r\ntwo\rthree\r\n")
    assert list(decoded.lines()) == ["one", "two", "three"]
    assert decoded.line_count == 3
    assert decoded.notes == []


def test_utf16_with_and_without_bom() -> None:
    text = "2026-11-21 14:02:03 ERROR Zahlung fehlgeschlagen: ö\n"
    assert decode_text(text.encode("utf-16")).text == text
    assert decode_text(text.encode("utf-16-le")).text == text


def test_leading_nul_bytes_from_log_rotation_are_skipped() -> None:
    decoded = decode_text(b"\x00" * 4096 + b"2026-11-21 14:02:03 INFO back after rotation\n")
    assert decoded.text.startswith("2026-11-21")
    assert decoded.notes == ["4,096 leading NUL bytes were skipped"]


def test_ansi_colour_codes_are_removed() -> None:
    decoded = decode_text(b"2026-11-21 14:02:03 \x1b[31mERROR\x1b[0m boom\n")
    assert decoded.text == "2026-11-21 14:02:03 ERROR boom\n"


def test_last_line_without_newline_counts() -> None:
    decoded = decode_text(b"a\nb")
    assert decoded.line_count == 2
    assert list(decoded.lines()) == ["a", "b"]


def test_notes_about_one_thing_are_singular() -> None:
    rotated = b"\x00" + b"2026-11-21 14:02:03 INFO back after rotation\n"
    assert decode_text(rotated).notes == ["1 leading NUL byte was skipped"]
    utf16 = codecs.BOM_UTF16_LE + "ok\n".encode("utf-16-le") + b"!"  # a cut-off character
    assert decode_text(utf16).notes == ["1 character was not valid UTF-16-LE and was shown as �"]


def test_bad_bytes_are_judged_on_the_first_64_kb() -> None:
    """Mostly-invalid bytes at the start refuse the file; the same bytes later are noted."""
    junk = bytes(range(0x80, 0x100)) * 300
    with pytest.raises(EvidenceRejected, match="not valid UTF-8"):
        decode_text(junk + b"ok\n" * 40_000)
    decoded = decode_text(b"ok\n" * 40_000 + junk)
    assert decoded.notes == [f"{len(junk):,} bytes were not valid UTF-8 and were shown as �"]
