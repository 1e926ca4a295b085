"""Trace trees as people paste them: one span per line, indented under its parent, with its
duration ("└── payments: POST /charge (6512ms)", "  SELECT orders … 6.5s [postgres] ERROR").

Tools and CLIs render traces this way (Tempo and Jaeger CLIs, agents' tool output, a
terminal waterfall). The nesting is the indentation (tree-drawing characters count as
indentation); the duration is the one number with a time unit; the service is what the line
names before a colon or in brackets, else the parent's; an error mark makes the span failed.
Times are unknown, so spans have no start.
"""

from __future__ import annotations

import re

from engine.evidence.traces.parse import Parsed, Span

MIN_SPANS = 3
_TREE = re.compile(r"^[\s│├└┌┬┴┼─|`+\\-]*")
_DURATION = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)\s?(ms|µs|us|ns|s|sec|seconds|milliseconds)(?![\w])", re.I
)
_FACTOR = {"ns": 1e-3, "us": 1.0, "µs": 1.0, "ms": 1e3, "milliseconds": 1e3}
_SERVICE_COLON = re.compile(r"^([A-Za-z][\w.-]{1,62}):\s+(.+)$")
_SERVICE_BRACKET = re.compile(r"\[([A-Za-z][\w.-]{1,62})\]")
_ERROR = re.compile(r"\b(?:error|failed|exception)\b|✗|❌|status[=:]\s*(?:error|5\d\d)", re.I)
_HEADER = re.compile(r"^\s*(?:trace(?:\s*id)?\s*[:=#]|spans?\s*:)", re.I)


def _micros(value: str, unit: str) -> float:
    return float(value) * _FACTOR.get(unit.lower(), 1e6)  # s, sec, seconds


def _span_line(line: str) -> tuple[int, str, float] | None:
    """(depth in characters, the text, duration in µs) of a line that renders a span."""
    prefix = _TREE.match(line)
    depth = prefix.end() if prefix else 0
    text = line[depth:].strip()
    durations = list(_DURATION.finditer(text))
    if not text or not durations or not text[0].isalnum():
        return None
    last = durations[-1]  # a trailing "(6512ms)" is the span's own
    value, unit = last.groups()
    wrapped = text[last.start() - 1 : last.start()] in ("(", "[")
    # Whole seconds alone ("45s") are how kubectl writes ages: a span needs finer units,
    # a decimal, or the brackets renderers put around durations.
    if unit.lower() in ("s", "sec", "seconds") and "." not in value and not wrapped:
        return None
    return depth, text, _micros(value, unit)


def looks_like_trace_tree(text: str) -> bool:
    lines = [line for line in text.split("\n")[:60] if line.strip()]
    spans = [s for s in map(_span_line, lines) if s is not None]
    nested = len({depth for depth, _, _ in spans}) >= 2
    tree_chars = any(ch in text[:4096] for ch in "├└│")
    # Without tree-drawing characters, indentation alone must carry it: most lines spans, and
    # none starting with a date or time (that is a log whose lines mention durations).
    dated = any(line.lstrip()[:1].isdigit() for line in lines)
    plain_tree = not dated and len(spans) >= 0.6 * len(lines)
    return len(spans) >= MIN_SPANS and nested and (tree_chars or plain_tree)


def _naming(text: str, inherited: str) -> tuple[str, str]:
    """(service, operation) of a span line."""
    bare = _DURATION.sub("", text)
    bare = re.sub(r"[()\[\]]\s*[()\[\]]|\(\s*\)", "", bare).strip(" -—:|")
    bracket = _SERVICE_BRACKET.search(text)
    colon = _SERVICE_COLON.match(bare)
    if colon:
        return colon.group(1), colon.group(2).strip() or colon.group(1)
    if bracket:
        return bracket.group(1), _SERVICE_BRACKET.sub("", bare).strip() or bracket.group(1)
    return inherited, bare or inherited


def parse_trace_tree(text: str) -> Parsed | None:
    parsed = Parsed("trace-tree")
    stack: list[tuple[int, Span]] = []
    trace = 0
    for line in text.split("\n"):
        if _HEADER.match(line):
            trace, stack = trace + 1, []  # a new trace starts
            continue
        found = _span_line(line)
        if found is None:
            continue
        depth, body, duration = found
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent = stack[-1][1] if stack else None
        service, operation = _naming(body, parent.service if parent else "unknown")
        operation = _ERROR.sub("", operation).strip(" -—:|") or operation
        span = Span(
            trace_id=f"tree-{trace}",
            span_id=f"{trace}-{len(parsed.spans)}",
            parent_id=parent.span_id if parent else None,
            service=service,
            operation=operation[:200],
            duration_us=duration,
            error=bool(_ERROR.search(body)),
        )
        parsed.spans.append(span)
        stack.append((depth, span))
    return parsed if len(parsed.spans) >= MIN_SPANS else None
