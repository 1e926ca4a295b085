"""Call-graph tables -> CallGraphReport.

Recognised from the header, whatever the tool: one column says where a call comes from
(source, src, from, caller, client, parent, upstream) and another where it goes (target,
dst, to, callee, server, child, downstream, destination), and their cells are names, not
numbers. An optional numeric column (weight, calls, count) is kept as the edge's weight.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re

from engine.core.errors import EvidenceRejected
from engine.core.redact import Redactor
from engine.evidence.decode import decode_text
from engine.evidence.topology.report import CallGraphReport, GraphEdge

_FROM = frozenset({"source", "src", "from", "caller", "client", "parent", "upstream"})
_TO = frozenset({"target", "dst", "to", "callee", "server", "child", "downstream", "destination"})
_WEIGHT = frozenset({"weight", "calls", "count", "value", "requests"})
_SUFFIXES = re.compile(r"[\s_.-]*(?:service|svc|name|node|id)?$")
MAX_EDGES = 10_000
_SNIFF_ROWS = 20


def _role(header: str) -> str:
    """'Source' / 'caller_service' / 'parent-name' -> 'source' / 'caller' / 'parent'."""
    word = header.strip().strip("\"'").lower()
    return _SUFFIXES.sub("", word) or word


def _columns(header: list[str]) -> tuple[int, int, int | None] | None:
    roles = [_role(h) for h in header]
    caller = next((j for j, r in enumerate(roles) if r in _FROM), None)
    callee = next((j for j, r in enumerate(roles) if r in _TO), None)
    if caller is None or callee is None:
        return None
    weight = next((j for j, r in enumerate(roles) if r in _WEIGHT), None)
    return caller, callee, weight


def _is_name(cell: str) -> bool:
    """A component, host or address: one word that is not a number."""
    cell = cell.strip()
    if not cell or " " in cell:
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False


def _rows(text: str) -> tuple[list[str], list[list[str]]]:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return [], []
    delimiter = "\t" if lines[0].count("\t") > lines[0].count(",") else ","
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    return rows[0], rows[1:]


def looks_like_call_graph(name: str, text: str) -> bool:
    head = text[:65536]
    if head.lstrip()[:1] in ("{", "[", "<"):
        return False
    try:
        header, rows = _rows("\n".join(head.splitlines()[: _SNIFF_ROWS + 1]))
    except csv.Error:
        return False
    columns = _columns(header) if 2 <= len(header) <= 8 else None
    if columns is None or not rows:
        return False
    caller, callee, _ = columns
    named = [r for r in rows if len(r) > max(caller, callee) and _is_name(r[caller])]
    return len(named) >= 0.8 * len(rows) and all(_is_name(r[callee]) for r in named)


def _weight(row: list[str], column: int | None) -> float | None:
    if column is None or column >= len(row):
        return None
    try:
        return float(row[column])
    except ValueError:
        return None


def analyze_call_graph(name: str, data: bytes, redactor: Redactor | None = None) -> CallGraphReport:
    decoded = decode_text(data)
    text = decoded.text
    if redactor is not None:  # names only, but a hostile table can carry anything
        text = redactor.redact(text).text
    try:
        header, rows = _rows(text)
    except csv.Error as exc:
        raise EvidenceRejected(f"The call graph could not be read as CSV ({exc}).") from None
    columns = _columns(header)
    if columns is None:
        raise EvidenceRejected("The table has no caller and callee columns (source, target).")
    caller, callee, weight = columns
    edges: dict[tuple[str, str], GraphEdge] = {}
    skipped = 0
    for row in rows:
        if len(row) <= max(caller, callee) or not (_is_name(row[caller]) and _is_name(row[callee])):
            skipped += 1
            continue
        key = (row[caller].strip(), row[callee].strip())
        if key not in edges and len(edges) < MAX_EDGES:
            edges[key] = GraphEdge(caller=key[0], callee=key[1], weight=_weight(row, weight))
    if not edges:
        raise EvidenceRejected("The call graph has no rows naming a caller and a callee.")
    notes = list(decoded.notes)
    if skipped:
        notes.append(f"{skipped:,} rows without a caller and a callee name were skipped")
    names = sorted({n for e in edges.values() for n in (e.caller, e.callee)})
    return CallGraphReport(
        name=name,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        edges=list(edges.values()),
        components=names,
        notes=notes,
    )
