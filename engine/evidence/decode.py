"""Upload bytes -> text lines, or a clear refusal for files that are not text.

Never rejects a log for a few bad bytes: those are replaced and mentioned in a note, since
a user would rather see 99.9% of their log than an error.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from engine.errors import EvidenceRejected

_SAMPLE = 64 * 1024
# Control bytes that never occur in text; tab, newlines, form feed, backspace and ESC
# (ANSI colours) do, so they are not counted.
_CONTROL = bytes(b for b in range(0x20) if b not in b"\t\n\r\x0b\x0c\x08\x1b") + b"\x7f"
_MAX_CONTROL_SHARE = 0.10
_MAX_INVALID_SHARE = 0.30
_NEWLINES = re.compile(r"\r\n?")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ESCAPED = re.compile(r"[\udc80-\udcff]")  # bytes that surrogateescape could not decode

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_ARCHIVES = (
    (b"\x1f\x8b", "a gzip archive"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
)
_ACCEPTED = "please upload a text log (plain text, JSON lines, syslog or access logs)"


@dataclass(frozen=True)
class DecodedText:
    """The file as text with '\\n' line ends, and what the user should know about it."""

    text: str
    encoding: str
    notes: list[str] = field(default_factory=list)

    @property
    def line_count(self) -> int:
        return self.text.count("\n") + (0 if self.text.endswith("\n") else 1)

    def lines(self) -> Iterator[str]:
        """Lines without their '\\n'; a final newline does not make an extra empty line."""
        text = self.text[:-1] if self.text.endswith("\n") else self.text
        return iter(text.split("\n"))


def _reject_binary(data: bytes, why: str) -> EvidenceRejected:
    for magic, what in _ARCHIVES:
        if data.startswith(magic):
            return EvidenceRejected(
                f"The file looks like {what}, not text; please decompress it and upload the log."
            )
    return EvidenceRejected(f"The file looks binary ({why}), not text; {_ACCEPTED}.")


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 text without a BOM has a NUL in every other byte for ASCII characters,
    and decodes to printable text (binary data can have the NUL pattern too)."""
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if half and odd > 0.4 * half and even < 0.05 * half:
        encoding = "utf-16-le"
    elif half and even > 0.4 * half and odd < 0.05 * half:
        encoding = "utf-16-be"
    else:
        return None
    text = sample[: half * 2].decode(encoding, errors="replace")
    unprintable = sum(1 for c in text if c == "\ufffd" or (c < " " and c not in "\t\n\r\x0c\x1b"))
    return encoding if unprintable <= _MAX_CONTROL_SHARE * len(text) else None


def _decode_wide(data: bytes, encoding: str) -> DecodedText:
    text = data.decode(encoding, errors="replace").lstrip("\ufeff")
    notes = []
    bad = text.count("\ufffd")
    if bad:
        notes.append(f"{bad:,} characters were not valid {encoding.upper()} and were shown as �")
    return DecodedText(text, encoding, notes)


def _decode_utf8(data: bytes) -> DecodedText:
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    # surrogateescape turns each undecodable byte into one lone surrogate, so they can be
    # counted exactly and then shown as U+FFFD.
    text = data.decode("utf-8", errors="surrogateescape")
    bad = len(_ESCAPED.findall(text))
    sample_bad = len(_ESCAPED.findall(text[:_SAMPLE]))
    if sample_bad > _MAX_INVALID_SHARE * min(len(data), _SAMPLE):
        raise _reject_binary(data, "most bytes are not valid UTF-8")
    note = (
        "1 byte was not valid UTF-8 and was shown as �"
        if bad == 1
        else f"{bad:,} bytes were not valid UTF-8 and were shown as �"
    )
    return DecodedText(_ESCAPED.sub("\ufffd", text), "utf-8", [note])


def decode_text(data: bytes) -> DecodedText:
    """Decode an upload; raise EvidenceRejected when it is empty or not text."""
    if not data:
        raise EvidenceRejected("The file is empty (0 bytes), so there is nothing to analyze.")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            decoded = (
                _decode_utf8(data[len(bom) :])
                if encoding == "utf-8"
                else _decode_wide(data, encoding)
            )
            break
    else:
        notes = []
        if data.startswith(b"\x00") and not _utf16_without_bom(data[:_SAMPLE]):
            # copytruncate log rotation leaves the file starting with a run of NUL bytes.
            stripped = data.lstrip(b"\x00")
            if not stripped:
                raise _reject_binary(data, "it contains only NUL bytes")
            notes.append(f"{len(data) - len(stripped):,} leading NUL bytes were skipped")
            data = stripped
        sample = data[:_SAMPLE]
        wide = _utf16_without_bom(sample)
        if wide:
            decoded = _decode_wide(data, wide)
        elif b"\x00" in sample:
            raise _reject_binary(data, "it contains NUL bytes")
        elif len(sample) - len(sample.translate(None, _CONTROL)) > _MAX_CONTROL_SHARE * len(sample):
            raise _reject_binary(data, "it is full of control characters")
        else:
            decoded = _decode_utf8(data)
        decoded.notes[:0] = notes
    text = decoded.text
    if not text:
        raise EvidenceRejected("The file has no text in it, so there is nothing to analyze.")
    if text.isspace():
        raise EvidenceRejected(
            "The file contains only blank lines or spaces, so there is nothing to analyze."
        )
    if "\r" in text:
        text = _NEWLINES.sub("\n", text)
    if "\x1b" in text:
        # Colour codes split "ERROR" from its surroundings and clutter every message.
        text = _ANSI.sub("", text)
    return DecodedText(text, decoded.encoding, decoded.notes)
