"""Which component each series of a file is about, when the layout says it and labels don't.

Two layouts name components without labels:
- wide tables whose columns are `<entity>_<measure>` with the same measures repeated for
  several entities (`cart_cpu, cart-db_cpu, …, cart_mem, …, cart_lat_99`): the entity is
  the component. A measure that only one entity has proves nothing, so a column counts only
  when its measure is shared; words that are measures themselves (`p50 latency`,
  `max cpu`) are never entities;
- files named after a pod (`checkout-7d9f8c6b5-x2k4p_…csv`): every series in it is the pod's.
The name stays as written (the pod, not its workload), so a reason can cite it.
"""

from __future__ import annotations

import re
from collections import defaultdict

from engine.evidence.components import pod_named_in
from engine.evidence.metrics.series import ParsedMetrics

_SEPARATORS = re.compile(r"[_.\s]+")
_LABELLED = re.compile(
    r"[{,](?:service|service_name|job|app|application|component|container|pod|instance|host)="
)
# Words that qualify a measure rather than name a component.
_MEASURE_WORDS = re.compile(
    r"p\d{1,3}|avg|average|mean|median|min|max|sum|count|total|rate|q\d+|le|quantile"
)
MIN_ENTITIES = 2


def _splits(name: str) -> list[tuple[str, str]]:
    """(entity, measure) at each separator, shortest entity first."""
    out = []
    for match in _SEPARATORS.finditer(name):
        entity, measure = name[: match.start()], name[match.end() :]
        if entity and measure and any(c.isalpha() for c in measure):
            out.append((entity, measure.lower()))
    return out


def column_entities(names: list[str]) -> dict[str, str]:
    """Column name -> entity, for wide tables of `<entity>_<measure>` columns; {} otherwise."""
    sharing: dict[str, set[str]] = defaultdict(set)
    for name in names:
        for entity, measure in _splits(name):
            sharing[measure].add(entity.lower())
    found: dict[str, str] = {}
    for name in names:
        shared = [
            (entity, measure)
            for entity, measure in _splits(name)
            if len(sharing[measure]) >= MIN_ENTITIES
            and any(c.isalpha() for c in entity)
            and not _MEASURE_WORDS.fullmatch(entity.lower())
        ]
        if shared:  # the measure most entities share; on a tie, the shorter entity
            entity, _ = max(shared, key=lambda split: len(sharing[split[1]]))
            found[name] = entity
    return found if len(set(found.values())) >= MIN_ENTITIES else {}


def assign_components(parsed: ParsedMetrics, file_name: str) -> None:
    """Set `component` on the series whose file layout names one."""
    unlabelled = [s for s in parsed.series if not _LABELLED.search(s.name)]
    if not unlabelled:
        return
    if parsed.format.endswith("-wide"):
        entities = column_entities([s.name for s in unlabelled])
        for series in unlabelled:
            series.component = entities.get(series.name)
    pod = pod_named_in(file_name)
    if pod is not None:
        for series in unlabelled:
            series.component = series.component or pod
