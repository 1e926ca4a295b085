"""Alertmanager tools, read-only (API v2): the alerts it holds, and its silences.

An SRE's first questions in an incident: what is alerting right now, since when, and has
someone already silenced it (and until when, and why). Answers are short lines; each cites
the API URL that gives the same list.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field

from engine.tools.base import Tool, ToolAnswer
from engine.tools.http_json import get_json
from engine.tools.sources import Source, pick_source

KIND = "alertmanager"
MAX_ALERTS = 30
MAX_SILENCES = 30
MAX_LABELS = 8  # shown per alert beside its name and severity
_TEXT_CHARS = 200
# Common severity words, most urgent first: the order alerts are listed in.
_SEVERITY_ORDER = ("critical", "page", "error", "high", "major", "warning", "warn", "medium")
_SOURCE = Field(default=None, description="which Alertmanager source; only needed when several")
Matcher = Annotated[str, Field(min_length=3, max_length=500)]


def _matchers() -> Any:
    return Field(
        default_factory=list,
        max_length=20,
        description='label matchers that must all hold: job="api", severity=~"page|critical"',
    )


def _moment(raw: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _span(seconds: float) -> str:
    seconds = int(abs(seconds))
    if seconds >= 86400:
        return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def when(raw: Any, now: datetime) -> str:
    """`2024-05-01 12:00:03 UTC (4m10s ago)` or `(in 1h59m)`; the raw text if unparsable."""
    moment = _moment(raw)
    if moment is None:
        return str(raw)
    delta = (now - moment).total_seconds()
    relative = f"{_span(delta)} ago" if delta >= 0 else f"in {_span(delta)}"
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC ({relative})"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _short(text: Any) -> str:
    words = " ".join(str(text).split())
    return words if len(words) <= _TEXT_CHARS else words[:_TEXT_CHARS] + " …"


def _severity_rank(severity: str) -> int:
    lowered = severity.lower()
    return _SEVERITY_ORDER.index(lowered) if lowered in _SEVERITY_ORDER else len(_SEVERITY_ORDER)


def alert_lines(alert: dict[str, Any], now: datetime) -> list[str]:
    labels: dict[str, Any] = alert.get("labels") or {}
    status: dict[str, Any] = alert.get("status") or {}
    severity = str(labels.get("severity", ""))
    state = str(status.get("state", "unknown"))
    because = [
        f"silenced by {', '.join(str(s)[:8] for s in status.get('silencedBy') or [])}"
        if status.get("silencedBy")
        else "",
        f"inhibited by {len(status.get('inhibitedBy') or [])} alert(s)"
        if status.get("inhibitedBy")
        else "",
    ]
    state += "".join(f", {b}" for b in because if b)
    others = [(k, v) for k, v in sorted(labels.items()) if k not in ("alertname", "severity")]
    shown = ", ".join(f"{k}={v}" for k, v in others[:MAX_LABELS])
    if len(others) > MAX_LABELS:
        shown += f", +{len(others) - MAX_LABELS} more"
    head = f"[{severity}] " if severity else ""
    lines = [
        f"{head}{labels.get('alertname', '(no alertname)')} — {state} since "
        f"{when(alert.get('startsAt'), now)}" + (f"; {shown}" if shown else "")
    ]
    annotations: dict[str, Any] = alert.get("annotations") or {}
    for key in ("summary", "description", "message"):
        if annotations.get(key):
            lines.append(f"  {key}: {_short(annotations[key])}")
    return lines


def alerts_text(
    source: Source, alerts: list[dict[str, Any]], matchers: list[str], now: datetime
) -> str:
    alerts = sorted(
        alerts,
        key=lambda a: (
            _severity_rank(str((a.get("labels") or {}).get("severity", ""))),
            str(a.get("startsAt")),
        ),
    )
    where = f" matching {', '.join(matchers)}" if matchers else ""
    lines = [f"Alertmanager {source.name}: {_count(len(alerts), 'alert')}{where}"]
    for alert in alerts[:MAX_ALERTS]:
        lines += alert_lines(alert, now)
    if len(alerts) > MAX_ALERTS:
        lines.append(f"({len(alerts) - MAX_ALERTS:,} more alerts not shown)")
    return "\n".join(lines)


def matcher_text(matcher: dict[str, Any]) -> str:
    """`name="value"`, `name=~"regex"`, `name!="value"`, `name!~"regex"`."""
    equal = matcher.get("isEqual", True)  # absent before Alertmanager 0.22: always equal
    op = ("=" if equal else "!=") if not matcher.get("isRegex") else ("=~" if equal else "!~")
    return f'{matcher.get("name")}{op}"{matcher.get("value")}"'


def silence_line(silence: dict[str, Any], now: datetime) -> str:
    state = str((silence.get("status") or {}).get("state", "unknown"))
    matchers = ", ".join(matcher_text(m) for m in silence.get("matchers") or [])
    line = f"{{{matchers}}} by {silence.get('createdBy') or 'someone'}"
    if state == "pending":
        line += f", from {when(silence.get('startsAt'), now)}"
    ended = "ended" if state == "expired" else "until"
    line += f", {ended} {when(silence.get('endsAt'), now)}"
    if silence.get("comment"):
        line += f': "{_short(silence["comment"])}"'
    tag = "" if state == "active" else f"{state}, "
    return line + f" [{tag}id {str(silence.get('id', ''))[:8]}]"


def silences_text(source: Source, silences: list[dict[str, Any]], now: datetime) -> str:
    silences = sorted(silences, key=lambda s: str(s.get("endsAt")))
    lines = [f"Alertmanager {source.name}: {_count(len(silences), 'silence')}"]
    lines += [silence_line(s, now) for s in silences[:MAX_SILENCES]]
    if len(silences) > MAX_SILENCES:
        lines.append(f"({len(silences) - MAX_SILENCES:,} more silences not shown)")
    return "\n".join(lines)


class _AlertmanagerTool:
    def __init__(self, sources: list[Source]) -> None:
        self.sources = sources

    def _source(self, name: str | None) -> Source:
        return pick_source(self.sources, name, KIND)


def _flag(value: bool) -> str:
    return "true" if value else "false"


class AlertsParameters(BaseModel):
    matchers: list[Matcher] = _matchers()
    silenced: bool = Field(default=False, description="also list silenced alerts")
    inhibited: bool = Field(default=False, description="also list alerts another one inhibits")
    source: str | None = _SOURCE


class AlertmanagerAlerts(_AlertmanagerTool):
    name: ClassVar[str] = "alertmanager_alerts"
    description: ClassVar[str] = (
        "The alerts Alertmanager holds now: name, severity, state, since when, labels and "
        "summary; optionally only those matching label matchers."
    )
    parameters: ClassVar[type[BaseModel]] = AlertsParameters

    async def answer(self, arguments: AlertsParameters) -> ToolAnswer:
        source = self._source(arguments.source)
        params = [
            ("active", "true"),
            ("silenced", _flag(arguments.silenced)),
            ("inhibited", _flag(arguments.inhibited)),
            *(("filter", matcher) for matcher in arguments.matchers),
        ]
        reply = await get_json(source, "api/v2/alerts", params)
        alerts = (
            [a for a in reply.data if isinstance(a, dict)] if isinstance(reply.data, list) else []
        )
        text = alerts_text(source, alerts, arguments.matchers, datetime.now(UTC))
        return ToolAnswer(text=text, query=f"GET {reply.url}")


class SilencesParameters(BaseModel):
    matchers: list[Matcher] = _matchers()
    include_expired: bool = Field(default=False, description="also list expired silences")
    source: str | None = _SOURCE


class AlertmanagerSilences(_AlertmanagerTool):
    name: ClassVar[str] = "alertmanager_silences"
    description: ClassVar[str] = (
        "Alertmanager's silences in force or scheduled: what they match, who set them, "
        "until when and why."
    )
    parameters: ClassVar[type[BaseModel]] = SilencesParameters

    async def answer(self, arguments: SilencesParameters) -> ToolAnswer:
        source = self._source(arguments.source)
        params = [("filter", matcher) for matcher in arguments.matchers]
        reply = await get_json(source, "api/v2/silences", params)
        silences = [
            s
            for s in (reply.data if isinstance(reply.data, list) else [])
            if isinstance(s, dict)
            and (arguments.include_expired or (s.get("status") or {}).get("state") != "expired")
        ]
        return ToolAnswer(
            text=silences_text(source, silences, datetime.now(UTC)), query=f"GET {reply.url}"
        )


def alertmanager_tools(sources: list[Source]) -> list[Tool]:
    """The Alertmanager tools over the Alertmanager sources allowed here; none without one."""
    ours = [source for source in sources if source.kind == KIND]
    if not ours:
        return []
    return [AlertmanagerAlerts(ours), AlertmanagerSilences(ours)]
