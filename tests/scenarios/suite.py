"""Load the incident scenarios written by `python -m tests.scenarios.generate`.

    from tests.scenarios.suite import load_scenarios

    for scenario in load_scenarios():
        files = {p.name: p.read_bytes() for p in scenario.files}  # what the engine may see
        expected = scenario.answer.root_cause                     # what it should conclude

Hand the engine file names and bytes only: the scenario's folder name describes the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

CASES = Path(__file__).resolve().parent / "cases"
ANSWER_FILE = "answer.yaml"
TYPES = ("failure", "healthy", "red-herring")
KINDS = ("log", "metrics", "traces", "config", "kubernetes")


@dataclass(frozen=True)
class RootCause:
    component: str | None  # as it appears in the evidence; None for a healthy scenario
    category: str | None  # engine.investigate.signatures categories
    signature: str | None  # engine.investigate.signatures ids


@dataclass(frozen=True)
class Answer:
    title: str
    type: str  # failure | healthy | red-herring
    question: str  # what the engineer asks in the thread
    root_cause: RootCause
    acceptable_components: list[str]  # names that count as naming the root cause
    incident_start: datetime | None  # UTC; None for a healthy scenario
    forbidden: list[str]  # components it would be wrong to blame
    forbidden_signatures: list[str]  # failure kinds it would be wrong to conclude
    notes: str  # what makes the scenario hard
    window_start: datetime  # the evidence's time span (UTC)
    window_end: datetime
    evidence: dict[str, str]  # file name -> kind: log, metrics, traces or config

    @property
    def healthy(self) -> bool:
        return self.root_cause.component is None

    def names_root_cause(self, text: str) -> bool:
        """Whether `text` (a conclusion) names the root cause or one of its aliases."""
        lowered = text.lower()
        return any(name.lower() in lowered for name in self.acceptable_components)


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    files: list[Path]  # the evidence, in name order (never answer.yaml)
    answer: Answer


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value or []]


def parse_answer(doc: dict[str, Any]) -> Answer:
    cause = doc.get("root_cause") or {}
    window = doc.get("window") or {}
    start, end = _utc(window.get("start")), _utc(window.get("end"))
    if start is None or end is None:
        raise ValueError("answer.yaml needs window.start and window.end")
    kind = str(doc.get("type", "failure"))
    if kind not in TYPES:
        raise ValueError(f"unknown scenario type {kind!r}")
    evidence = {str(k): str(v) for k, v in (doc.get("evidence") or {}).items()}
    bad = sorted(v for v in evidence.values() if v not in KINDS)
    if bad:
        raise ValueError(f"unknown evidence kinds {bad}")
    return Answer(
        title=str(doc["title"]),
        type=kind,
        question=str(doc["question"]),
        root_cause=RootCause(
            component=cause.get("component"),
            category=cause.get("category"),
            signature=cause.get("signature"),
        ),
        acceptable_components=_strings(doc.get("acceptable_components")),
        incident_start=_utc(doc.get("incident_start")),
        forbidden=_strings(doc.get("forbidden")),
        forbidden_signatures=_strings(doc.get("forbidden_signatures")),
        notes=str(doc.get("notes", "")),
        window_start=start,
        window_end=end,
        evidence=evidence,
    )


def load_scenario(path: Path) -> Scenario:
    doc = yaml.safe_load((path / ANSWER_FILE).read_text())
    if not isinstance(doc, dict):
        raise ValueError(f"{path / ANSWER_FILE} is not a mapping")
    answer = parse_answer(doc)
    files = [path / name for name in sorted(answer.evidence)]
    return Scenario(name=path.name, path=path, files=files, answer=answer)


def load_scenarios(root: Path | None = None) -> list[Scenario]:
    """Every scenario under `root` (default: tests/scenarios/cases), in name order."""
    base = root or CASES
    return [
        load_scenario(folder)
        for folder in sorted(base.iterdir())
        if folder.is_dir() and (folder / ANSWER_FILE).is_file()
    ]
