"""Upload bytes -> text lines, or a clear refusal for files that are not text.

Never rejects a log for a few bad bytes: those are replaced and mentioned in a note, since
a user would rather see 99.9% of their log than an error.

Two ways in, one set of rules: `decode_text` for an upload held in memory, `decode_stream`
for a file of any size read chunk by chunk. Both decide the encoding (or refuse the file)
from its first 64 KB in `_detect`, decode with the same `_Decoder` and refuse text-less files
with the same `_TextSeen`.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from engine.core.errors import EvidenceRejected

_SAMPLE = 64 * 1024
# Control bytes that never occur in text; tab, newlines, form feed, backspace and ESC
# (ANSI colours) do, so they are not counted.
_CONTROL = bytes(b for b in range(0x20) if b not in b"\t\n\r\x0b\x0c\x08\x1b") + b"\x7f"
_MAX_CONTROL_SHARE = 0.10
_MAX_INVALID_SHARE = 0.30
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ESCAPED = re.compile(r"[\udc80-\udcff]")  # bytes that surrogateescape could not decode

# decode_stream keeps at most this many characters of one line (1 MiB of them); the rest of
# such a line is read and dropped, so one endless "line" cannot fill the memory.
MAX_LINE_CHARS = 1 << 20
DEFAULT_CHUNK_BYTES = 1 << 20

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


def _sentence(count: int, noun: str, predicate: str) -> str:
    """A note about `count` things: `predicate` says {were} where the verb agrees with it."""
    one = count == 1
    return f"{count:,} {noun}{'' if one else 's'} " + predicate.format(
        were="was" if one else "were"
    )


def _unify_newlines(text: str) -> str:
    """CRLF and CR -> LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _strip_colours(text: str) -> str:
    """Without ANSI colour codes, which split "ERROR" from its surroundings and clutter
    every message. No code spans a line end, so lines can be stripped alone."""
    return _ANSI.sub("", text) if "\x1b" in text else text


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


@dataclass(frozen=True)
class _Detected:
    """How to decode a file: its encoding, the bytes to decode first, and notes so far."""

    encoding: str
    # The file less any skipped start (UTF-8 BOM, leading NULs): all of it for decode_text,
    # the first sample and a little more for decode_stream, which reads the rest itself.
    body: bytes
    notes: list[str]


def _skip_nuls(head: bytes, more: Callable[[], bytes]) -> tuple[bytes, int]:
    """The file after its leading run of NUL bytes, however long, and that run's length."""
    skipped, data = 0, head
    while True:
        rest = data.lstrip(b"\x00")
        skipped += len(data) - len(rest)
        if rest:
            return rest, skipped
        data = more()
        if not data:
            raise _reject_binary(head, "it contains only NUL bytes")


def _top_up(body: bytes, more: Callable[[], bytes]) -> bytes:
    """`body` with more bytes read until it is longer than one sample or the file ends,
    so a body no longer than a sample means the whole rest of the file."""
    parts, size = [body], len(body)
    while size <= _SAMPLE and (data := more()):
        parts.append(data)
        size += len(data)
    return b"".join(parts)


def _check_utf8(body: bytes) -> None:
    """Refuse a file whose first sample is mostly bytes that are not UTF-8."""
    sample = body[:_SAMPLE]
    # A character cut in two by the sample's end is only invalid at the end of the file.
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    bad = len(_ESCAPED.findall(decoder.decode(sample, final=len(body) <= _SAMPLE)))
    if bad > _MAX_INVALID_SHARE * len(sample):
        raise _reject_binary(body, "most bytes are not valid UTF-8")


def _detect(head: bytes, more: Callable[[], bytes]) -> _Detected:
    """Pick the encoding from the start of a file, or refuse the file.

    `head` is the whole file (decode_text) or its first sample (decode_stream); `more()`
    returns the next bytes, b"" at the end of the file.
    """
    if not head:
        raise EvidenceRejected("The file is empty (0 bytes), so there is nothing to analyze.")
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            if encoding != "utf-8":  # the wide decoders drop the BOM themselves
                return _Detected(encoding, head, [])
            body = _top_up(head[len(bom) :], more)
            _check_utf8(body)
            return _Detected(encoding, body, [])
    notes = []
    body = head
    if head.startswith(b"\x00") and not _utf16_without_bom(head[:_SAMPLE]):
        # copytruncate log rotation leaves the file starting with a run of NUL bytes.
        body, skipped = _skip_nuls(head, more)
        notes.append(_sentence(skipped, "leading NUL byte", "{were} skipped"))
    body = _top_up(body, more)
    sample = body[:_SAMPLE]
    wide = _utf16_without_bom(sample)
    if wide:
        return _Detected(wide, body, notes)
    if b"\x00" in sample:
        raise _reject_binary(body, "it contains NUL bytes")
    if len(sample) - len(sample.translate(None, _CONTROL)) > _MAX_CONTROL_SHARE * len(sample):
        raise _reject_binary(body, "it is full of control characters")
    _check_utf8(body)
    return _Detected("utf-8", body, notes)


class _Decoder:
    """Bytes -> text in the detected encoding, piece by piece (a character may be split
    between pieces); bad bytes become U+FFFD and are counted for a note."""

    def __init__(self, encoding: str) -> None:
        self._wide = encoding != "utf-8"
        self._encoding = encoding
        errors = "replace" if self._wide else "strict"
        self._decoder = codecs.getincrementaldecoder(encoding)(errors)
        self._at_start = self._wide  # UTF-16/32 text starts with BOM characters to drop
        self._bad = 0

    def decode(self, data: bytes, *, final: bool) -> str:
        if not self._wide:
            return self._decode_utf8(data, final)
        text = self._decoder.decode(data, final)
        if self._at_start and text:
            text = text.lstrip("\ufeff")
            self._at_start = not text
        self._bad += text.count("\ufffd")
        return text

    def _decode_utf8(self, data: bytes, final: bool) -> str:
        state = self._decoder.getstate()
        try:
            return self._decoder.decode(data, final)  # fast, for the usual valid text
        except UnicodeDecodeError:
            self._decoder.setstate(state)
        # surrogateescape turns each undecodable byte into one lone surrogate, so they can
        # be counted exactly and then shown as U+FFFD.
        self._decoder.errors = "surrogateescape"
        try:
            text = self._decoder.decode(data, final)
        finally:
            self._decoder.errors = "strict"
        text, bad = _ESCAPED.subn("\ufffd", text)
        self._bad += bad
        return text

    @property
    def notes(self) -> list[str]:
        if not self._bad:
            return []
        if self._wide:
            what = f"{{were}} not valid {self._encoding.upper()} and {{were}} shown as �"
            return [_sentence(self._bad, "character", what)]
        return [_sentence(self._bad, "byte", "{were} not valid UTF-8 and {were} shown as �")]


class _TextSeen:
    """Refuses a file whose decoded text is empty or only whitespace."""

    def __init__(self) -> None:
        self._any = False
        self._visible = False

    def add(self, text: str) -> None:
        if text and not self._visible:
            self._any = True
            self._visible = not text.isspace()

    def check(self) -> None:
        if not self._any:
            raise EvidenceRejected("The file has no text in it, so there is nothing to analyze.")
        if not self._visible:
            raise EvidenceRejected(
                "The file contains only blank lines or spaces, so there is nothing to analyze."
            )


def decode_text(data: bytes) -> DecodedText:
    """Decode an upload; raise EvidenceRejected when it is empty or not text."""
    detected = _detect(data, lambda: b"")
    decoder = _Decoder(detected.encoding)
    text = decoder.decode(detected.body, final=True)
    seen = _TextSeen()
    seen.add(text)
    seen.check()
    text = _strip_colours(_unify_newlines(text))
    return DecodedText(text, detected.encoding, detected.notes + decoder.notes)


class _LineSplitter:
    """Text pieces -> lines, as DecodedText.lines() would give them for the whole text.

    CR, LF and CRLF end a line, also a CRLF split between two pieces. A line is kept up to
    `max_chars` characters (counted before colour codes are removed); the rest is dropped.
    """

    def __init__(self, max_chars: int) -> None:
        self._max = max_chars
        self._parts: list[str] = []  # the line read so far, never more than _max characters
        self._size = 0
        self._cut = False  # the line read so far was longer than _max
        self._cr = False  # the last piece ended with CR: its line is over, maybe LF follows
        self.count = 0
        self.cut_count = 0

    def feed(self, text: str) -> list[str]:
        lines: list[str] = []
        if not text:
            return lines
        if self._cr:
            self._cr = False
            lines.append(self._end_line(""))
            if text.startswith("\n"):
                text = text[1:]
        if text.endswith("\r"):
            self._cr = True
            text = text[:-1]
        first, ended, rest = _unify_newlines(text).partition("\n")
        if not ended:
            self._add(first)
            return lines
        lines.append(self._end_line(first))  # it may continue the line of the last piece
        if "\n" in rest:
            whole, _, rest = rest.rpartition("\n")  # lines that start and end in this piece
            parts = whole.split("\n")
            if max(map(len, parts)) > self._max:
                lines.extend(self._end_line(part) for part in parts)
            else:  # the usual case, without a Python step per line
                self.count += len(parts)
                lines.extend(_strip_colours(whole).split("\n") if "\x1b" in whole else parts)
        self._add(rest)
        return lines

    def finish(self) -> list[str]:
        """The last line: one that a final CR closed, or text after the last line end.

        Text after the last line end that is only colour codes is no line: decode_text
        removes them before it splits lines, and a final newline makes no extra line.
        """
        if not (self._cr or self._parts):
            return []
        only_colours = not (self._cr or self._cut) and not _strip_colours("".join(self._parts))
        if only_colours and self.count:
            return []
        return [self._end_line("")]

    def _add(self, part: str) -> None:
        room = self._max - self._size
        if len(part) > room:
            self._cut = True
            part = part[:room]
        if part:
            self._parts.append(part)
            self._size += len(part)

    def _end_line(self, part: str) -> str:
        if self._parts or len(part) > self._max:
            self._add(part)
            line = "".join(self._parts)
            self.cut_count += self._cut
            self._parts, self._size, self._cut = [], 0, False
        else:
            line = part
        self.count += 1
        return _strip_colours(line)


class _HashingReader:
    """Reads a binary stream, hashing and counting every byte."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int) -> bytes:
        """Up to `size` bytes; b"" only at the end of the stream."""
        data = self._stream.read(size) or b""
        self.sha256.update(data)
        self.size += len(data)
        return data

    def read_full(self, size: int) -> bytes:
        """`size` bytes, fewer only at the end of the stream (reads can come back short)."""
        parts, got = [], 0
        while got < size and (data := self.read(size - got)):
            parts.append(data)
            got += len(data)
        return b"".join(parts)


class TextStream:
    """A file decoded as it is read: `lines()` once, then the totals.

    Holds at most about one chunk, one 64 KB sample and one line of `max_line_chars` in
    memory. `encoding` is known at once; `notes`, `line_count`, `size_bytes` and `sha256`
    once `lines()` has been read to the end (reading them earlier raises RuntimeError).
    """

    def __init__(
        self, reader: _HashingReader, detected: _Detected, chunk_bytes: int, max_line_chars: int
    ) -> None:
        self.encoding = detected.encoding
        self._reader = reader
        self._body = detected.body
        self._chunk = chunk_bytes
        self._max_line = max_line_chars
        self._notes = list(detected.notes)
        self._started = False
        self._line_count: int | None = None
        self._splitter = _LineSplitter(max_line_chars)

    def lines(self) -> Iterator[str]:
        """Lines without their line end, as DecodedText.lines() gives them, colour codes
        removed and each cut to `max_line_chars` characters.

        Files that are empty, binary or not text are refused by decode_stream before any
        line. Text with nothing but whitespace (or nothing at all, e.g. a lone BOM) can only
        be told at its end: then this iterator raises EvidenceRejected after the blank lines.
        """
        if self._started:
            raise RuntimeError("TextStream.lines() can be read only once")
        self._started = True
        return self._lines()

    def _pieces(self) -> Iterator[bytes]:
        body, self._body = self._body, b""
        for start in range(0, len(body), self._chunk):
            yield body[start : start + self._chunk]
        del body
        while data := self._reader.read(self._chunk):
            yield data

    def _lines(self) -> Iterator[str]:
        decoder = _Decoder(self.encoding)
        seen = _TextSeen()
        splitter = self._splitter
        for data in self._pieces():
            text = decoder.decode(data, final=False)
            seen.add(text)
            yield from splitter.feed(text)
        text = decoder.decode(b"", final=True)
        seen.add(text)
        yield from splitter.feed(text)
        seen.check()
        yield from splitter.finish()
        self._notes += decoder.notes
        if splitter.cut_count:
            what = f"{{were}} longer than {self._max_line:,} characters and {{were}} cut to that"
            self._notes.append(_sentence(splitter.cut_count, "line", what + " length"))
        self._line_count = splitter.count

    def stop(self) -> None:
        """Stop reading (a deadline passed): the totals then describe what was read so far."""
        if self._line_count is None:
            self._line_count = self._splitter.count

    def _finished(self, what: str) -> None:
        if self._line_count is None:
            raise RuntimeError(f"TextStream.{what} is known once lines() has been read to the end")

    @property
    def notes(self) -> list[str]:
        self._finished("notes")
        return self._notes

    @property
    def line_count(self) -> int:
        self._finished("line_count")
        assert self._line_count is not None
        return self._line_count

    @property
    def size_bytes(self) -> int:
        self._finished("size_bytes")
        return self._reader.size

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of every byte of the file, BOM and leading NULs included."""
        self._finished("sha256")
        return self._reader.sha256.hexdigest()


def decode_stream(
    stream: BinaryIO,
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    max_line_chars: int = MAX_LINE_CHARS,
) -> TextStream:
    """Decode a file of any size as it is read, by the rules of decode_text.

    Reads the first 64 KB (and past a run of leading NULs) at once and raises
    EvidenceRejected, with decode_text's messages, when the file is empty or not text;
    the rest is read `chunk_bytes` at a time while TextStream.lines() is iterated.
    """
    if chunk_bytes < 1 or max_line_chars < 1:
        raise ValueError("chunk_bytes and max_line_chars must be at least 1")
    reader = _HashingReader(stream)
    detected = _detect(reader.read_full(_SAMPLE), lambda: reader.read(chunk_bytes))
    return TextStream(reader, detected, chunk_bytes, max_line_chars)
