"""Which component names in a case are one service, and which are its dependencies.

Files name the same thing differently (a StatefulSet replica "payments-db-1" in one log,
its service "payments-db" in another) and datastores by convention ("<service>-db"); this
settles the names and the edges they imply before ranking, so the ranking in
`suspect_rank` works on one name per component.
"""

from __future__ import annotations

import re
from collections import defaultdict

from engine.evidence.components import replica_base
from engine.evidence.suspects.state import CaseEvidence

# '<service>-db', '<service>-cache'...: by convention the service's own datastore.
_DATASTORE = re.compile(
    r"^(.+)-(?:db|database|cache|redis|memcached?|postgres|postgresql|pg|mysql|mariadb|mongo"
    r"|mongodb|kafka|queue|mq|rabbitmq|es|elasticsearch|store|storage)$"
)


def reconcile(case: CaseEvidence) -> None:
    """One StatefulSet replica ('payments-db-1') is its service ('payments-db') when the
    service is named elsewhere; several replicas stay apart (one broker can be the one
    down) and the service depends on each. '<service>-db' is a dependency of <service>."""
    present = set(case.components) | case.known | set(case.depends_on)
    present |= {c for callees in case.depends_on.values() for c in callees}
    replicas: dict[str, list[str]] = defaultdict(list)
    for name in sorted(case.components):
        base = replica_base(name)
        if base is not None and base in present:
            replicas[base].append(name)
    for base, names in replicas.items():
        if len(names) > 1:
            case.depends_on[base].update(names)
            continue
        [replica] = names
        _merge(case, replica, base)
        present.discard(replica)
    for name in present:
        service = _DATASTORE.match(replica_base(name) or name)
        if service and service.group(1) in present and service.group(1) != name:
            case.depends_on[service.group(1)].add(name)


def _merge(case: CaseEvidence, replica: str, base: str) -> None:
    ev = case.components.pop(replica)
    into = case.components[base]
    into.weight += ev.weight
    into.blame += ev.blame
    into.reasons.extend((w, f"{replica}: {text}") for w, text in ev.reasons)
    into.sources |= ev.sources
    if ev.first is not None and (into.first is None or ev.first < into.first):
        into.first = ev.first
    for callees in case.depends_on.values():
        if replica in callees:
            callees.discard(replica)
            callees.add(base)
    case.depends_on[base] |= case.depends_on.pop(replica, set()) - {base}
