"""`kubectl get --no-headers` rows (what `kubectl get … | grep x` leaves) -> table rows.

Without a header the kind is told from the shape of the row: a pod row has READY 'n/m',
a status word, a restart count and an age; a Deployment row READY, UP-TO-DATE, AVAILABLE,
AGE; a StatefulSet row READY then AGE; a Node row STATUS, ROLES, AGE, VERSION.
"""

from __future__ import annotations

import re

from engine.evidence.kubernetes.tables import Row

_NAME = r"[a-z0-9][-a-z0-9._]*"
_AGE = r"(?:\d+[smhdy])+|<unknown>"
_NS = rf"(?:(?P<ns>{_NAME})\s+)?(?P<name>{_NAME})\s+"
_WIDE = r"(?:\s+(?P<containers>\S+)\s+(?P<images>\S+))?"
_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "Pod",
        re.compile(
            _NS + r"(?P<ready>\d+/\d+)\s+(?P<status>[A-Za-z][\w:]*)\s+"
            r"(?P<restarts>\d+(?: \([^)]*\))?)\s+(?P<age>" + _AGE + r")"
            r"(?:\s+(?P<ip>\S+)\s+(?P<node>\S+))?(?:\s|$)"
        ),
    ),
    (
        "Deployment",
        re.compile(
            _NS + r"(?P<ready>\d+/\d+)\s+\d+\s+\d+\s+(?P<age>" + _AGE + r")" + _WIDE + r"(?:\s|$)"
        ),
    ),
    (
        "StatefulSet",
        re.compile(_NS + r"(?P<ready>\d+/\d+)\s+(?P<age>" + _AGE + r")" + _WIDE + r"(?:\s|$)"),
    ),
    (
        "Node",
        re.compile(
            r"(?P<name>" + _NAME + r")\s+(?P<status>(?:Not)?Ready\S*)\s+\S+\s+"
            r"(?P<age>" + _AGE + r")\s+v\d"
        ),
    ),
)
_CELLS = {
    "ns": "NAMESPACE",
    "name": "NAME",
    "ready": "READY",
    "status": "STATUS",
    "restarts": "RESTARTS",
    "age": "AGE",
    "node": "NODE",
    "images": "IMAGES",
}


def shape_of(line: str) -> tuple[str, Row] | None:
    """(kind, row) of a header-less row, or None when it has no kubectl shape."""
    for kind, pattern in _SHAPES:
        match = pattern.match(line.strip())
        if match:
            groups = match.groupdict()
            cells = {_CELLS[k]: v for k, v in groups.items() if k in _CELLS and v}
            return kind, Row(cells, 0, line.strip())
    return None


def headerless_rows(lines: list[str]) -> list[tuple[str, Row]]:
    """The rows of a file that is only header-less kubectl rows (None of them otherwise)."""
    found = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        shaped = shape_of(line)
        if shaped is None:
            return []
        kind, row = shaped
        row.line = number
        found.append((kind, row))
    return found
