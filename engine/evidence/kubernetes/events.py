"""Event rows (`kubectl get events`, `kubectl events`, a describe Events block) -> KubeEvent.

Columns differ between kubectl versions and flags (TYPE/REASON/AGE/FROM/MESSAGE in describe;
LAST SEEN/TYPE/REASON/OBJECT/MESSAGE by default; -o wide adds SUBOBJECT, SOURCE, COUNT...),
so cells are looked up by any of their names.
"""

from __future__ import annotations

import re

from engine.evidence.kubernetes.report import KubeEvent
from engine.evidence.kubernetes.tables import Row
from engine.evidence.timestamps import parse_timestamp_value

# '3m30s (x49 over 13m)': the event was seen 49 times, last 3m30s ago.
_REPEATED = re.compile(r"^(?P<age>\S+)\s*\(x(?P<count>\d+) over (?P<span>[^)]+)\)$")
EVENT_COLUMNS = ("REASON", "MESSAGE")


def is_event_table(columns: list[str]) -> bool:
    upper = {c.upper() for c in columns}
    return all(c in upper for c in EVENT_COLUMNS)


def _upper(row: Row) -> Row:
    return Row({k.upper(): v for k, v in row.cells.items()}, row.line, row.text)


def _object(row: Row) -> str | None:
    named = row.get("OBJECT", "INVOLVED OBJECT")
    if named:
        return _lower_kind(named) if "/" in named else named
    kind, name = row.get("KIND"), row.get("NAME")
    if kind and name:  # old -o wide: NAME is 'pod-name.17f3a…', the event's own name
        return f"{kind.lower()}/{name.rsplit('.', 1)[0] if '.' in name else name}"
    return None


def _lower_kind(ref: str) -> str:
    kind, _, name = ref.partition("/")
    return f"{kind.lower()}/{name}"


def event_from_row(row: Row, *, about: str | None = None) -> KubeEvent | None:
    """The event of one row; `about` names the described object for a describe block."""
    row = _upper(row)
    reason = row.get("REASON")
    if not reason:
        return None
    age = row.get("LAST SEEN", "AGE")
    count: int | None = None
    if age:
        repeated = _REPEATED.match(age)
        if repeated:
            age, count = repeated.group("age"), int(repeated.group("count"))
    written = row.get("COUNT")
    if count is None and written and written.isdigit():
        count = int(written)
    ts = parse_timestamp_value(age) if age and age[:1].isdigit() and "-" in age else None
    return KubeEvent(
        type=row.get("TYPE"),
        reason=reason,
        object=_object(row) or about,
        message=row.cells.get("MESSAGE", "").strip(),
        count=count,
        age=age if ts is None else None,
        line=row.line,
        source=row.get("FROM", "SOURCE"),
        ts=ts,
    )
