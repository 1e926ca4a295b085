"""The CLIs whose printed state is read: one module per tool, one line here.

A tool's module exposes `TOOL`, `detect(text) -> bool` (from the content alone, and strict:
a log, a config, a CSV or kubectl output must never pass) and `parse(name, text) -> CliParse`.
The first reader that recognises a file reads it; their formats do not overlap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.evidence.cli_state import argocd, kafka, rabbitmq
from engine.evidence.cli_state.report import CliParse


@dataclass(frozen=True)
class CliReader:
    tool: str
    detect: Callable[[str], bool]
    parse: Callable[[str, str], CliParse]


READERS: tuple[CliReader, ...] = (
    CliReader(argocd.TOOL, argocd.detect, argocd.parse),
    CliReader(kafka.TOOL, kafka.detect, kafka.parse),
    CliReader(rabbitmq.TOOL, rabbitmq.detect, rabbitmq.parse),
)


def reader_for(text: str) -> CliReader | None:
    return next((reader for reader in READERS if reader.detect(text)), None)


def looks_like_cli_state(name: str, text: str) -> bool:
    del name  # the content decides: a file name says what was meant, not what was pasted
    return reader_for(text) is not None
