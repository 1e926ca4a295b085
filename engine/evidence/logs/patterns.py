"""Per-template and per-component counts over time, accumulated one record at a time.

Each record's message goes through the template miner; its template and the component that
logged it get a count in the file's time buckets. Memory is bounded: past MAX_TEMPLATES
templates (a log of all-different lines) new ones are counted but not tracked, and the
buckets are bounded per histogram (`timebuckets`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from engine.evidence.logs.levels import most_severe
from engine.evidence.logs.timebuckets import BucketClock, Histogram, Span
from engine.evidence.templates.miner import TemplateMiner
from engine.evidence.templates.tokens import shape_of

MAX_TEMPLATES = 2_000
MAX_COMPONENTS = 200
MAX_HOSTS = 5  # per component, as examples
MAX_PEERS = 20  # per component
EXAMPLE_CHARS = 300
MINED_CHARS = 2_000  # a template is an event's words; a 50 MB line is not mined whole


@dataclass(slots=True)
class TemplateTally:
    first_line: int
    example: str
    histogram: Histogram
    level: str | None = None
    count: int = 0
    errors: int = 0
    seen: Span = field(default_factory=Span)
    components: Counter[str] = field(default_factory=Counter)

    def absorb(self, other: TemplateTally) -> None:
        """Counts of a template the miner merged into this one."""
        self.count += other.count
        self.errors += other.errors
        self.level = _severest(self.level, other.level)
        if other.first_line < self.first_line:
            self.first_line, self.example = other.first_line, other.example
        self.seen.merge(other.seen)
        self.histogram.merge(other.histogram)
        self.components.update(other.components)


@dataclass(slots=True)
class ComponentTally:
    errors_histogram: Histogram
    records: int = 0
    errors: int = 0
    first_error: datetime | None = None
    hosts: set[str] = field(default_factory=set)
    peers: Counter[str] = field(default_factory=Counter)  # where its failing requests went


def _severest(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return most_severe(a, b)


class PatternTally:
    """Templates and components of one file."""

    def __init__(self, clock: BucketClock) -> None:
        self.clock = clock
        self.miner = TemplateMiner()
        self._add_id = self.miner.add_id
        self.templates: dict[int, TemplateTally] = {}
        self.components: dict[str, ComponentTally] = {}
        self.untracked = 0  # records whose template came after MAX_TEMPLATES
        self.error_peers: Counter[str] = Counter()  # of all error records, component or not

    def add(
        self,
        line: int,
        text: str,
        level: str | None,
        ts: datetime | None,
        bucket: int | None,
        component: str | None,
        is_error: bool,
        shape: str | None = None,
    ) -> None:
        """Count one record; `bucket` is `clock.index(ts)` (None without a time); `shape`
        is `shape_of(text)` when the caller has it."""
        if len(text) > MINED_CHARS:
            text = text[:MINED_CHARS]
            shape = None if shape is None else shape[:MINED_CHARS]
        if shape is None:
            shape = shape_of(text)
        template_id = self._add_id(text, shape)
        tally = self.templates.get(template_id)
        if tally is None:
            if len(self.templates) >= MAX_TEMPLATES:
                self.untracked += 1
                return
            tally = self.templates[template_id] = TemplateTally(
                line, text[:EXAMPLE_CHARS], Histogram(self.clock)
            )
        tally.count += 1
        if level is not None and level != tally.level:
            tally.level = _severest(tally.level, level)
        if is_error:
            tally.errors += 1
        if ts is not None and bucket is not None:
            # Once per record: the usual case of `histogram.add` and `seen.add` written out.
            histogram = tally.histogram
            if histogram.width == self.clock.width:
                counts = histogram.counts
                counts[bucket] = counts.get(bucket, 0) + 1
            else:
                histogram.add(bucket)
            seen = tally.seen
            last = seen.last
            if last is not None and seen.first is not None and ts > last:
                seen.last = ts
            else:
                seen.add(ts)
        if component is not None:
            tally.components[component] += 1

    def add_component(
        self,
        name: str,
        host: str | None,
        ts: datetime | None,
        bucket: int | None,
        is_error: bool,
        peer: str | None = None,
    ) -> None:
        tally = self.components.get(name)
        if tally is None:
            if len(self.components) >= MAX_COMPONENTS:
                return
            tally = self.components[name] = ComponentTally(Histogram(self.clock))
        tally.records += 1
        if host is not None and len(tally.hosts) < MAX_HOSTS:
            tally.hosts.add(host)
        if is_error:
            tally.errors += 1
            if peer is not None and (peer in tally.peers or len(tally.peers) < MAX_PEERS):
                tally.peers[peer] += 1
            if ts is not None and bucket is not None:
                tally.errors_histogram.add(bucket)
                if tally.first_error is None or ts < tally.first_error:
                    tally.first_error = ts

    def final_templates(self) -> list[tuple[str, TemplateTally]]:
        """(template text, counts) per live template; merged templates' counts folded in."""
        live: dict[int, TemplateTally] = {}
        for template_id, tally in sorted(self.templates.items()):
            final = self.miner.resolve(template_id)
            if final in live:
                live[final].absorb(tally)
            else:
                live[final] = tally
        return [(self.miner.template(template_id), tally) for template_id, tally in live.items()]
