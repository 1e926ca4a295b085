"""Which parts of the evidence a turn's prompt quotes: ranked by the question and the leading
hypotheses, within the tokens the budget leaves, never cut at a fixed count per file.

A part's score is its weight (how telling its kind is: engine/investigate/excerpts.py) plus
up to RELEVANCE for the question's and the leading hypotheses' terms it holds (rare terms and
identifiers count more; three rare question terms are enough for all of it). Parts are taken
best first while they fit; each further part of the same file costs a little (DIVERSITY), so
one loud file does not crowd out the others; a part whose lines are
already shown is skipped; a file's whole text, when chosen, replaces its other parts. Parts
under MIN_SCORE are noise and stay out even when budget is left.

Lines of a file that mention the question's rarer terms (`DB_POOL_SIZE = 5` for "why is the
pool exhausted?") become parts too, with the line after them (a YAML value under its name).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from engine.investigate.parts import Part, SafeLines
from engine.investigate.relevance import is_identifier, terms

RELEVANCE = 3.0  # the most a part's relevance adds to its weight
SATURATION = 6.0  # matched query weight (question terms 2, hypotheses' 1, by rarity) for all of it
DIVERSITY = 0.4  # taken off each further part of the same file
MIN_SCORE = 2.0  # below this a part is not shown, whatever the budget
CORE_SCORE = 5.0  # parts at or above this come before older messages brought back
SHOWN_ENOUGH = 0.8  # a part whose lines are this much shown already is skipped
W_MATCHING_LINE = 2.5  # found by the question's rarer terms: relevant by construction
MATCHING_LINES = 6  # per file
MATCH_FLOOR = 0.5  # of the best line's score


@dataclass(frozen=True)
class Candidate:
    slot: int  # the block it goes to: a file's index, or one after the files
    part: Part
    score: float
    cost: int


CountPart = Callable[[Part], int]


def matching_lines(lines: SafeLines, query: dict[str, float]) -> list[Part]:
    """Parts of the lines that mention the query's rarer terms, best first."""
    strong = {t: w for t, w in query.items() if len(t) >= 4 or is_identifier(t)}
    if not strong or not len(lines):
        return []
    found: dict[int, set[str]] = {}
    for number in range(1, len(lines) + 1):
        lowered = lines.raw(number).lower()
        hit = {t for t in strong if t in lowered}
        if hit:
            found[number] = hit
    if not found:
        return []
    df = Counter(t for hit in found.values() for t in hit)
    total = len(lines)
    scores = {
        n: sum(strong[t] * math.log((total + 1) / (df[t] + 0.5)) for t in hit)
        for n, hit in found.items()
    }
    best = max(scores.values())
    if best <= 0:
        return []
    chosen = sorted(
        (n for n, s in scores.items() if s >= MATCH_FLOOR * best), key=lambda n: -scores[n]
    )
    parts = []
    for number in chosen[:MATCHING_LINES]:
        span = range(max(1, number - 1), min(len(lines), number + 1) + 1)
        words = ", ".join(sorted(found[number]))
        parts.append(
            Part(
                heading=f"line {number} mentions {words}:",
                lines=tuple(lines.numbered(n, ">>" if n == number else "") for n in span),
                weight=W_MATCHING_LINE,
                order=number,
                line_numbers=frozenset(span),
            )
        )
    return parts


def rank(
    blocks: list[list[Part]], query: dict[str, float], count_part: CountPart
) -> list[Candidate]:
    """Every part of every block with its score and cost, best first; noise left out."""
    texts = [
        (slot, part, terms(part.text())) for slot, parts in enumerate(blocks) for part in parts
    ]
    df = Counter(t for _, _, bag in texts for t in bag if t in query)
    n = len(texts)
    ranked = []
    for slot, part, bag in texts:
        matched = sum(
            w * math.log((n + 1) / (df[t] + 0.5)) / math.log(n + 1.5) * _kind(t)
            for t, w in query.items()
            if t in bag
        )
        # A whole file holds most terms somewhere: its weight already says what it is worth.
        bonus = RELEVANCE * min(1.0, matched / SATURATION) * (0.5 if part.whole else 1.0)
        score = part.weight + bonus
        if score >= MIN_SCORE:
            ranked.append(Candidate(slot, part, score, count_part(part)))
    return sorted(ranked, key=lambda c: (-c.score, c.slot, c.part.order))


_CLOCK = re.compile(r"[\d:.]{1,8}")


def evidence_query(query: dict[str, float]) -> dict[str, float]:
    """The query without bare numbers and clock times ("14", "14:07"): nearly every log line
    holds some, and the incident window already weighs parts by their time."""
    return {t: w for t, w in query.items() if not _CLOCK.fullmatch(t)}


def _kind(term: str) -> float:
    """Identifiers (payments-db-1, 13:58, v142) say more than words."""
    return 1.5 if is_identifier(term) else 1.0


class Choice:
    """Parts taken so far per block, the order they were taken in (to undo the last), and
    what of each block is already shown."""

    def __init__(self, blocks: int) -> None:
        self.parts: list[list[Part]] = [[] for _ in range(blocks)]
        self.order: list[int] = []  # the block of each part taken, in order
        self._lines: list[set[int]] = [set() for _ in range(blocks)]

    def whole(self, slot: int) -> bool:
        return any(p.whole for p in self.parts[slot])

    def covered(self, candidate: Candidate) -> bool:
        """Its file is shown whole, and it is not a part that goes with the whole file."""
        return not candidate.part.stays and self.whole(candidate.slot)

    def adds_nothing(self, candidate: Candidate) -> bool:
        numbers = candidate.part.line_numbers
        if not numbers:
            return candidate.part in self.parts[candidate.slot]
        shown = len(numbers & self._lines[candidate.slot])
        return shown >= SHOWN_ENOUGH * len(numbers)

    def take(self, candidate: Candidate) -> None:
        if candidate.part.whole:  # it replaces the file's other parts, but findings
            kept = [p for p in self.parts[candidate.slot] if p.stays]
            dropped = len(self.parts[candidate.slot]) - len(kept)
            self.parts[candidate.slot] = kept
            for _ in range(dropped):
                self.order.remove(candidate.slot)
        self.parts[candidate.slot].append(candidate.part)
        self._lines[candidate.slot] |= candidate.part.line_numbers
        self.order.append(candidate.slot)

    def undo(self) -> None:
        slot = self.order.pop()
        self.parts[slot].pop()

    def count(self) -> int:
        return sum(len(p) for p in self.parts)


def choose(
    candidates: list[Candidate],
    choice: Choice,
    left: int,
    *,
    floor: float = MIN_SCORE,
) -> int:
    """Take the best candidates at or above `floor` while they fit in `left` tokens (a whole
    file may replace parts of it already taken). Returns the tokens left."""
    pending = [c for c in candidates if c.score >= floor]
    while pending:
        best_i, best = -1, float("-inf")
        for i, c in enumerate(pending):
            score = c.score - DIVERSITY * len(choice.parts[c.slot])
            if score > best:
                best_i, best = i, score
        candidate = pending.pop(best_i)
        if choice.covered(candidate) or choice.adds_nothing(candidate):
            continue
        refund = sum(
            _cost_of(candidates, p, candidate.slot)
            for p in choice.parts[candidate.slot]
            if not p.stays
        )
        cost = candidate.cost - (refund if candidate.part.whole else 0)
        if cost <= left:
            choice.take(candidate)
            left -= cost
    return left


def _cost_of(candidates: list[Candidate], part: Part, slot: int) -> int:
    return next((c.cost for c in candidates if c.slot == slot and c.part is part), 0)
