"""Evidence from files on this machine, for `faultmaven analyze` and `faultmaven investigate`.

Read as uploads are (engine/cases/intake.py), with the same engine functions: an archive is
opened into its members, and a config that is a new version of one given before it is
compared with it. Nothing is stored: there is no case.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import EvidenceRejected, FaultMavenError
from engine.core.redact import Redactor
from engine.evidence.archives import ArchiveLimits, archive_kind, expand
from engine.evidence.configs.analyze import ConfigReport
from engine.evidence.configs.versions import previous_version, with_changes
from engine.evidence.isolated import MB, ReadLimits, read_isolated
from engine.evidence.reports import AnyReport

# Enough of a file to tell an archive: a tar header is 512 bytes.
ARCHIVE_SNIFF_BYTES = 512


@dataclass(frozen=True)
class LocalReport:
    """The report of one local file (or archive member), or why it could not be read."""

    shown: str  # the path as given, or "logs.zip/app/checkout.log" for a member
    report: AnyReport | None = None
    problem: str = ""  # why it could not be read, said to the user when there is no report


def analyse_local_files(
    paths: Sequence[Path],
    *,
    max_file_bytes: int,
    redactor: Redactor | None = None,
    limits: ReadLimits | None = None,
) -> Iterator[LocalReport]:
    """One LocalReport per file, archives member by member, in the order given. Each file is
    read as an upload is (engine/evidence/isolated.py): in a child process, within `limits`,
    so one hostile file costs its own line and the others are still read."""
    configs: list[tuple[ConfigReport, bytes]] = []  # earlier versions, for diffs
    for shown, name, data in _unpacked(paths, max_file_bytes):
        if isinstance(data, FaultMavenError):
            yield LocalReport(shown, problem=data.user_message)
            continue
        try:
            report = read_isolated(name, data, redactor=redactor, limits=limits)
            if isinstance(report, ConfigReport):
                content = data if isinstance(data, bytes) else data.read_bytes()
                report = _with_earlier_version(report, content, configs)
        except FaultMavenError as exc:
            yield LocalReport(shown, problem=exc.user_message)
            continue
        yield LocalReport(shown, report=report)


def _unpacked(
    paths: Sequence[Path], max_file_bytes: int
) -> Iterator[tuple[str, str, bytes | Path | FaultMavenError]]:
    """(shown path, evidence name, contents or the reason it cannot be read) per file, with
    archives opened into their members. A plain file is passed as its path: the reader
    streams it, so a huge log is read a chunk at a time."""
    for path in paths:
        problem = _unreadable(path, max_file_bytes)
        if problem is not None:
            yield str(path), path.name, EvidenceRejected(problem)
            continue
        with path.open("rb") as stream:
            if archive_kind(stream.read(ARCHIVE_SNIFF_BYTES)) is None:
                yield str(path), path.name, path
                continue
        try:
            limits = ArchiveLimits.for_uploads(max_file_bytes)
            members = expand(path.name, path.read_bytes(), limits).members
        except FaultMavenError as exc:
            yield str(path), path.name, exc
            continue
        for member in members:
            yield member.path, member.path, member.data


def _unreadable(path: Path, max_file_bytes: int) -> str | None:
    """Why `path` cannot be read as evidence, in words; None when it can."""
    if path.is_dir():
        return f"{path} is a folder: give the files in it, or a .zip or .tar.gz of it."
    if not path.exists():
        return f"No such file: {path}"
    if not path.is_file():
        return f"{path} is not a regular file (a pipe, a device or a socket), so it is not read."
    size = path.stat().st_size
    if size > max_file_bytes:
        return (
            f"{path} is {size / MB:,.0f} MB, more than FAULTMAVEN_MAX_FILE_MB "
            f"({max_file_bytes / MB:,.0f} MB); raise it to read bigger files."
        )
    return None


def _with_earlier_version(
    report: ConfigReport, data: bytes, configs: list[tuple[ConfigReport, bytes]]
) -> ConfigReport:
    """Diff a config against an earlier version given before it; remember it for later ones."""
    earlier = previous_version(report, configs)
    configs.append((report, data))
    if earlier is None:
        return report
    return with_changes(report, data, *earlier)
