"""Before an alert's case gets its first turn: pull the alert's own series from Prometheus.

Each firing alert's `generatorURL` carries its rule's PromQL (`g0.expr`). Its comparison
(`… > 0.05`) is dropped, so the range shows every series the expression covers — the failing
one and the healthy ones beside it, which is what the metrics readers compare to name the
suspect — from 30 minutes before the alert started until now. Each answer is kept as the
case's evidence (engine/cases/case_tools.py), citing its PromQL; the runs are audited.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from engine.cases.case_tools import CaseTools
from engine.core.alert_webhook import AlertmanagerWebhook
from engine.core.models import Case
from engine.core.tool_runs import ToolRun

log = logging.getLogger(__name__)

BEFORE_START = timedelta(minutes=30)
MAX_QUERIES = 3  # distinct alert expressions pulled per notification
REQUESTED_BY = "alert"
_OPENERS, _CLOSERS = "([{", ")]}"
_COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")


def alert_expression(generator_url: str) -> str | None:
    """The PromQL of an alert's rule, from its generatorURL (`…/graph?g0.expr=…`)."""
    if not generator_url:
        return None
    values = parse_qs(urlsplit(generator_url).query).get("g0.expr")
    return values[0].strip() if values and values[0].strip() else None


def without_comparison(expr: str) -> str:
    """`sum by (service) (rate(x[1m])) > 0.5` → `sum by (service) (rate(x[1m]))`: the top
    level comparison (outside brackets and quotes) and its threshold dropped."""
    depth, quote, i = 0, "", 0
    while i < len(expr):
        char = expr[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "\"'`":
            quote = char
        elif char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth -= 1
        elif depth == 0:
            for op in _COMPARISONS:
                # `=~` and `!~` are label matchers, only ever inside braces.
                if expr.startswith(op, i) and expr[i : i + 2] not in ("=~", "!~"):
                    left = expr[:i].strip()
                    return left or expr
        i += 1
    return expr


async def pull_alert_series(
    tools: CaseTools, case: Case, hook: AlertmanagerWebhook
) -> list[ToolRun]:
    """Range queries of the firing alerts' expressions, kept as the case's evidence; the
    runs that brought data."""
    names = {tool.name for tool in tools.live_tools(case)}
    if "prometheus_range" not in names:
        return []
    queries: dict[str, datetime] = {}
    for alert in hook.firing:
        expr = alert_expression(alert.generator_url)
        if expr is None:
            continue
        series = without_comparison(expr)
        start = alert.starts_at.astimezone(UTC)
        queries[series] = min(queries.get(series, start), start)
    if not queries:
        return []
    registry = tools.registry(case, tools.live_tools(case))
    pulled: list[ToolRun] = []
    for series, started in list(queries.items())[:MAX_QUERIES]:
        begin = (started - BEFORE_START).strftime("%Y-%m-%dT%H:%M:%SZ")
        run = await registry.run(
            "prometheus_range", {"query": series, "start": begin}, requested_by=REQUESTED_BY
        )
        if run.ok and run.evidence_name:
            pulled.append(run)
        else:
            log.info("case %s: alert series %r not pulled: %s", case.id, series, run.error)
    return pulled


def pulled_line(runs: list[ToolRun]) -> str:
    """What the thread is told: each query, where its answer went."""
    return "📈 The alert's series, from 30 min before it fired:\n" + "\n".join(
        f"• `{run.query or run.call}` → {run.evidence_name}" for run in runs
    )
