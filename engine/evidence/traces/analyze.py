"""One uploaded trace export -> TraceReport: services, calls, slow paths and suspects.

Reads Jaeger JSON (UI export or API answer), Zipkin JSON (v2, v1 leniently), OTLP JSON
(collector file exporter, Tempo) and CSV/TSV span tables, recognised by content. The parts:
parse / csv_spans (csv_columns, csv_units) read spans, graph builds each trace's tree, stats
and suspects aggregate, summary puts the report into words.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from engine.core.errors import EvidenceRejected
from engine.core.redact import Redactor
from engine.core.wording import plural
from engine.evidence.bounded import TooComplex, load_json
from engine.evidence.decode import decode_text
from engine.evidence.traces.csv_spans import looks_like_span_table, parse_span_table
from engine.evidence.traces.graph import TraceTree, build_tree
from engine.evidence.traces.parse import Parsed, Span, parse_json_traces
from engine.evidence.traces.report import (
    CallEdge,
    OperationStats,
    ServiceStats,
    SlowTrace,
    TraceReport,
    TraceSuspect,
)
from engine.evidence.traces.stats import (
    Tally,
    attribute_peers,
    call_edges,
    operation_stats,
    service_stats,
    slow_traces,
)
from engine.evidence.traces.summary import describe_traces, summarize_traces
from engine.evidence.traces.suspects import rank_suspects
from engine.evidence.traces.tree_text import looks_like_trace_tree, parse_trace_tree

__all__ = [
    "CallEdge",
    "OperationStats",
    "ServiceStats",
    "SlowTrace",
    "TraceReport",
    "TraceSuspect",
    "analyze_traces",
    "describe_traces",
    "looks_like_traces",
    "summarize_traces",
]

_SAMPLE = 64 * 1024
# Keys only a trace export has. Log lines carrying traceId/spanId for correlation have none
# of them, so a JSON-lines log is never taken for traces.
_TRACE_KEYS = re.compile(
    r'"(?:resourceSpans|resource_spans|scopeSpans|scope_spans|instrumentationLibrarySpans'
    r'|operationName|localEndpoint|remoteEndpoint|binaryAnnotations)"\s*:'
)
# Protect memory on huge exports; the first spans still make a fair picture.
MAX_SPANS = 500_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FORMATS = (
    "a Jaeger, Zipkin or OTLP JSON export, or a CSV with trace_id, span_id and duration columns"
)
_JSON_START = re.compile(r"\s*[\[{]")


def looks_like_traces(name: str, text: str) -> bool:
    """Whether `text` (the start of a decoded file is enough) is a trace export. Decided by
    content alone; `name` is taken for symmetry with the other detectors."""
    head = text[:_SAMPLE].lstrip("\ufeff \t\r\n")
    if head[:1] in ("{", "["):
        if _TRACE_KEYS.search(head):
            return True
        # A bare Zipkin span list; JSON-lines logs start with "{", never with "[".
        return head[:1] == "[" and all(key in head for key in ('"traceId"', '"id"', '"duration"'))
    return looks_like_span_table(head) or looks_like_trace_tree(head)


def _json_lines(text: str) -> list[object] | None:
    """One document per line (the OTel collector's file exporter); None if a line is not JSON."""
    try:
        return [load_json(line) for line in text.split("\n") if line.strip()]
    except ValueError:  # not JSON, or too deep
        return None


def _parse(text: str) -> tuple[Parsed, list[str]]:
    if _JSON_START.match(text):
        try:
            value: object = load_json(text)
        except TooComplex as error:
            raise EvidenceRejected(f"The file is {error}, so its traces cannot be read.") from None
        except json.JSONDecodeError as error:
            lines = _json_lines(text)
            if lines is None:
                raise EvidenceRejected(
                    f"The file is not valid JSON ({error.msg} at line {error.lineno}, column "
                    f"{error.colno}), so its traces cannot be read."
                ) from None
            value = lines
        parsed = parse_json_traces(value)
        if parsed is None:
            raise EvidenceRejected(
                f"The JSON holds no traces we can read; please upload {_FORMATS}."
            )
        return parsed, []
    table = parse_span_table(text)
    if table is None:
        tree = parse_trace_tree(text)
        if tree is None:
            raise EvidenceRejected(f"The file is not a trace export; please upload {_FORMATS}.")
        return tree, ["a rendered trace tree: nesting and durations as shown, no start times"]
    return table


def _redact_operations(spans: list[Span], redactor: Redactor) -> Counter[str]:
    """Operation names can hold URLs with tokens in them; each distinct name is redacted once."""
    masked: Counter[str] = Counter()
    seen: dict[str, str] = {}
    for span in spans:
        clean = seen.get(span.operation)
        if clean is None:
            redacted = redactor.redact(span.operation)
            masked.update(redacted.counts)
            clean = seen[span.operation] = redacted.text
        span.operation = clean
    return masked


def _time_range(spans: list[Span]) -> tuple[datetime | None, datetime | None]:
    starts = [span.start_us for span in spans if span.start_us is not None]
    if not starts:
        return None, None
    ends = [span.start_us + span.duration_us for span in spans if span.start_us is not None]
    try:
        return (
            _EPOCH + timedelta(microseconds=min(starts)),
            _EPOCH + timedelta(microseconds=max(ends)),
        )
    except OverflowError:
        return None, None


def _notes(
    parsed: Parsed, trees: list[TraceTree], peers: tuple[set[str], set[str]], cut: int
) -> list[str]:
    def total(field: str) -> int:
        return sum(getattr(tree, field) for tree in trees)

    # (count, what one span did, what several did)
    counted = (
        (cut, f"was beyond the first {MAX_SPANS:,} and not read", "were beyond the first "
         f"{MAX_SPANS:,} and not read"),
        (parsed.skipped, "had no trace id, span id or duration and was skipped",
         "had no trace id, span id or duration and were skipped"),
        (total("duplicates"), "was an exact repeat and was dropped",
         "were exact repeats and were dropped"),
        (total("renamed"), "shared its id with another span; both were kept",
         "shared their id with another span; both were kept"),
        (total("orphans"), "names a parent that is not in the file, so it was read as a root",
         "name a parent that is not in the file, so they were read as roots"),
        (total("skewed"), "started before its parent (host clocks disagree) and was moved to "
         "start with it", "started before their parent (host clocks disagree) and were moved "
         "to start with it"),
    )  # fmt: skip
    notes = [f"{plural(n, 'span')} {one if n == 1 else many}" for n, one, many in counted if n]
    if loops := total("cycles"):
        cut_at = "was" if loops == 1 else "were each"
        notes.append(
            f"{plural(loops, 'loop')} of spans naming each other as parent {cut_at} cut at "
            "the earliest span"
        )
    uninstrumented, unanswered = peers
    if uninstrumented:
        notes.append(
            f"client calls to {', '.join(sorted(uninstrumented))} (no spans of their own in the "
            "file) are counted as theirs"
        )
    if unanswered:
        notes.append(
            f"client calls to {', '.join(sorted(unanswered))} with no span of the callee under "
            "them are counted as the callee's"
        )
    return notes


def analyze_traces(name: str, data: bytes, *, redactor: Redactor | None = None) -> TraceReport:
    """Analyze one uploaded trace export; raises EvidenceRejected when it cannot be read.

    Operation names are redacted (`redactor`, default settings): they often are URLs.
    """
    decoded = decode_text(data)
    parsed, notes = _parse(decoded.text)
    if not parsed.spans and not parsed.skipped and not _JSON_START.match(decoded.text):
        # Exports often write a table per outcome or per run; an empty one is no fault.
        raise EvidenceRejected(f"The {parsed.format} file has its header but no spans.")
    if not parsed.spans:
        raise EvidenceRejected(
            f"The {parsed.format} file holds no usable spans (each needs a trace id, a span id "
            "and a duration)."
        )
    cut = max(0, len(parsed.spans) - MAX_SPANS)
    spans = parsed.spans[:MAX_SPANS]
    masked = _redact_operations(spans, redactor or Redactor())
    by_trace: defaultdict[str, list[Span]] = defaultdict(list)
    for span in spans:
        by_trace[span.trace_id].append(span)
    trees = [build_tree(trace_spans) for trace_spans in by_trace.values()]
    peers = attribute_peers(trees)
    tally = Tally()
    for trace_id, tree in zip(by_trace, trees, strict=True):
        tally.add(trace_id, tree)
    first, last = _time_range(spans)
    return TraceReport(
        name=name,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        format=parsed.format,
        trace_count=len(trees),
        span_count=sum(len(tree.spans) for tree in trees),
        first_ts=first,
        last_ts=last,
        services=service_stats(tally),
        operations=operation_stats(tally),
        edges=call_edges(tally),
        slowest=slow_traces(tally),
        suspects=rank_suspects(tally),
        notes=[*decoded.notes, *notes, *_notes(parsed, trees, peers, cut)],
        redactions=dict(masked),
    )
