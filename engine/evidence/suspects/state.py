"""The shared state of ranking a case's suspects: what each signal adds to a component.

The signal readers (`suspect_logs`, `suspect_signals`), the replica reconciliation
(`suspect_reconcile`) and the ranking (`suspect_rank`) each do one job on this state, so
it lives apart from all of them; `Suspect` is the result they produce together.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, Field

from engine.core.wording import clock


class Suspect(BaseModel):
    component: str
    score: float = Field(description="0..1; higher means more likely where the trouble starts")
    reasons: list[str] = Field(default_factory=list)
    first_signal: datetime | None = Field(default=None, description="its earliest anomaly")
    sources: list[str] = Field(default_factory=list, description="evidence it was seen in")


@dataclass
class Evidence:
    """What is known about one component so far."""

    weight: float = 0.0
    blame: float = 0.0  # the part of weight that callers' failures put on it
    reasons: list[tuple[float, str]] = field(default_factory=list)
    first: datetime | None = None
    sources: set[str] = field(default_factory=set)

    def add(self, weight: float, reason: str, source: str, at: datetime | None = None) -> None:
        self.weight += weight
        self.reasons.append((weight, reason))
        self.sources.add(source)
        if at is not None and (self.first is None or at < self.first):
            self.first = at


@dataclass
class CaseEvidence:
    """Everything the case's files said about its components, before ranking."""

    components: dict[str, Evidence] = field(default_factory=lambda: defaultdict(Evidence))
    # caller -> callees
    depends_on: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    known: set[str] = field(default_factory=set)
    saw_logs: bool = False
    incidents: list[datetime] = field(default_factory=list)  # where the logs' error rates rose


def hhmm(ts: datetime | None) -> str:
    return clock(ts, with_date=False) if ts is not None else "?"
