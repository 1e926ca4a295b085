"""The contract every kind of evidence fulfils: recognise a file, read it, put it into words.

A kind is one `EvidenceKind` value, built in its own package (`logs/kind.py`,
`traces/kind.py`, ...) and listed once in `engine/evidence/analyze.py`'s `KINDS`. Callers
never branch on a report's type to analyse, summarise or describe it: they ask the kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Generic, TypeVar

from pydantic import BaseModel

from engine.core.redact import Redactor

R = TypeVar("R", bound=BaseModel)

# What a reader is given: the file's bytes or an open binary stream. A reader that can read a
# chunk at a time (logs, of any size) streams it; the others take it `whole`.
Source = bytes | BinaryIO


@dataclass(frozen=True)
class EvidenceKind(Generic[R]):
    name: str  # what people and the store call it: 'log', 'traces', 'metrics', 'config'
    report_type: type[R]
    # Whether the start of a file (decoded leniently) and its name look like this kind.
    detect: Callable[[str, str], bool]
    # The report of one file: (name, source, redactor, deadline); EvidenceRejected when it
    # cannot be used. A reader that can stop part way (logs) stops at the deadline, a
    # time.monotonic() value, and says how much it read; the others ignore it.
    read: Callable[[str, Source, Redactor | None, float | None], R]
    # One line a person scans in the thread.
    summarise: Callable[[R], str]
    # The few lines worth reading after the summary, at most `limit`.
    describe: Callable[[R, int], list[str]]


def whole(source: Source) -> bytes:
    """The bytes of `source`, for readers whose parsers need the whole file."""
    return source if isinstance(source, bytes) else source.read()
