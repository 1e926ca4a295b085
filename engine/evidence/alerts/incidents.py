"""Incident tools, where an alert is a titled record with a service, not a label set:
PagerDuty (webhooks v2 and v3, REST incidents, Events API v2) and Opsgenie (webhook, API)."""

from __future__ import annotations

from typing import Any

from engine.evidence.alerts.fields import (
    component_of,
    describe,
    first,
    items,
    mapping,
    namespace_of,
    str_labels,
    tag_labels,
    text,
    when,
)
from engine.evidence.alerts.report import Alert

Parsed = tuple[list[Alert], list[str]]

# A v3 webhook's event type says what just happened, which the incident's status may not
# carry (a payload trimmed to the event); the incident's own status wins when present.
_PD_EVENTS = {
    "incident.triggered": "triggered",
    "incident.trigger": "triggered",
    "incident.acknowledged": "acknowledged",
    "incident.acknowledge": "acknowledged",
    "incident.unacknowledged": "triggered",
    "incident.unacknowledge": "triggered",
    "incident.reopened": "triggered",
    "incident.resolved": "resolved",
    "incident.resolve": "resolved",
}
_PD_ACTIONS = {"trigger": "triggered", "acknowledge": "acknowledged", "resolve": "resolved"}
_OPSGENIE_ACTIONS = {"close": "resolved", "acknowledge": "acknowledged", "unacknowledge": "firing"}


def _pd_incident(incident: dict[str, Any], event: str | None, at: object = None) -> Alert:
    service = mapping(incident.get("service"))
    labels = str_labels({"service": first(service, "summary", "name")})
    status = (first(incident, "status") or _PD_EVENTS.get(event or "") or "").lower() or None
    priority = mapping(incident.get("priority"))
    body = mapping(incident.get("body"))
    title = first(incident, "title", "summary", "description") or "incident"
    description = first(incident, "description") or first(body, "details")
    ended = status == "resolved"
    return Alert(
        title=title,
        status=status,
        severity=(first(priority, "summary", "name") or first(incident, "urgency") or "").lower()
        or None,
        component=component_of(labels),
        labels=labels,
        description=describe(description if description != title else None),
        starts_at=when(incident.get("created_at") or at),
        ends_at=when(incident.get("resolved_at") or incident.get("last_status_change_at") or at)
        if ended
        else None,
        source="pagerduty",
    )


def _pd_event_v2(doc: dict[str, Any]) -> Alert:
    """An Events API v2 message (what a monitor sends to PagerDuty): payload has it all."""
    payload = mapping(doc.get("payload"))
    labels = str_labels(payload.get("custom_details"))
    for key in ("component", "group", "source"):
        if first(payload, key):
            labels.setdefault(key if key != "source" else "host", first(payload, key) or "")
    action = (first(doc, "event_action") or "").lower()
    return Alert(
        title=first(payload, "summary") or "event",
        status=_PD_ACTIONS.get(action, action or None),
        severity=(first(payload, "severity") or "").lower() or None,
        component=component_of(labels),
        namespace=namespace_of(labels),
        labels=labels,
        starts_at=when(payload.get("timestamp")),
        source="pagerduty",
    )


def parse_pagerduty(doc: dict[str, Any]) -> Parsed:
    if "event_action" in doc:
        return [_pd_event_v2(doc)], []
    event = mapping(doc.get("event"))
    if event:  # v3 webhook: {"event": {"event_type", "occurred_at", "data": incident}}
        kind = first(event, "event_type")
        return [_pd_incident(mapping(event.get("data")), kind, event.get("occurred_at"))], []
    messages = items(doc.get("messages"))
    if messages:  # v2 webhook: {"messages": [{"event", "incident", "created_on"}]}
        return [
            _pd_incident(mapping(m.get("incident")), first(m, "event"), m.get("created_on"))
            for m in messages
        ], []
    incidents = items(doc.get("incidents")) or items([doc.get("incident")])
    return [_pd_incident(incident, None) for incident in incidents], []


def _opsgenie_status(alert: dict[str, Any], action: str | None) -> str:
    if action:
        return _OPSGENIE_ACTIONS.get(action.lower(), "firing")
    if (first(alert, "status") or "").lower() == "closed":
        return "resolved"
    return "acknowledged" if alert.get("acknowledged") is True else "firing"


def _opsgenie_alert(alert: dict[str, Any], action: str | None) -> Alert:
    labels = {**tag_labels(alert.get("tags")), **str_labels(alert.get("details"))}
    status = _opsgenie_status(alert, action)
    entity = first(alert, "entity")
    component = component_of(labels)
    if component is None and entity:  # the entity is the thing the alert is about
        component = component_of({"service": entity})
    return Alert(
        title=first(alert, "message", "alias") or "alert",
        status=status,
        severity=(first(alert, "priority") or "").upper() or None,
        component=component,
        namespace=namespace_of(labels),
        labels=labels,
        description=describe(first(alert, "description")),
        starts_at=when(alert.get("createdAt")),
        ends_at=when(alert.get("updatedAt")) if status == "resolved" else None,
        source="opsgenie",
    )


def parse_opsgenie(doc: dict[str, Any]) -> Parsed:
    if isinstance(doc.get("alert"), dict):  # webhook: {"action", "alert", "integrationName"}
        return [_opsgenie_alert(doc["alert"], text(doc.get("action")))], []
    data = doc.get("data")
    found = items(data) if isinstance(data, list) else items([data])
    return [_opsgenie_alert(alert, None) for alert in found], []
