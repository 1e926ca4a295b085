"""Is this upload an alert or incident payload, and of which shape? Decided from content.

A payload is JSON, and JSON is shared with logs (JSON lines), traces and Prometheus query
answers, which other kinds read. So the shape is judged on the parsed document when the
sample holds all of it (nearly every payload: they are small), and only on tool-specific
key combinations when the sample is the cut start of a larger file.
"""

from __future__ import annotations

import re
from typing import Any

from engine.evidence.alerts.datadog import is_monitor
from engine.evidence.bounded import TooComplex, load_json

# The shapes `classify` tells apart; parse.py reads each.
WEBHOOK = "webhook"  # Alertmanager / Grafana webhook: receiver, alerts, groupLabels
ALERT_LIST = "alert-list"  # Alertmanager API v2 list (or a bare list of webhook alerts)
PROMETHEUS_ALERTS = "prometheus-alerts"  # /api/v1/alerts
PROMETHEUS_RULES = "prometheus-rules"  # /api/v1/rules
GRAFANA_LEGACY = "grafana-legacy"
PAGERDUTY = "pagerduty"
OPSGENIE = "opsgenie"
DATADOG = "datadog"
ROBUSTA = "robusta"

_HEAD = 64 * 1024
# Any of these keys makes a file worth parsing; without one it is not a payload.
_ANY_KEY = re.compile(
    r'"(?:alerts|groups|startsAt|incidents?|event|messages|event_action|tinyId|alert'
    r"|overall_state|last_triggered_ts|date_happened|alert_type|alert_transition|monitors"
    r'|events|ruleName|aggregation_key)"\s*:'
)
# Keys only Prometheus query answers and trace exports have: never ours.
_OTHER_KINDS = re.compile(
    r'"(?:resultType|resourceSpans|resource_spans|scopeSpans|traceID|spanID|operationName'
    r'|localEndpoint)"\s*:'
)
# For a sample cut short: each tuple's patterns must all match the head.
_SIGNATURES: tuple[tuple[re.Pattern[str], ...], ...] = tuple(
    tuple(re.compile(p) for p in patterns)
    for patterns in (
        (r'"alerts"\s*:\s*\[', r'"(?:receiver|groupLabels|commonLabels|groupKey)"\s*:'),
        (r'"alerts"\s*:\s*\[', r'"activeAt"\s*:'),
        (r'"groups"\s*:\s*\[', r'"rules"\s*:\s*\[', r'"(?:lastEvaluation|evaluationTime)"\s*:'),
        (r"^\s*\[", r'"startsAt"\s*:', r'"labels"\s*:\s*\{', r'"alertname"\s*:'),
        (r'"event_type"\s*:\s*"incident\.|"incident_number"\s*:',),
        (r'"tinyId"\s*:',),
        (r'"(?:overall_state|last_triggered_ts|date_happened|alert_transition)"\s*:',),
        (r'"ruleName"\s*:', r'"evalMatches"\s*:'),
        (r'"aggregation_key"\s*:', r'"(?:subject_name|subject_type|finding_type)"\s*:'),
    )
)
_PD_INCIDENT_KEYS = ("incident_number", "urgency", "incident_key", "escalation_policy")
_ROBUSTA_KEYS = ("subject_name", "subject_type", "subject", "finding_type", "failure")


def unwrap(doc: Any) -> Any:
    """The `data` of a Prometheus API answer ({"status": "success", "data": ...})."""
    if isinstance(doc, dict) and "status" in doc and isinstance(doc.get("data"), dict):
        return doc["data"]
    return doc


def _first_item(value: object) -> dict[str, Any]:
    if isinstance(value, list):
        return next((item for item in value if isinstance(item, dict)), {})
    return value if isinstance(value, dict) else {}


def _labelled(item: dict[str, Any]) -> bool:
    return isinstance(item.get("labels"), dict)


def _rules_answer(doc: dict[str, Any]) -> bool:
    """Rules as the API reports them (state, health, evaluation), not a rule file's config."""
    groups = doc.get("groups")
    if not isinstance(groups, list):
        return False
    rules = [_first_item(group.get("rules")) for group in groups if isinstance(group, dict)]
    api_keys = ("state", "health", "lastEvaluation", "evaluationTime")
    return any(k in rule for rule in rules for k in api_keys)


def _alerts_shape(doc: dict[str, Any]) -> str | None:
    alert = _first_item(doc.get("alerts"))
    if not isinstance(doc.get("alerts"), list):
        return None
    if any(k in doc for k in ("receiver", "groupLabels", "commonLabels", "groupKey", "orgId")):
        return WEBHOOK
    if not alert and "receiver" not in doc:
        # An empty /api/v1/alerts answer: nothing firing is still a finding.
        return PROMETHEUS_ALERTS if set(doc) == {"alerts"} else None
    if _labelled(alert) and ("activeAt" in alert or "state" in alert):
        return PROMETHEUS_ALERTS
    return None


def _pagerduty(doc: dict[str, Any]) -> bool:
    if "event_action" in doc and isinstance(doc.get("payload"), dict):
        return True
    event = doc.get("event")
    if isinstance(event, dict):
        kind = str(event.get("event_type", ""))
        return kind.startswith("incident.") or event.get("resource_type") == "incident"
    if isinstance(_first_item(doc.get("messages")).get("incident"), dict):
        return True
    incident = _first_item(doc.get("incidents") or doc.get("incident"))
    return any(k in incident for k in _PD_INCIDENT_KEYS)


def _opsgenie(doc: dict[str, Any]) -> bool:
    alert = doc.get("alert")
    if isinstance(alert, dict) and ("integrationName" in doc or "action" in doc):
        return any(k in alert for k in ("alertId", "tinyId", "message"))
    return "tinyId" in _first_item(doc.get("data"))


def _datadog_event(item: dict[str, Any]) -> bool:
    return (
        "date_happened" in item
        or "alert_transition" in item
        or ("alert_type" in item and any(k in item for k in ("title", "event_title")))
    )


def _datadog(doc: dict[str, Any]) -> bool:
    if is_monitor(doc) or _datadog_event(doc):
        return True
    monitor = _first_item(doc.get("monitors"))
    if is_monitor(monitor) or ("status" in monitor and "query" in monitor):
        return True
    return _datadog_event(_first_item(doc.get("events") or doc.get("event")))


def _robusta(item: dict[str, Any]) -> bool:
    return "aggregation_key" in item and "title" in item and any(k in item for k in _ROBUSTA_KEYS)


def _list_shape(doc: list[Any]) -> str | None:
    item = _first_item(doc)
    if _labelled(item) and "startsAt" in item:
        return ALERT_LIST
    if is_monitor(item) or _datadog_event(item):
        return DATADOG
    return ROBUSTA if _robusta(item) else None


def classify(doc: Any) -> str | None:
    """The payload shape of a parsed JSON document, or None when it is not one."""
    doc = unwrap(doc)
    if isinstance(doc, list):
        return _list_shape(doc)
    if not isinstance(doc, dict) or "resultType" in doc:
        return None
    if _rules_answer(doc):
        return PROMETHEUS_RULES
    shape = _alerts_shape(doc)
    if shape is not None:
        return shape
    if "ruleName" in doc and any(k in doc for k in ("evalMatches", "ruleUrl", "ruleId")):
        return GRAFANA_LEGACY
    checks = ((_pagerduty, PAGERDUTY), (_opsgenie, OPSGENIE), (_datadog, DATADOG))
    for check, name in checks:
        if check(doc):
            return name
    if _robusta(doc) or _robusta(_first_item(doc.get("findings"))):
        return ROBUSTA
    return None


def _classify_text(text: str) -> str | None:
    try:
        return classify(load_json(text))
    except TooComplex:
        return None


def looks_like_alerts(name: str, text: str) -> bool:
    """Whether the start of a file is an alert or incident payload; `name` is not used, so a
    payload saved as 'export.json' or 'paste.txt' reads the same."""
    head = text[:_HEAD].lstrip("\ufeff \t\r\n")
    if head[:1] not in ("{", "[") or not _ANY_KEY.search(head) or _OTHER_KINDS.search(head):
        return False
    try:
        return _classify_text(text) is not None
    except ValueError:
        pass
    first_line = head.split("\n", 1)[0]
    if first_line.rstrip().endswith("}"):  # JSON lines: one payload a line
        try:
            return _classify_text(first_line) is not None
        except ValueError:
            return False
    # The sample is the cut start of a larger document: judge by tool-specific keys.
    return any(all(p.search(head) for p in signature) for signature in _SIGNATURES)
