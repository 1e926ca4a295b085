"""Local files as knowledge documents: Markdown and text files, folders of them, zip archives.

Each document's source is where it came from (an absolute path; for an archive member, the
path of the archive followed by the member's path), so importing the same place again
finds the same document and makes a new version only when its content changed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import EvidenceRejected, FaultMavenError
from engine.evidence.decode import decode_text as decode_evidence_text

TEXT_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".txt", ".text", ".rst", ".adoc"})
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class LocalDocument:
    source: str
    title: str
    text: str


@dataclass(frozen=True)
class Unreadable:
    source: str
    reason: str


def document_title(text: str, fallback: str) -> str:
    """The first level-1 heading (ATX or setext), else `fallback`."""
    lines = text.splitlines()
    for i, line in enumerate(lines[:200]):
        stripped = line.strip()
        if stripped.startswith("# "):
            return stripped[2:].strip(" #") or fallback
        if stripped and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"="}:
            return stripped
    return fallback


def is_knowledge_file(name: str) -> bool:
    return Path(name).suffix.lower() in TEXT_SUFFIXES


def decode_text(data: bytes) -> str | None:
    """The text of a file in any encoding an upload may have (UTF-8, UTF-16 with or without
    a BOM, Latin-1...), or None when it is binary or holds no text."""
    try:
        return decode_evidence_text(data).text
    except EvidenceRejected:
        return None


def read_documents(paths: list[Path]) -> Iterator[LocalDocument | Unreadable]:
    """The documents under `paths`: files as given (whatever their suffix), the Markdown and
    text files of folders (recursively, hidden ones skipped), and those inside .zip files.

    Inside a folder, a link that leads out of it is not followed: importing a folder of
    runbooks must not turn /etc/passwd, linked from it, into searchable knowledge.
    """
    for path in paths:
        if path.is_dir():
            yield from _folder_documents(path)
        elif not path.exists():
            yield Unreadable(str(path), "no such file or folder")
        elif not path.is_file():
            yield Unreadable(str(path), "not a regular file (a device, a pipe or a socket)")
        elif path.suffix.lower() == ".zip":
            yield from _zip_documents(path)
        else:
            yield _file_document(path)


def _folder_documents(folder: Path) -> Iterator[LocalDocument | Unreadable]:
    root = folder.resolve()
    for directory, subfolders, names in os.walk(folder):  # links to folders are not entered
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(names):
            child = Path(directory, name)
            is_zip = name.lower().endswith(".zip")
            if name.startswith(".") or not (is_knowledge_file(name) or is_zip):
                continue
            if not child.resolve().is_relative_to(root):
                yield Unreadable(str(child), "a link to outside the folder, not followed")
            elif not child.is_file():
                yield Unreadable(str(child), "not a regular file")
            elif is_zip:
                yield from _zip_documents(child)
            else:
                yield _file_document(child)


def _file_document(path: Path) -> LocalDocument | Unreadable:
    source = str(path.resolve())
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        return Unreadable(source, f"larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB")
    return _document(source, path.stem, path.read_bytes())


def _document(source: str, stem: str, data: bytes) -> LocalDocument | Unreadable:
    text = decode_text(data)
    if text is None:
        return Unreadable(source, "not a text file")
    if not text.strip():
        return Unreadable(source, "empty")
    return LocalDocument(source, document_title(text, stem), text)


def _zip_documents(path: Path) -> Iterator[LocalDocument | Unreadable]:
    """Text members of a zip, opened with the evidence limits (zip bombs are refused)."""
    from engine.evidence.archives import expand

    archive = path.resolve()
    try:
        members = expand(path.name, path.read_bytes()).members
    except FaultMavenError as exc:
        yield Unreadable(str(archive), exc.user_message)
        return
    for member in members:
        inner = member.path.split("/", 1)[1] if "/" in member.path else member.path
        if not is_knowledge_file(inner) or any(p.startswith(".") for p in inner.split("/")):
            continue
        if len(member.data) > MAX_DOCUMENT_BYTES:
            yield Unreadable(f"{archive}/{inner}", "too large")
            continue
        yield _document(f"{archive}/{inner}", Path(inner).stem, member.data)
