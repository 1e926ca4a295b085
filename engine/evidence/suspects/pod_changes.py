"""Pods that came and went around an incident: rollouts and restarts, read from metric series.

A series labelled by pod exists while the pod does, so the first and last samples of a
workload's pods show what its deploy history would: a new ReplicaSet's pods appearing beside
the old ones (a rollout), or pods of the same ReplicaSet replaced by new ones (a restart, a
redeploy of config kept outside the pod template, a crash). Either one shortly before the
incident window, or in its first minutes, makes the workload a suspect on its own: the change
nearest the trouble is the first thing an SRE checks. Pods that only join (a scale-up) are not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from engine.evidence.components import replicaset_of
from engine.evidence.metrics.report import SeriesStats
from engine.evidence.suspects.state import hhmm

BEFORE = timedelta(minutes=20)  # new pods this long before the start are its change
AFTER = timedelta(minutes=10)  # and this long after (a rollout takes minutes to land)
_PRESENT = 120.0  # seconds: a pod seen this close to the files' start or end was there


@dataclass
class PodChange:
    text: str
    at: datetime


@dataclass
class _Life:
    workload: str
    first: float
    last: float


def _lives(series: Iterable[tuple[SeriesStats, str]]) -> dict[str, _Life]:
    """Pod -> its workload and the span of its samples, over every series naming it."""
    lives: dict[str, _Life] = {}
    for stats, workload in series:
        pod = stats.component
        if not pod or not stats.samples or replicaset_of(pod) is None:
            continue
        first, last = stats.samples[0][0], stats.samples[-1][0]
        life = lives.setdefault(pod, _Life(workload, first, last))
        life.first, life.last = min(life.first, first), max(life.last, last)
    return lives


def pod_changes(series: Iterable[tuple[SeriesStats, str]], start: datetime) -> dict[str, PodChange]:
    """Workload -> its earliest rollout or pod replacement near `start`."""
    lives = _lives(series)
    if not lives:
        return {}
    earliest = min(life.first for life in lives.values())
    latest = max(life.last for life in lives.values())
    low, high = (start - BEFORE).timestamp(), (start + AFTER).timestamp()
    found: dict[str, PodChange] = {}
    for pod, life in sorted(lives.items(), key=lambda item: item[1].first):
        if life.workload in found or life.first <= earliest + _PRESENT:
            continue
        if not low <= life.first <= high:
            continue
        older = {
            p: o for p, o in lives.items() if o.workload == life.workload and o.first < life.first
        }
        at = datetime.fromtimestamp(life.first, UTC)
        replicaset = replicaset_of(pod)
        earlier_sets = {replicaset_of(p) for p in older}
        if older and replicaset not in earlier_sets:
            before = sorted(s for s in earlier_sets if s)[0]
            text = f"new pods of {replicaset} from {hhmm(at)}, beside {before}: a rollout"
            found[life.workload] = PodChange(text, at)
            continue
        gone = [
            p
            for p, o in older.items()
            if o.last < latest - _PRESENT and abs(o.last - life.first) <= BEFORE.total_seconds()
        ]
        if gone:
            text = (
                f"pods replaced around {hhmm(at)}: {gone[0]} gone, {pod} new "
                "(a restart or redeploy)"
            )
            found[life.workload] = PodChange(text, at)
    return found
