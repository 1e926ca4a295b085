"""Open archives people upload (.gz, .zip, .tar, .tar.gz, .bz2, .xz) into their member files.

Everything is read in chunks against budgets, never trusting sizes an archive declares:
total expanded bytes, member count, nesting depth and the expansion ratio. An archive that
goes past one is refused with a clear message (a zip bomb is the extreme case), before it
can take the worker's memory.
"""

from __future__ import annotations

import bz2
import io
import lzma
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Protocol

from engine.core.errors import EvidenceRejected

CHUNK = 256 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    max_total_bytes: int = 200 * 1024 * 1024
    max_members: int = 200
    max_depth: int = 3
    # Text logs compress 5-20x; a ratio far past that is a bomb, not a log.
    max_ratio: float = 200.0

    @classmethod
    def for_uploads(cls, max_file_bytes: int) -> ArchiveLimits:
        """Expanded archives may hold more than one upload's worth, within reason."""
        return cls(max_total_bytes=4 * max_file_bytes)


@dataclass
class Member:
    path: str  # shown to users: "logs.zip/app/checkout.log"
    data: bytes


@dataclass
class _Budget:
    limits: ArchiveLimits
    archive: str
    compressed_bytes: int
    expanded: int = 0
    members: int = 0
    skipped: list[str] = field(default_factory=list)

    def take(self, n: int) -> None:
        self.expanded += n
        if self.expanded > self.limits.max_total_bytes:
            raise EvidenceRejected(
                f"{self.archive} expands to more than "
                f"{self.limits.max_total_bytes // (1024 * 1024)} MB; upload the relevant logs "
                "only (or a smaller archive)."
            )
        if self.expanded > self.limits.max_ratio * max(self.compressed_bytes, 4096):
            raise EvidenceRejected(
                f"{self.archive} expands more than {self.limits.max_ratio:.0f}× its size, which "
                "is what a zip bomb does; it was refused. Upload the log files themselves."
            )

    def count_member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise EvidenceRejected(
                f"{self.archive} holds more than {self.limits.max_members} files; "
                "upload the relevant ones only."
            )


class _Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


def _read_all(stream: _Readable, budget: _Budget) -> bytes:
    parts = []
    while chunk := stream.read(CHUNK):
        budget.take(len(chunk))
        parts.append(chunk)
    return b"".join(parts)


def archive_kind(data: bytes) -> str | None:
    """'gzip', 'zip', 'tar', 'bzip2', 'xz' or None, from the content (names can lie)."""
    if data.startswith(b"\x1f\x8b"):
        return "gzip"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "zip"
    if data.startswith(b"BZh"):
        return "bzip2"
    if data.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if len(data) > 262 and data[257:262] == b"ustar":
        return "tar"
    return None


def _stream_decompress(data: bytes, make: Callable[[], _Decompressor], budget: _Budget) -> bytes:
    """Decompress in bounded steps: max_length stops a bomb before it fills memory.

    A file may hold several compressed streams one after the other (`cat a.gz b.gz`, or
    pigz and logrotate appending): each is read in turn, as gunzip does.
    """
    decompressor = make()
    parts: list[bytes] = []
    pending = data
    while True:
        chunk = decompressor.decompress(pending, CHUNK)
        budget.take(len(chunk))
        parts.append(chunk)
        if decompressor.eof:
            rest = decompressor.unused_data.lstrip(b"\x00")  # padding between streams
            if not rest:
                return b"".join(parts)
            decompressor, pending = make(), rest
            continue
        pending = decompressor.unconsumed_tail if hasattr(decompressor, "unconsumed_tail") else b""
        if not chunk and not pending and decompressor.needs_input:
            raise EvidenceRejected(
                f"{budget.archive} is truncated (the compressed stream ends early); "
                "upload it again or upload the log itself."
            )


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    @property
    def needs_input(self) -> bool: ...

    def decompress(self, data: bytes, max_length: int = ..., /) -> bytes: ...


class _Gzip:
    """zlib's gzip decoder with the attributes the loop above reads."""

    def __init__(self) -> None:
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)

    @property
    def eof(self) -> bool:
        return self._z.eof

    @property
    def needs_input(self) -> bool:
        return not self._z.unconsumed_tail

    @property
    def unconsumed_tail(self) -> bytes:
        return self._z.unconsumed_tail

    @property
    def unused_data(self) -> bytes:
        return self._z.unused_data

    def decompress(self, data: bytes, max_length: int = 0, /) -> bytes:
        return self._z.decompress(data, max_length)


_DECOMPRESSORS: dict[str, Callable[[], _Decompressor]] = {
    "gzip": _Gzip,
    "bzip2": bz2.BZ2Decompressor,
    "xz": lzma.LZMADecompressor,
}
_SUFFIXES = {"gzip": (".gz", ".gzip"), "bzip2": (".bz2",), "xz": (".xz",)}


def _inner_name(name: str, kind: str) -> str:
    lowered = name.lower()
    if lowered.endswith((".tgz", ".tbz2", ".txz")):
        return name[:-4] + ".tar"
    for suffix in _SUFFIXES.get(kind, ()):
        if lowered.endswith(suffix):
            return name[: -len(suffix)]
    return name + ".out"


# What the standard library raises for a truncated or corrupt archive.
_CORRUPT = (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError)


def _expand(path: str, data: bytes, budget: _Budget, depth: int) -> Iterator[Member]:
    kind = archive_kind(data)
    if kind is None:
        yield Member(path, data)
        return
    if depth >= budget.limits.max_depth:
        raise EvidenceRejected(
            f"{budget.archive} nests archives more than {budget.limits.max_depth} deep; "
            "upload the inner files."
        )
    try:
        if kind in _DECOMPRESSORS:
            inner = _stream_decompress(data, _DECOMPRESSORS[kind], budget)
            yield from _expand(_inner_name(path, kind), inner, budget, depth + 1)
        elif kind == "zip":
            yield from _zip_members(path, data, budget, depth)
        else:
            yield from _tar_members(path, data, budget, depth)
    except _CORRUPT as exc:
        raise EvidenceRejected(
            f"{PurePosixPath(path).name} could not be opened as {kind} ({exc}); "
            "it may be truncated or corrupt."
        ) from exc


def _zip_members(path: str, data: bytes, budget: _Budget, depth: int) -> Iterator[Member]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            budget.count_member()
            if info.flag_bits & 0x1:
                budget.skipped.append(f"{info.filename} (encrypted)")
                continue
            with archive.open(info) as stream:
                content = _read_all(stream, budget)
            yield from _expand(f"{path}/{info.filename}", content, budget, depth + 1)


def _tar_members(path: str, data: bytes, budget: _Budget, depth: int) -> Iterator[Member]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        for info in archive:
            if not info.isfile():
                continue  # links, devices and folders are not evidence
            budget.count_member()
            stream = archive.extractfile(info)
            if stream is None:
                continue
            content = _read_all(stream, budget)
            yield from _expand(f"{path}/{info.name}", content, budget, depth + 1)


@dataclass
class Expanded:
    members: list[Member]
    notes: list[str]


def expand(name: str, data: bytes, limits: ArchiveLimits | None = None) -> Expanded:
    """The files inside an archive (nested archives opened too), within the limits."""
    budget = _Budget(limits or ArchiveLimits(), name, len(data))
    members = list(_expand(name, data, budget, depth=0))
    notes = [f"skipped {item}" for item in budget.skipped]
    if not members:  # nothing to analyse is an answer the user must see, not an empty report
        why = f": {'; '.join(notes)}" if notes else " (only folders, or nothing at all)"
        raise EvidenceRejected(f"{name} holds no file that can be read{why}.")
    return Expanded(members, notes)
