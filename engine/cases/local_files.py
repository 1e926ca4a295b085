"""Evidence from files on this machine, for `faultmaven analyze` and `faultmaven investigate`.

Read as uploads are (engine/cases/intake.py), with the same engine functions: an archive is
opened into its members, and a config that is a new version of one given before it is
compared with it. Nothing is stored: there is no case.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from engine.core.errors import FaultMavenError
from engine.evidence.analyze import analyze
from engine.evidence.archives import archive_kind, expand
from engine.evidence.configs.analyze import ConfigReport
from engine.evidence.configs.versions import previous_version, with_changes
from engine.evidence.reports import AnyReport

# Enough of a file to tell an archive: a tar header is 512 bytes.
ARCHIVE_SNIFF_BYTES = 512


@dataclass(frozen=True)
class LocalReport:
    """The report of one local file (or archive member), or why it could not be read."""

    shown: str  # the path as given, or "logs.zip/app/checkout.log" for a member
    report: AnyReport | None = None
    problem: str = ""  # why it could not be read, said to the user when there is no report


def analyse_local_files(paths: Sequence[Path]) -> Iterator[LocalReport]:
    """One LocalReport per file, archives member by member, in the order given."""
    configs: list[tuple[ConfigReport, bytes]] = []  # earlier versions, for diffs
    for shown, name, data in _unpacked(paths):
        if isinstance(data, FaultMavenError):
            yield LocalReport(shown, problem=data.user_message)
            continue
        try:
            report = analyze(name, data)
            if isinstance(report, ConfigReport):
                report = _with_earlier_version(report, data, configs)
        except FaultMavenError as exc:
            yield LocalReport(shown, problem=exc.user_message)
            continue
        yield LocalReport(shown, report=report)


def _unpacked(
    paths: Sequence[Path],
) -> Iterator[tuple[str, str, bytes | BinaryIO | FaultMavenError]]:
    """(shown path, evidence name, contents or the reason it cannot be read) per file, with
    archives opened into their members. A plain file comes as an open stream, so a huge log
    is read a chunk at a time."""
    for path in paths:
        if not path.is_file():
            yield str(path), path.name, FaultMavenError(f"No such file: {path}")
            continue
        with path.open("rb") as stream:
            if archive_kind(stream.read(ARCHIVE_SNIFF_BYTES)) is None:
                stream.seek(0)
                yield str(path), path.name, stream
                continue
        try:
            members = expand(path.name, path.read_bytes()).members
        except FaultMavenError as exc:
            yield str(path), path.name, exc
            continue
        for member in members:
            yield member.path, member.path, member.data


def _with_earlier_version(
    report: ConfigReport, data: bytes | BinaryIO, configs: list[tuple[ConfigReport, bytes]]
) -> ConfigReport:
    """Diff a config against an earlier version given before it; remember it for later ones."""
    if not isinstance(data, bytes):
        data.seek(0)
        data = data.read()
    earlier = previous_version(report, configs)
    configs.append((report, data))
    if earlier is None:
        return report
    return with_changes(report, data, *earlier)
