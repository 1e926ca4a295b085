"""Prometheus tools, read-only: instant and range queries, series and labels, alerts and rules.

Every answer names its source and cites its PromQL (what a person pastes into Prometheus to
see the same). A range answer also gives the URL of the graph, and the query_range JSON as
Prometheus returned it as evidence: the case reads it like an uploaded export (spikes, level
shifts, suspects by label). Texts are short; the evidence holds every point.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from engine.tools.base import Tool, ToolAnswer, ToolError
from engine.tools.http_json import endpoint, get_json
from engine.tools.sources import Source, pick_source

KIND = "prometheus"
TARGET_POINTS = 300  # a chosen step gives at most this many points per series
MAX_POINTS = 11_000  # Prometheus refuses more points per series than this
MAX_RANGE_SERIES = 10  # shown in a range answer's text; the evidence keeps all
MAX_INSTANT_SERIES = 20
MAX_SERIES_LISTED = 50
MAX_VALUES_LISTED = 200
MAX_ALERTS = 30
_ANNOTATION_CHARS = 200
_NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"


# --- time -----------------------------------------------------------------------------------


def parse_duration(text: str) -> float | None:
    """Seconds in `30m`, `1h30m`, `90s`, `2d`; None when `text` is not a duration."""
    text = text.strip()
    if not text or _DURATION.sub("", text):
        return None
    return sum(float(n) * _UNITS[unit] for n, unit in _DURATION.findall(text))


def parse_time(text: str, now: float, *, what: str) -> float:
    """Epoch seconds of `now`, a relative `30m` / `now-30m` (that long before now), an
    RFC3339 time (UTC when it has no offset) or epoch seconds."""
    raw = text.strip()
    if raw.lower() == "now":
        return now
    relative = parse_duration(raw[4:] if raw.lower().startswith("now-") else raw)
    if relative is not None:
        return now - relative
    if _NUMBER.fullmatch(raw):
        return float(raw)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ToolError(
            f"{what} {text!r} is not a time: use RFC3339 (2024-05-01T12:00:00Z), "
            "a duration back from now (30m, 2h, 1d) or `now`"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def shown_time(epoch: float, *, with_date: bool = True) -> str:
    return _utc(epoch).strftime("%Y-%m-%d %H:%M:%S UTC" if with_date else "%H:%M:%S")


def choose_step(span_s: float) -> int:
    """The smallest round step that keeps a span under TARGET_POINTS points."""
    wanted = span_s / TARGET_POINTS
    for step in _NICE_STEPS:
        if step >= wanted:
            return step
    return math.ceil(wanted)


# --- words for numbers and label sets -------------------------------------------------------


def number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.4g}"


def _float(raw: Any) -> float:
    try:
        return float(raw)
    except (TypeError, ValueError):
        return math.nan


def labels_text(metric: dict[str, Any]) -> str:
    """`name{a="1", b="2"}` as PromQL writes a series; `{}` for a series without labels."""
    name = str(metric.get("__name__", ""))
    labels = ", ".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{name}{{{labels}}}" if labels or not name else name


def _more(total: int, shown: int, what: str) -> list[str]:
    return [f"({total - shown:,} more {what} not shown)"] if total > shown else []


# --- answers --------------------------------------------------------------------------------


def _data(reply_data: Any, source: Source) -> tuple[Any, list[str]]:
    """`data` of a Prometheus API answer and its warnings; its error in words otherwise."""
    if not isinstance(reply_data, dict):
        raise ToolError(f"{source.name} did not answer like the Prometheus API")
    if reply_data.get("status") != "success":
        kind = reply_data.get("errorType", "error")
        raise ToolError(f"{source.name}: {kind}: {reply_data.get('error', 'no message')}")
    warnings = [str(w) for w in reply_data.get("warnings") or []]
    return reply_data.get("data"), warnings


def graph_url(source: Source, promql: str, *, end: float, span_s: float, step: int) -> str:
    """The Prometheus graph page of the query over the same range."""
    return str(
        endpoint(
            source,
            "graph",
            {
                "g0.expr": promql,
                "g0.tab": "0",
                "g0.range_input": f"{math.ceil(span_s)}s",
                "g0.end_input": _utc(end).strftime("%Y-%m-%d %H:%M:%S"),
                "g0.step_input": str(step),
            },
        )
    )


def cite(source: Source, promql: str, url: str | None = None) -> str:
    """What a run cites as its query: the PromQL, where it ran and, when there is one, the
    page that shows it."""
    return f"{promql}  [on {source.name}: {url}]" if url else f"{promql}  [on {source.name}]"


def evidence_name(source: Source, promql: str) -> str:
    """`promql-http_requests_total-1a2b3c.json`: the query's first metric, and a short hash
    so two queries of one case never share a file name."""
    metric = first_metric(promql) or "query"
    digest = hashlib.sha256(f"{source.name}\n{promql}".encode()).hexdigest()[:6]
    return f"promql-{metric}-{digest}.json"


_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless"}
    | {"offset", "bool", "inf", "nan"}
)


def first_metric(promql: str) -> str | None:
    """The first metric name a PromQL expression reads (not a function, label or keyword)."""
    text = re.sub(r"\{[^}]*\}", " ", promql)  # matchers: label names and values
    text = re.sub(r'"[^"]*"|\'[^\']*\'', " ", text)  # strings
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges: [5m], [1h:1m]
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        rest = text[m.end() :].lstrip()
        if m.group(0).lower() not in _KEYWORDS and not rest.startswith("("):
            return m.group(0).replace(":", "_")
    return None


def _moved_most(points: Sequence[tuple[float, float]]) -> tuple[float, float, float] | None:
    """(time, before, after) of the largest change between two consecutive points."""
    best: tuple[float, float, float] | None = None
    for (_, before), (ts, after) in itertools.pairwise(points):
        if not (math.isfinite(before) and math.isfinite(after)):
            continue
        if best is None or abs(after - before) > abs(best[2] - best[1]):
            best = (ts, before, after)
    return best


def _range_line(metric: dict[str, Any], points: list[tuple[float, float]], same_day: bool) -> str:
    finite = [v for _, v in points if math.isfinite(v)]
    if not finite:
        return f"{labels_text(metric)}: {len(points)} points, none a number"
    line = (
        f"{labels_text(metric)}: min {number(min(finite))}, max {number(max(finite))}, "
        f"last {number(points[-1][1])}"
    )
    moved = _moved_most(points)
    if moved is not None and moved[1] != moved[2]:
        ts, before, after = moved
        line += (
            f"; moved most at {shown_time(ts, with_date=not same_day)} "
            f"({number(before)} → {number(after)})"
        )
    return line


def _move_score(points: list[tuple[float, float]]) -> float:
    """How far a series moved against its own size: the most changed are shown first."""
    moved = _moved_most(points)
    if moved is None:
        return 0.0
    size = max((abs(v) for _, v in points if math.isfinite(v)), default=0.0)
    return abs(moved[2] - moved[1]) / size if size else 0.0


def range_text(
    source: Source, promql: str, result: list[dict[str, Any]], start: float, end: float, step: int
) -> str:
    same_day = _utc(start).date() == _utc(end).date()
    head = [
        f"PromQL on {source.name}: {promql}",
        f"{shown_time(start)} → {shown_time(end, with_date=not same_day)}, step {step}s: "
        f"{len(result):,} series",
    ]
    series = []
    for item in result:
        points = [(_float(t), _float(v)) for t, v in item.get("values") or []]
        if points:
            series.append((item.get("metric") or {}, points))
    series.sort(key=lambda s: _move_score(s[1]), reverse=True)
    lines = [_range_line(metric, points, same_day) for metric, points in series[:MAX_RANGE_SERIES]]
    return "\n".join(head + lines + _more(len(series), MAX_RANGE_SERIES, "series"))


def instant_text(source: Source, promql: str, data: dict[str, Any], at: float) -> str:
    head = f"PromQL on {source.name} at {shown_time(at)}: {promql}"
    kind, result = data.get("resultType"), data.get("result")
    if kind in ("scalar", "string") and isinstance(result, list) and len(result) == 2:
        return f"{head}\n{kind}: {result[1]}"
    if not isinstance(result, list) or not result:
        return f"{head}\nno series matched"
    if kind == "matrix":  # a range selector, `metric[5m]`: its raw samples
        lines = []
        for item in result[:MAX_INSTANT_SERIES]:
            values = item.get("values") or []
            last = number(_float(values[-1][1])) if values else "-"
            lines.append(
                f"{labels_text(item.get('metric') or {})}: {len(values)} samples, last {last}"
            )
    else:
        ranked = sorted(
            result,
            key=lambda item: _float((item.get("value") or [0, "nan"])[1]),
            reverse=True,
        )
        lines = [
            f"{labels_text(item.get('metric') or {})} {number(_float(item['value'][1]))}"
            for item in ranked[:MAX_INSTANT_SERIES]
            if isinstance(item.get("value"), list) and len(item["value"]) == 2
        ]
    return "\n".join(
        [head, f"{len(result):,} series:", *lines, *_more(len(result), len(lines), "series")]
    )


# --- tools ----------------------------------------------------------------------------------

_SOURCE = Field(default=None, description="which Prometheus source; only needed when several")
_PROMQL = Field(min_length=1, max_length=4000, description="a PromQL expression")


class _PrometheusTool:
    def __init__(self, sources: list[Source]) -> None:
        self.sources = sources

    def _source(self, name: str | None) -> Source:
        return pick_source(self.sources, name, KIND)


class QueryParameters(BaseModel):
    query: str = _PROMQL
    time: str | None = Field(
        default=None,
        description="when to evaluate: RFC3339, a duration back from now (30m) or now (default)",
    )
    source: str | None = _SOURCE


class PrometheusQuery(_PrometheusTool):
    name: ClassVar[str] = "prometheus_query"
    description: ClassVar[str] = (
        "Evaluate a PromQL expression at one instant (now by default): the value of each series."
    )
    parameters: ClassVar[type[BaseModel]] = QueryParameters

    async def answer(self, arguments: QueryParameters) -> ToolAnswer:
        source = self._source(arguments.source)
        at = parse_time(arguments.time or "now", time.time(), what="time")
        reply = await get_json(
            source, "api/v1/query", {"query": arguments.query, "time": f"{at:.3f}"}
        )
        data, warnings = _data(reply.data, source)
        text = instant_text(source, arguments.query, data if isinstance(data, dict) else {}, at)
        page = {"g0.expr": arguments.query, "g0.tab": "1"}
        if arguments.time:
            page["g0.moment_input"] = _utc(at).strftime("%Y-%m-%d %H:%M:%S")
        url = str(endpoint(source, "graph", page))
        return ToolAnswer(text=_warned(text, warnings), query=cite(source, arguments.query, url))


class RangeParameters(BaseModel):
    query: str = _PROMQL
    start: str = Field(
        default="1h", description="RFC3339, or a duration back from now (30m, 6h, 2d)"
    )
    end: str = Field(default="now", description="RFC3339, a duration back from now, or now")
    step: str | None = Field(
        default=None,
        description="seconds or a duration (15s, 1m); chosen for about 300 points when left out",
    )
    source: str | None = _SOURCE


class PrometheusRange(_PrometheusTool):
    name: ClassVar[str] = "prometheus_range"
    description: ClassVar[str] = (
        "Run a PromQL expression over a time range: per series its min, max, last value and "
        "when it moved most. The full result joins the case as evidence (spikes, level shifts)."
    )
    parameters: ClassVar[type[BaseModel]] = RangeParameters

    async def answer(self, arguments: RangeParameters) -> ToolAnswer:
        source = self._source(arguments.source)
        now = time.time()
        start = parse_time(arguments.start, now, what="start")
        end = parse_time(arguments.end, now, what="end")
        if end <= start:
            raise ToolError(
                f"the range ends ({shown_time(end)}) before it starts ({shown_time(start)})"
            )
        span = end - start
        step = _step(arguments.step, span)
        reply = await get_json(
            source,
            "api/v1/query_range",
            {
                "query": arguments.query,
                "start": f"{start:.3f}",
                "end": f"{end:.3f}",
                "step": str(step),
            },
        )
        data, warnings = _data(reply.data, source)
        result = data.get("result") if isinstance(data, dict) else None
        if not isinstance(result, list) or data.get("resultType") != "matrix":
            raise ToolError(f"{source.name} did not return series for {arguments.query}")
        url = graph_url(source, arguments.query, end=end, span_s=span, step=step)
        query = cite(source, arguments.query, url)
        text = _warned(range_text(source, arguments.query, result, start, end, step), warnings)
        if not any(item.get("values") for item in result):
            return ToolAnswer(text=text + "\nno series had points in this range", query=query)
        return ToolAnswer(
            text=text,
            query=query,
            evidence_name=evidence_name(source, arguments.query),
            evidence=reply.body,
        )


def _step(raw: str | None, span: float) -> int:
    if raw is None:
        return choose_step(span)
    seconds = parse_duration(raw)
    if seconds is None and _NUMBER.fullmatch(raw.strip()):
        seconds = float(raw)
    if seconds is None or seconds < 1:
        raise ToolError(f"step {raw!r} is not a duration of at least 1s (15s, 1m, 60)")
    points = span / seconds
    if points > MAX_POINTS:
        raise ToolError(
            f"a step of {raw} gives {points:,.0f} points per series; Prometheus allows "
            f"{MAX_POINTS:,}: use a larger step or a shorter range"
        )
    return math.ceil(seconds)


def _warned(text: str, warnings: list[str]) -> str:
    return text + "".join(f"\nwarning from Prometheus: {w}" for w in warnings)


class SeriesParameters(BaseModel):
    match: str = Field(
        min_length=1,
        max_length=2000,
        description='a series selector, e.g. http_requests_total{job="api"} or {__name__=~"up"}',
    )
    start: str = Field(default="1h", description="RFC3339 or a duration back from now")
    end: str = Field(default="now")
    source: str | None = _SOURCE


class PrometheusSeries(_PrometheusTool):
    name: ClassVar[str] = "prometheus_series"
    description: ClassVar[str] = (
        "List the series (metric name and labels) that a selector matches in a time range."
    )
    parameters: ClassVar[type[BaseModel]] = SeriesParameters

    async def answer(self, arguments: SeriesParameters) -> ToolAnswer:
        source = self._source(arguments.source)
        now = time.time()
        start = parse_time(arguments.start, now, what="start")
        end = parse_time(arguments.end, now, what="end")
        reply = await get_json(
            source,
            "api/v1/series",
            [("match[]", arguments.match), ("start", f"{start:.3f}"), ("end", f"{end:.3f}")],
        )
        data, warnings = _data(reply.data, source)
        found = [s for s in data if isinstance(s, dict)] if isinstance(data, list) else []
        lines = [
            f"Series on {source.name} matching {arguments.match} since {shown_time(start)}: "
            f"{len(found):,}",
            *sorted(labels_text(s) for s in found)[:MAX_SERIES_LISTED],
            *_more(len(found), MAX_SERIES_LISTED, "series"),
        ]
        return ToolAnswer(
            text=_warned("\n".join(lines), warnings), query=cite(source, arguments.match)
        )


class LabelsParameters(BaseModel):
    label: str | None = Field(
        default=None,
        pattern=_LABEL_NAME,
        description="a label name: its values are listed; left out: the label names",
    )
    match: str | None = Field(
        default=None, max_length=2000, description="only series this selector matches"
    )
    start: str = Field(default="1h", description="RFC3339 or a duration back from now")
    end: str = Field(default="now")
    source: str | None = _SOURCE


class PrometheusLabels(_PrometheusTool):
    name: ClassVar[str] = "prometheus_labels"
    description: ClassVar[str] = (
        "The values a label takes (e.g. every `service`, every `code`), or the label names "
        "when no label is given; optionally only for series a selector matches."
    )
    parameters: ClassVar[type[BaseModel]] = LabelsParameters

    async def answer(self, arguments: LabelsParameters) -> ToolAnswer:
        source = self._source(arguments.source)
        now = time.time()
        params = [
            ("start", f"{parse_time(arguments.start, now, what='start'):.3f}"),
            ("end", f"{parse_time(arguments.end, now, what='end'):.3f}"),
        ]
        if arguments.match:
            params.append(("match[]", arguments.match))
        label = arguments.label
        path = f"api/v1/label/{label}/values" if label else "api/v1/labels"
        reply = await get_json(source, path, params)
        data, warnings = _data(reply.data, source)
        values = [str(v) for v in data] if isinstance(data, list) else []
        where = f" of series matching {arguments.match}" if arguments.match else ""
        what = f"values of label {label}" if label else "label names"
        shown = ", ".join(values[:MAX_VALUES_LISTED]) or "none"
        text = f"{what.capitalize()}{where} on {source.name} ({len(values):,}): {shown}"
        text += "".join(f" {line}" for line in _more(len(values), MAX_VALUES_LISTED, "values"))
        # The PromQL that shows the same values, for a person to run; the API URL otherwise.
        if label:
            selector = arguments.match or "{" + label + '!=""}'
            query = cite(source, f"group by ({label}) ({selector})")
        else:
            query = cite(source, reply.url)
        return ToolAnswer(text=_warned(text, warnings), query=query)


class AlertsParameters(BaseModel):
    rules: bool = Field(
        default=False, description="also list the alerting rules that are not firing"
    )
    source: str | None = _SOURCE


class PrometheusAlerts(_PrometheusTool):
    name: ClassVar[str] = "prometheus_alerts"
    description: ClassVar[str] = (
        "The alerts Prometheus is firing or about to fire (pending), each with its rule's "
        "PromQL; optionally every alerting rule."
    )
    parameters: ClassVar[type[BaseModel]] = AlertsParameters

    async def answer(self, arguments: AlertsParameters) -> ToolAnswer:
        source = self._source(arguments.source)
        reply = await get_json(source, "api/v1/rules", {"type": "alert"})
        data, warnings = _data(reply.data, source)
        groups = data.get("groups") if isinstance(data, dict) else None
        rules = [
            rule
            for group in groups or []
            for rule in group.get("rules") or []
            if rule.get("type") == "alerting"
        ]
        text = alerts_text(source, rules, time.time(), with_rules=arguments.rules)
        return ToolAnswer(
            text=_warned(text, warnings), query=cite(source, 'ALERTS{alertstate=~"firing|pending"}')
        )


def _annotation(annotations: dict[str, Any]) -> str | None:
    for key in ("summary", "description", "message"):
        if annotations.get(key):
            text = " ".join(str(annotations[key]).split())
            return text if len(text) <= _ANNOTATION_CHARS else text[:_ANNOTATION_CHARS] + " …"
    return None


def _since(raw: Any, now: float) -> str:
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return ""
    ago = max(0, int(now - moment.timestamp()))
    span = (
        f"{ago // 3600}h{ago % 3600 // 60:02d}m" if ago >= 3600 else f"{ago // 60}m{ago % 60:02d}s"
    )
    return f" since {moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC ({span} ago)"


def alerts_text(
    source: Source, rules: list[dict[str, Any]], now: float, *, with_rules: bool
) -> str:
    active = [
        (rule, alert)
        for rule in rules
        for alert in rule.get("alerts") or []
        if alert.get("state") in ("firing", "pending")
    ]
    active.sort(key=lambda ra: (ra[1].get("state") != "firing", str(ra[1].get("activeAt"))))
    firing = sum(1 for _, alert in active if alert.get("state") == "firing")
    lines = [
        f"Alerts on {source.name}: {firing} firing, {len(active) - firing} pending "
        f"({len(rules)} alerting rule{'' if len(rules) == 1 else 's'})"
    ]
    for rule, alert in active[:MAX_ALERTS]:
        labels = {k: v for k, v in (alert.get("labels") or {}).items() if k != "alertname"}
        lines.append(
            f"{str(alert.get('state')).upper()} {rule.get('name')} {labels_text(labels)}"
            f"{_since(alert.get('activeAt'), now)}, value {number(_float(alert.get('value')))}"
        )
        said = _annotation(alert.get("annotations") or {})
        if said:
            lines.append(f"  {said}")
        lines.append(f"  rule: {rule.get('query')} (for {_for(rule)})")
    lines += _more(len(active), MAX_ALERTS, "alerts")
    if with_rules:
        quiet = [rule for rule in rules if rule.get("state") == "inactive"]
        if quiet:
            lines.append("Rules not firing:")
            lines += [f"  {rule.get('name')}: {rule.get('query')}" for rule in quiet[:MAX_ALERTS]]
            lines += _more(len(quiet), MAX_ALERTS, "rules")
    return "\n".join(lines)


def _for(rule: dict[str, Any]) -> str:
    seconds = rule.get("duration")
    return f"{number(_float(seconds))}s" if seconds is not None else "0s"


def prometheus_tools(sources: list[Source]) -> list[Tool]:
    """The Prometheus tools over the Prometheus sources allowed here; none without one."""
    ours = [source for source in sources if source.kind == KIND]
    if not ours:
        return []
    return [
        PrometheusQuery(ours),
        PrometheusRange(ours),
        PrometheusSeries(ours),
        PrometheusLabels(ours),
        PrometheusAlerts(ours),
    ]
