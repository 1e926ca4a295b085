"""The Prometheus family, alerts as label sets with annotations: Alertmanager (webhook and API
v2 list), Prometheus /api/v1/alerts and /api/v1/rules answers, and Grafana alerting (its
Alertmanager-shaped webhook and the legacy one)."""

from __future__ import annotations

from typing import Any

from engine.core.wording import plural
from engine.evidence.alerts.fields import (
    component_of,
    describe,
    expression_in,
    first,
    items,
    namespace_of,
    severity_of,
    str_labels,
    text,
    when,
)
from engine.evidence.alerts.report import Alert

Parsed = tuple[list[Alert], list[str]]

# Alertmanager API v2 states: 'unprocessed' is an alert just received, not yet grouped.
_V2_STATES = {"active": "firing", "unprocessed": "firing", "suppressed": "suppressed"}
# Grafana legacy alerting states.
_GRAFANA_STATES = {"alerting": "firing", "ok": "resolved", "no_data": "no data"}


def _status(value: str | None) -> str | None:
    return value.lower() if value else None


def labelled_alert(
    raw: dict[str, Any],
    *,
    source: str,
    status: str | None,
    base_labels: dict[str, str] | None = None,
    query: str | None = None,
) -> Alert:
    """One alert from its labels and annotations, as every tool of this family writes it."""
    labels = {**(base_labels or {}), **str_labels(raw.get("labels"))}
    notes = str_labels(raw.get("annotations"))
    ended = status in ("resolved", "inactive")
    return Alert(
        title=labels.get("alertname") or notes.get("summary") or first(raw, "name") or "alert",
        status=status,
        severity=severity_of(labels),
        component=component_of(labels),
        namespace=namespace_of(labels),
        labels=labels,
        description=describe(
            notes.get("description") or notes.get("summary") or notes.get("message")
        ),
        starts_at=when(raw.get("startsAt") or raw.get("activeAt")),
        # A firing alert's endsAt is only when Alertmanager stops waiting for a refresh.
        ends_at=when(raw.get("endsAt")) if ended else None,
        source=source,
        query=query or expression_in(text(raw.get("generatorURL"))),
    )


def _webhook_source(doc: dict[str, Any]) -> str:
    """Grafana's webhook is Alertmanager's with an org and panel links added."""
    grafana_keys = ("dashboardURL", "panelURL", "silenceURL", "valueString")
    grafana = "orgId" in doc or any(k in a for a in items(doc.get("alerts")) for k in grafana_keys)
    return "grafana" if grafana else "alertmanager"


def parse_webhook(doc: dict[str, Any]) -> Parsed:
    source = _webhook_source(doc)
    alerts = [
        labelled_alert(raw, source=source, status=_status(first(raw, "status")))
        for raw in items(doc.get("alerts"))
    ]
    notes = []
    receiver = first(doc, "receiver")
    if receiver:
        notes.append(f"sent to receiver {receiver}")
    return alerts, notes


def parse_v2_list(doc: list[Any]) -> Parsed:
    """GET /api/v2/alerts (or a bare list of webhook alerts): status is an object there."""
    alerts = []
    for raw in items(doc):
        status_obj = raw.get("status")
        if isinstance(status_obj, dict):
            state = first(status_obj, "state")
            status = _V2_STATES.get(state.lower(), state.lower()) if state else None
        else:
            status = _status(text(status_obj))
        alerts.append(labelled_alert(raw, source="alertmanager", status=status))
    return alerts, []


def parse_prometheus_alerts(data: dict[str, Any]) -> Parsed:
    """/api/v1/alerts: `state` is firing or pending, `activeAt` when it became active."""
    alerts = [
        labelled_alert(raw, source="prometheus", status=_status(first(raw, "state")))
        for raw in items(data.get("alerts"))
    ]
    return alerts, []


def _rule_alerts(rule: dict[str, Any]) -> list[Alert]:
    query = first(rule, "query")
    state = _status(first(rule, "state"))
    raw_alerts = items(rule.get("alerts"))
    rule_labels = {"alertname": first(rule, "name") or "rule", **str_labels(rule.get("labels"))}
    if raw_alerts:
        return [
            labelled_alert(
                raw,
                source="prometheus",
                status=_status(first(raw, "state")) or state,
                base_labels=rule_labels,
                query=query,
            )
            for raw in raw_alerts
        ]
    # No alert instances listed (inactive, or asked for without them): the rule itself.
    return [
        labelled_alert(
            {"labels": rule_labels, "annotations": rule.get("annotations")},
            source="prometheus",
            status=state,
            query=query,
        )
    ]


def parse_rules(data: dict[str, Any]) -> Parsed:
    """/api/v1/rules: alerting rules with their state and alerts; recording rules counted."""
    alerts: list[Alert] = []
    recording = unhealthy = 0
    for group in items(data.get("groups")):
        for rule in items(group.get("rules")):
            if first(rule, "type") == "recording" or ("query" in rule and "state" not in rule):
                recording += 1
                continue
            if first(rule, "health") not in (None, "ok", "unknown"):
                unhealthy += 1
            alerts += _rule_alerts(rule)
    notes = [f"a Prometheus rules answer ({plural(len(items(data.get('groups'))), 'group')})"]
    if recording:
        notes.append(f"{plural(recording, 'recording rule')} left out")
    if unhealthy:
        notes.append(f"{plural(unhealthy, 'rule')} failing to evaluate (health not ok)")
    return alerts, notes


def parse_grafana_legacy(doc: dict[str, Any]) -> Parsed:
    """Grafana's legacy webhook: one rule, its state, and the series that matched."""
    state = (first(doc, "state") or "").lower()
    labels = {
        "alertname": first(doc, "ruleName", "title") or "alert",
        **str_labels(doc.get("tags")),
    }
    matches = items(doc.get("evalMatches"))
    metrics = ", ".join(
        f"{first(m, 'metric') or 'series'}={first(m, 'value')}" for m in matches[:3]
    )
    description = first(doc, "message") or ""
    if metrics:
        description = f"{description} ({metrics})" if description else metrics
    alert = Alert(
        title=labels["alertname"],
        status=_GRAFANA_STATES.get(state, state or None),
        severity=severity_of(labels),
        component=component_of(labels),
        namespace=namespace_of(labels),
        labels=labels,
        description=describe(description),
        source="grafana",
    )
    return [alert], []
