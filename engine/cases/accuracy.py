"""How right FaultMaven was, from the team's graded closed cases (engine/cases/outcomes.py):
`/faultmaven stats`, the App Home and `faultmaven stats --json`.

- First hypothesis right: the hypothesis that led the case's first turn with evidence was the
  one graded the root cause at close (what a responder reading the first answer got).
- Right at close: the leading hypothesis at close was graded the root cause (after people's
  Confirm / Rule out and more evidence).
- Time to the right hypothesis: from the case's opening to when the hypothesis graded the root
  cause first appeared (hypotheses keep when they first appeared), median over those cases.
- Signatures it gets wrong: per failure signature of the graded lead, how often it was only a
  symptom or wrong.
"""

from __future__ import annotations

import statistics

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field, computed_field

from engine.core.wording import plural
from engine.store import outcomes as outcome_store
from engine.store.outcomes import GradedCase

MISSED = frozenset({"symptom", "wrong"})
SHOWN_SIGNATURES = 3
NO_SIGNATURE = "(none)"  # a lead a model proposed, or a suspect with no failure signature


class SignatureAccuracy(BaseModel):
    signature: str
    graded: int
    root_cause: int
    wrong: int = Field(description="graded wrong or only a symptom")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def wrong_share(self) -> float:
        return round(self.wrong / self.graded, 3) if self.graded else 0.0


class AccuracyStats(BaseModel):
    team_id: str | None = Field(description="None: every team")
    closed: int = Field(description="closed cases")
    graded: int = Field(description="closed cases whose leading hypothesis was graded")
    first_right: int = Field(description="the first turn's lead was the root cause")
    right_at_close: int = Field(description="the lead at close was the root cause")
    mean_grade: float | None = Field(description="of the lead at close, 0-100")
    median_minutes_to_right: float | None = Field(
        description="open to the first appearance of the hypothesis graded the root cause"
    )
    reopened: int = Field(description="graded cases reopened at least once: a fix did not hold")
    signatures: list[SignatureAccuracy] = Field(
        default_factory=list, description="most often wrong first"
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def first_right_share(self) -> float | None:
        return round(self.first_right / self.graded, 3) if self.graded else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def right_at_close_share(self) -> float | None:
        return round(self.right_at_close / self.graded, 3) if self.graded else None


def _minutes_to_right(case: GradedCase) -> float | None:
    if case.verdict != "root_cause" or case.first_seen_at is None:
        return None
    return max(0.0, (case.first_seen_at - case.opened_at).total_seconds() / 60)


def summarize(team_id: str | None, closed: int, graded: list[GradedCase]) -> AccuracyStats:
    by_signature: dict[str, list[GradedCase]] = {}
    for case in graded:
        by_signature.setdefault(case.signature or NO_SIGNATURE, []).append(case)
    signatures = [
        SignatureAccuracy(
            signature=signature,
            graded=len(group),
            root_cause=sum(c.verdict == "root_cause" for c in group),
            wrong=sum(c.verdict in MISSED for c in group),
        )
        for signature, group in by_signature.items()
    ]
    signatures.sort(key=lambda s: (-s.wrong_share, -s.wrong, s.signature))
    minutes = [m for c in graded if (m := _minutes_to_right(c)) is not None]
    return AccuracyStats(
        team_id=team_id,
        closed=closed,
        graded=len(graded),
        first_right=sum(
            c.verdict == "root_cause" and c.first_lead_key == c.hypothesis_key for c in graded
        ),
        right_at_close=sum(c.verdict == "root_cause" for c in graded),
        mean_grade=round(statistics.fmean(c.grade for c in graded), 1) if graded else None,
        median_minutes_to_right=round(statistics.median(minutes), 1) if minutes else None,
        reopened=sum(c.reopened > 0 for c in graded),
        signatures=signatures,
    )


async def accuracy(pool: AsyncConnectionPool, team_id: str | None) -> AccuracyStats:
    """The accuracy of one team's closed cases (of every team's with None)."""
    closed = await outcome_store.closed_cases(pool, team_id)
    return summarize(team_id, closed, await outcome_store.graded_cases(pool, team_id))


def _share(part: int, whole: int) -> str:
    return f"*{part}/{whole}* ({part / whole:.0%})"


def _minutes(value: float) -> str:
    if value < 90:
        return f"{value:.0f} min"
    return f"{value / 60:.1f} h"


def accuracy_lines(stats: AccuracyStats) -> list[str]:
    """The figures, one short line each (Slack mrkdwn)."""
    if not stats.graded:
        return [
            f"{plural(stats.closed, 'closed case')}, none graded yet: grade the leading "
            "hypothesis with the buttons of a case's close summary."
        ]
    lines = [
        f"First hypothesis right: {_share(stats.first_right, stats.graded)}"
        f" · right at close: {_share(stats.right_at_close, stats.graded)}",
    ]
    if stats.median_minutes_to_right is not None:
        lines.append(
            f"Median time to the right hypothesis: *{_minutes(stats.median_minutes_to_right)}*"
            " from open"
        )
    wrong = [s for s in stats.signatures if s.wrong][:SHOWN_SIGNATURES]
    if wrong:
        lines.append(
            "Gets wrong: " + " · ".join(f"`{s.signature}` {s.wrong}/{s.graded}" for s in wrong)
        )
    return lines


def describe_accuracy(stats: AccuracyStats) -> str:
    """`/faultmaven stats`: short and scannable."""
    head = (
        f"📊 *How right FaultMaven was* — {plural(stats.closed, 'closed case')}, "
        f"{stats.graded} graded (mean grade {stats.mean_grade:.0f})"
        if stats.graded and stats.mean_grade is not None
        else "📊 *How right FaultMaven was*"
    )
    lines = [head, *(f"• {line}" for line in accuracy_lines(stats))]
    if stats.reopened:
        lines.append(f"• Reopened after close: {stats.reopened} of {stats.graded} graded")
    return "\n".join(lines)
