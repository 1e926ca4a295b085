"""Ranking a case's suspects: weights to scores, with victims told apart from culprits.

This is the SRE's reading of the dependency edges, kept apart from the signal readers so
the rules that move weight between components are in one place: a caller whose suspect
dependency explains its trouble is likely a victim, and the blame its own callers put on
it moves on to the culprit below.
"""

from __future__ import annotations

import math
from collections import defaultdict

from engine.evidence.suspects.reconcile import reconcile
from engine.evidence.suspects.state import CaseEvidence, Suspect

MAX_SUSPECTS = 5
MIN_SCORE = 0.15
VICTIM_FACTOR = 0.35  # a caller whose dependency is suspect: mostly an echo of it
MIN_SUSPECT_WEIGHT = 0.3  # a dependency this suspect makes its callers victims...
EXPLAINS = 0.25  # ...when it is also at least this fraction as suspect as the caller
MAX_REASONS = 4
BLAME_PASSED = 0.5  # of a victim's blame (callers' failures) that moves on to its culprit


def _downstream(case: CaseEvidence, name: str) -> set[str]:
    """Everything `name` depends on, directly or through others."""
    seen: set[str] = set()
    todo = list(case.depends_on.get(name, ()))
    while todo:
        current = todo.pop()
        if current in seen or current == name:
            continue
        seen.add(current)
        todo.extend(case.depends_on.get(current, ()))
    return seen


def _deeper(case: CaseEvidence, name: str, raw: dict[str, float]) -> list[str]:
    """Its dependencies suspect enough to explain its trouble: a faint anomaly downstream
    does not make a loudly failing caller its victim."""
    floor = max(MIN_SUSPECT_WEIGHT, EXPLAINS * raw.get(name, 0))
    return sorted(d for d in _downstream(case, name) if raw.get(d, 0) >= floor)


def _culprits(case: CaseEvidence, raw: dict[str, float]) -> dict[str, list[str]]:
    """For each victim, its suspect dependencies that are not victims themselves."""
    deeper = {name: _deeper(case, name, raw) for name in case.components}
    return {
        name: [d for d in below if not deeper.get(d)]
        for name, below in deeper.items()
        if below and raw[name] > 0
    }


def rank(case: CaseEvidence) -> list[Suspect]:
    reconcile(case)
    raw = {name: ev.weight for name, ev in case.components.items()}
    culprits = _culprits(case, raw)
    # Callers' failures that went through a victim point further down, at its culprit.
    passed: dict[str, float] = defaultdict(float)
    passed_from: dict[str, list[str]] = defaultdict(list)
    for victim, ends in culprits.items():
        blame = case.components[victim].blame
        if blame <= 0 or not ends:
            continue
        for end in ends:
            passed[end] += BLAME_PASSED * blame / len(ends)
            passed_from[end].append(victim)
    suspects = []
    for name, ev in case.components.items():
        weight = ev.weight
        reasons = [text for _, text in sorted(ev.reasons, key=lambda r: -r[0])]
        deeper = _deeper(case, name, raw)
        if deeper and weight > 0:
            weight *= VICTIM_FACTOR
            reasons.insert(0, f"depends on {', '.join(deeper)}, also suspect: likely a victim")
        if passed.get(name):
            weight += passed[name]
            reasons.insert(
                0,
                f"the failures of {', '.join(sorted(passed_from[name]))} "
                "(and of their callers) lead here",
            )
        score = round(1 - math.exp(-weight), 3)
        if score < MIN_SCORE:
            continue
        suspects.append(
            Suspect(
                component=name,
                score=score,
                reasons=reasons[:MAX_REASONS],
                first_signal=ev.first,
                sources=sorted(ev.sources),
            )
        )
    # Ties: the earlier signal first (trouble starts before its echoes).
    suspects.sort(
        key=lambda s: (
            -s.score,
            s.first_signal.timestamp() if s.first_signal else math.inf,
            s.component,
        )
    )
    return suspects[:MAX_SUSPECTS]
