"""Datadog: monitors (API objects and monitor search results), events (API v1) and monitor
webhooks. Labels come from `key:value` tags ('service:checkout', 'kube_namespace:shop')."""

from __future__ import annotations

import re
from typing import Any

from engine.evidence.alerts.fields import (
    component_of,
    describe,
    first,
    items,
    namespace_of,
    tag_labels,
    when,
)
from engine.evidence.alerts.report import Alert

Parsed = tuple[list[Alert], list[str]]

_MONITOR_STATES = {"alert": "firing", "warn": "firing", "no data": "no data", "ok": "resolved"}
# An event's transition, from `alert_transition` or the '[Triggered] …' title prefix.
_TRANSITIONS = {
    "triggered": "triggered",
    "re-triggered": "triggered",
    "warn": "triggered",
    "re-warn": "triggered",
    "renotify": "triggered",
    "recovered": "resolved",
    "no data": "no data",
    "re-no data": "no data",
}
_ALERT_TYPES = {"error": "triggered", "warning": "triggered", "success": "resolved"}
_PREFIX = re.compile(r"^\[(?P<word>[\w -]+?)(?: on [^\]]*)?\]\s*")


def _tags(value: object) -> dict[str, str]:
    """A tag list, or a webhook's `$TAGS`: one comma-separated string."""
    if isinstance(value, str):
        return tag_labels([tag for tag in value.split(",") if tag.strip()])
    return tag_labels(value)


def _priority(value: object) -> str | None:
    """Monitor priorities are 1-5 (P1 the most urgent); webhooks already say 'P1'."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"p{value}"
    found = first({"p": value}, "p")
    return found.lower() if found else None


def _monitor(raw: dict[str, Any]) -> Alert:
    labels = _tags(raw.get("tags"))
    state = (first(raw, "overall_state", "status") or "").lower()
    status = _MONITOR_STATES.get(state, state or None)
    severity = _priority(raw.get("priority")) or ("warning" if state == "warn" else None)
    starts = raw.get("last_triggered_ts") or raw.get("overall_state_modified")
    return Alert(
        title=first(raw, "name") or "monitor",
        status=status,
        severity=severity,
        component=component_of(labels),
        namespace=namespace_of(labels),
        labels=labels,
        description=describe(first(raw, "message")),
        starts_at=when(starts) if status != "resolved" else None,
        ends_at=when(raw.get("overall_state_modified")) if status == "resolved" else None,
        source="datadog",
        query=first(raw, "query"),
    )


def _event(raw: dict[str, Any]) -> Alert:
    """An event (API v1) or a monitor webhook, whose default payload is event-shaped."""
    labels = _tags(raw.get("tags"))
    host = first(raw, "host", "hostname")
    if host:
        labels.setdefault("host", host)
    title = first(raw, "title", "event_title") or "event"
    prefix = _PREFIX.match(title)
    transition = first(raw, "alert_transition") or (prefix.group("word") if prefix else "")
    status = _TRANSITIONS.get(transition.lower())
    alert_type = (first(raw, "alert_type") or "").lower()
    if status is None:
        status = _ALERT_TYPES.get(alert_type)
    at = when(raw.get("date_happened") or raw.get("date") or raw.get("last_updated"))
    return Alert(
        title=title[prefix.end() :] if prefix else title,
        status=status,
        severity=_priority(raw.get("alert_priority"))
        or (alert_type if alert_type in ("error", "warning") else None),
        component=component_of(labels),
        namespace=namespace_of(labels),
        labels=labels,
        description=describe(first(raw, "text", "body", "message")),
        starts_at=at if status != "resolved" else None,
        ends_at=at if status == "resolved" else None,
        source="datadog",
        query=first(raw, "alert_query"),
    )


def is_monitor(raw: dict[str, Any]) -> bool:
    return "overall_state" in raw or "last_triggered_ts" in raw


def parse_datadog(doc: dict[str, Any] | list[Any]) -> Parsed:
    if isinstance(doc, list):
        raws = items(doc)
    elif isinstance(doc.get("monitors"), list) or isinstance(doc.get("events"), list):
        raws = items(doc.get("monitors")) + items(doc.get("events"))
    elif isinstance(doc.get("event"), dict):
        raws = [doc["event"]]
    else:
        raws = [doc]
    return [_monitor(raw) if is_monitor(raw) else _event(raw) for raw in raws], []
