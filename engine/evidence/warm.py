"""Imported by the readers' fork server only (engine/evidence/isolated.py): it reads a tiny
file of every kind once, so that each child forked from the server starts with the regular
expressions compiled and numpy initialised, instead of paying for both on every file."""

from __future__ import annotations

import gc

from engine.evidence.analyze import analyze

_SAMPLES = {
    "warm.log": b"2026-11-21T14:00:00Z ERROR api: upstream db-1:5432 timed out after 30ms\n" * 3,
    "warm.csv": b"time,latency_ms\n2026-11-21T14:00:00Z,1\n2026-11-21T14:01:00Z,2\n"
    b"2026-11-21T14:02:00Z,3\n",
    "warm.yaml": b"replicas: 3\nimage: shop/cart:1.4\npassword: example\n",
    "warm.json": b'{"data": [{"traceID": "t1", "spans": [{"traceID": "t1", "spanID": "a", '
    b'"operationName": "GET /", "startTime": 1700000000000000, "duration": 10, '
    b'"processID": "p1", "references": []}], "processes": {"p1": {"serviceName": "api"}}}]}',
}

for _name, _data in _SAMPLES.items():
    analyze(_name, _data)

# Everything the server holds now is shared with each child until one of them writes to it.
# A full garbage collection in a child writes to every object it traverses (its GC header),
# which copies each of their pages into the child: frozen objects are never traversed.
gc.collect()
gc.freeze()
