"""Alert and incident payloads read right: each tool's shape (title, status, severity,
component, namespace, start in UTC), detection from content, and the words.

Synthetic payloads follow each tool's documented shapes (Alertmanager webhook and API v2,
Prometheus /api/v1/alerts and /api/v1/rules, PagerDuty webhooks v2/v3, REST and Events v2,
Datadog monitors, events and webhooks, Opsgenie webhook and API, Grafana webhooks, Robusta
findings). Real data, read at run time and skipped where absent: the HolmesGPT fixtures at
../shared/data/k8s-troubleshooting/ (a Prometheus rules answer, a Robusta finding, query
answers that are not alerts) and the awesome-prometheus-alerts rule catalogue, whose names,
descriptions, queries and severities make realistic webhooks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
import yaml

from engine.core.errors import EvidenceRejected
from engine.core.redact import Redactor
from engine.evidence.alerts.analyze import analyze_alerts
from engine.evidence.alerts.detect import looks_like_alerts
from engine.evidence.alerts.fields import component_of
from engine.evidence.alerts.kind import ALERTS
from engine.evidence.alerts.report import Alert, AlertReport
from engine.evidence.alerts.summary import describe_alerts, summarize_alerts
from engine.evidence.configs.kind import CONFIGS
from engine.evidence.logs.kind import LOGS
from engine.evidence.metrics.kind import METRICS
from engine.evidence.topology.kind import TOPOLOGY
from engine.evidence.traces.kind import TRACES

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
K8S = SHARED / "k8s-troubleshooting"
CATALOGUE = SHARED / "awesome-prometheus-alerts" / "rules.yml"
# Where the alerts kind must sit: after traces, before every kind that reads JSON loosely.
ORDER = (TRACES, ALERTS, METRICS, TOPOLOGY, CONFIGS, LOGS)


def _kind(name: str, text: str) -> str:
    return next(kind.name for kind in ORDER if kind.detect(name, text))


def _read(payload: Any, name: str = "payload.json") -> AlertReport:
    text = payload if isinstance(payload, str) else json.dumps(payload, indent=2)
    assert looks_like_alerts(name, text), "not claimed as an alert payload"
    assert _kind(name, text) == "alerts"
    return analyze_alerts(name, text.encode())


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _am_alert(name: str, status: str, start: str, **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} summary", "description": f"{name} on {labels}"},
        "startsAt": start,
        "endsAt": "2026-03-02T14:40:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=rate%28errors%5B5m%5D%29+%3E+1"
        "&g0.tab=1",
        "fingerprint": "c6d1e5f2a3b4",
    }


WEBHOOK = {
    "version": "4",
    "groupKey": '{}:{alertname="KubePodCrashLooping"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "sre-pager",
    "alerts": [
        _am_alert(
            "KubePodCrashLooping",
            "firing",
            "2026-03-02T14:02:11.123Z",
            pod="checkout-7d9f8c6b5-x2k4p",
            container="app",
            namespace="shop",
            severity="critical",
        ),
        _am_alert(
            "KubePodCrashLooping",
            "firing",
            "2026-03-02T15:05:00+01:00",
            pod="checkout-7d9f8c6b5-q8w2e",
            namespace="shop",
            severity="critical",
        ),
        _am_alert(
            "HighErrorRate",
            "firing",
            "2026-03-02T14:20:00Z",
            service="payments",
            job="payments",
            instance="10.0.3.7:8080",
            severity="critical",
        ),
        _am_alert("DiskFull", "resolved", "2026-03-02T13:00:00Z", instance="db-1.shop.svc:9100"),
    ],
    "groupLabels": {"alertname": "KubePodCrashLooping"},
    "commonLabels": {"severity": "critical"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093",
}


def test_alertmanager_webhook() -> None:
    report = _read(WEBHOOK)
    assert report.format == "alertmanager"
    first, second, errors, disk = report.alerts
    assert (first.title, first.status, first.severity) == (
        "KubePodCrashLooping",
        "firing",
        "critical",
    )
    assert (first.component, first.namespace) == ("checkout", "shop")
    assert first.starts_at == datetime(2026, 3, 2, 14, 2, 11, 123000, tzinfo=UTC)
    assert first.ends_at is None  # the zero time of a firing alert is no end
    assert second.starts_at == _utc("2026-03-02T14:05:00+00:00")
    assert first.query == "rate(errors[5m]) > 1"
    assert first.description and first.description.startswith("KubePodCrashLooping on")
    assert first.source == "alertmanager" and first.active
    assert errors.component == "payments"
    assert (disk.status, disk.component, disk.active) == ("resolved", "db-1", False)
    assert disk.ends_at == _utc("2026-03-02T14:40:00+00:00")
    assert [a.line for a in report.alerts] == sorted(a.line or 0 for a in report.alerts)
    assert report.first_ts == _utc("2026-03-02T13:00:00+00:00")
    assert summarize_alerts(report) == (
        "Alertmanager: 3 alerts firing (KubePodCrashLooping on checkout ×2, HighErrorRate on "
        "payments), 1 resolved; since 14:02 UTC"
    )


def test_describe_puts_firing_alerts_first_with_component_start_and_description() -> None:
    lines = describe_alerts(_read(WEBHOOK), 3)
    assert lines[0].startswith("⚠ KubePodCrashLooping on checkout (shop), firing since 14:02 UTC")
    assert "[critical]" in lines[0] and "KubePodCrashLooping on" in lines[0].split(": ", 1)[1]
    assert lines[1].startswith("⚠ KubePodCrashLooping on checkout (shop), firing since 14:05")
    assert lines[2] == "…and 2 more alerts"
    everything = describe_alerts(_read(WEBHOOK), 10)
    assert everything[-1].startswith("DiskFull on db-1, resolved at 14:40 UTC")


def test_alertmanager_api_v2_list() -> None:
    payload = [
        {
            "labels": {"alertname": "TargetDown", "job": "cart", "namespace": "shop"},
            "annotations": {"description": "100% of the cart targets are down."},
            "startsAt": "2026-03-02T09:15:00.000Z",
            "endsAt": "2026-03-02T09:25:00.000Z",
            "updatedAt": "2026-03-02T09:21:00.000Z",
            "fingerprint": "0a1b2c3d",
            "receivers": [{"name": "default"}],
            "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
            "generatorURL": "http://prometheus/graph",
        },
        {
            "labels": {"alertname": "CPUThrottlingHigh", "pod": "search-5b7c9d8f6-abcde"},
            "annotations": {"summary": "Processes experience elevated CPU throttling."},
            "startsAt": "2026-03-02T08:00:00Z",
            "endsAt": "2026-03-02T09:25:00Z",
            "fingerprint": "9f8e7d6c",
            "receivers": [{"name": "default"}],
            "status": {"state": "suppressed", "silencedBy": ["a1"], "inhibitedBy": []},
        },
    ]
    report = _read(payload)
    target, throttling = report.alerts
    assert (target.title, target.status, target.component, target.namespace) == (
        "TargetDown",
        "firing",
        "cart",
        "shop",
    )
    assert target.ends_at is None  # an active alert's endsAt is a refresh deadline
    assert (throttling.status, throttling.component, throttling.active) == (
        "suppressed",
        "search",
        False,
    )
    assert throttling.description == "Processes experience elevated CPU throttling."
    assert summarize_alerts(report).startswith("Alertmanager: 1 alert firing (TargetDown on cart)")


PROMETHEUS_ALERTS = {
    "status": "success",
    "data": {
        "alerts": [
            {
                "labels": {
                    "alertname": "KubeDeploymentReplicasMismatch",
                    "deployment": "inventory",
                    "namespace": "shop",
                    "pod": "kube-state-metrics-6f8d9c7b5-zx9qw",
                    "container": "kube-state-metrics",
                    "job": "kube-state-metrics",
                    "severity": "warning",
                },
                "annotations": {"summary": "Deployment has not matched the expected replicas."},
                "state": "firing",
                "activeAt": "2026-03-02T10:00:05.5Z",
                "value": "1e+00",
            },
            {
                "labels": {"alertname": "NodeFilesystemAlmostFull", "instance": "worker-3:9100"},
                "annotations": {"description": "Filesystem on worker-3 has 4% left."},
                "state": "pending",
                "activeAt": "2026-03-02T10:05:00Z",
                "value": "4e+00",
            },
        ]
    },
}


def test_prometheus_alerts_answer() -> None:
    report = _read(PROMETHEUS_ALERTS)
    mismatch, disk = report.alerts
    assert report.format == "prometheus"
    # The workload label names the subject; the pod and container are the exporter's.
    assert (mismatch.component, mismatch.namespace, mismatch.status) == (
        "inventory",
        "shop",
        "firing",
    )
    assert mismatch.starts_at == datetime(2026, 3, 2, 10, 0, 5, 500000, tzinfo=UTC)
    assert (disk.status, disk.component, disk.active) == ("pending", "worker-3", True)
    assert summarize_alerts(report) == (
        "Prometheus: 1 alert firing (KubeDeploymentReplicasMismatch on inventory), 1 pending "
        "(NodeFilesystemAlmostFull on worker-3); since 10:00 UTC"
    )


RULES = {
    "status": "success",
    "data": {
        "groups": [
            {
                "name": "app.rules",
                "file": "/etc/prometheus/rules/app.yaml",
                "rules": [
                    {
                        "state": "firing",
                        "name": "HighLatency",
                        "query": "histogram_quantile(0.99, rate(http_seconds_bucket[5m])) > 1",
                        "duration": 300,
                        "labels": {"severity": "critical"},
                        "annotations": {"summary": "p99 latency above 1s"},
                        "alerts": [
                            {
                                "labels": {
                                    "alertname": "HighLatency",
                                    "service": "checkout-service",
                                    "severity": "critical",
                                },
                                "annotations": {"summary": "p99 latency above 1s"},
                                "state": "firing",
                                "activeAt": "2026-03-02T11:58:00Z",
                                "value": "2.3e+00",
                            }
                        ],
                        "health": "ok",
                        "lastEvaluation": "2026-03-02T12:10:00Z",
                        "type": "alerting",
                    },
                    {
                        "state": "inactive",
                        "name": "QueueBacklog",
                        "query": "queue_depth > 1000",
                        "labels": {"severity": "warning"},
                        "annotations": {"description": "Queue backlog is growing."},
                        "alerts": [],
                        "health": "ok",
                        "type": "alerting",
                    },
                    {
                        "name": "job:http_requests:rate5m",
                        "query": "sum by (job) (rate(http_requests_total[5m]))",
                        "health": "ok",
                        "type": "recording",
                    },
                ],
            }
        ]
    },
}


def test_prometheus_rules_answer() -> None:
    report = _read(RULES)
    latency, backlog = report.alerts
    assert (latency.title, latency.status, latency.component) == (
        "HighLatency",
        "firing",
        "checkout",
    )
    assert latency.query and latency.query.startswith("histogram_quantile")
    assert (backlog.status, backlog.severity, backlog.active) == ("inactive", "warning", False)
    assert backlog.query == "queue_depth > 1000"
    assert "1 recording rule left out" in report.notes
    assert summarize_alerts(report) == (
        "Prometheus: 1 alert firing (HighLatency on checkout), 1 inactive; since 11:58 UTC"
    )
    assert all("QueueBacklog" not in line for line in describe_alerts(report, 5))


def test_pagerduty_v3_webhook() -> None:
    payload = {
        "event": {
            "id": "01DEN4HPBQAAAG05V5QQYBRZMF",
            "event_type": "incident.triggered",
            "resource_type": "incident",
            "occurred_at": "2026-03-02T14:03:12.462Z",
            "agent": {"type": "service_reference", "summary": "Checkout API"},
            "client": None,
            "data": {
                "id": "PGR0VU2",
                "type": "incident",
                "self": "https://api.pagerduty.com/incidents/PGR0VU2",
                "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
                "number": 2,
                "status": "triggered",
                "incident_key": "d3640fbd41094207a1c11e58e46b1662",
                "created_at": "2026-03-02T14:03:12Z",
                "title": "Checkout error rate above 5%",
                "service": {
                    "html_url": "https://acme.pagerduty.com/services/PF9KMXH",
                    "id": "PF9KMXH",
                    "self": "https://api.pagerduty.com/services/PF9KMXH",
                    "summary": "Checkout API",
                    "type": "service_reference",
                },
                "assignees": [],
                "escalation_policy": {"id": "PTNHV8Z", "summary": "Default"},
                "teams": [],
                "priority": {"id": "P1ABC", "summary": "P1", "type": "priority_reference"},
                "urgency": "high",
                "conference_bridge": None,
                "resolve_reason": None,
            },
        }
    }
    report = _read(payload)
    (incident,) = report.alerts
    assert report.format == "pagerduty"
    assert (incident.title, incident.status, incident.severity) == (
        "Checkout error rate above 5%",
        "triggered",
        "p1",
    )
    assert incident.component == "checkout-api"
    assert incident.starts_at == _utc("2026-03-02T14:03:12+00:00")
    assert summarize_alerts(report).startswith("PagerDuty: 1 incident triggered (Checkout error")


def test_pagerduty_v2_webhook_rest_and_events() -> None:
    v2 = {
        "messages": [
            {
                "event": "incident.resolve",
                "created_on": "2026-03-02T15:00:00Z",
                "incident": {
                    "incident_number": 71,
                    "title": "Database connections exhausted",
                    "created_at": "2026-03-02T14:30:00Z",
                    "status": "resolved",
                    "urgency": "high",
                    "service": {"id": "P1", "name": "orders-db", "summary": "orders-db"},
                    "last_status_change_at": "2026-03-02T15:00:00Z",
                },
            }
        ]
    }
    (resolved,) = _read(v2).alerts
    assert (resolved.status, resolved.component, resolved.severity) == (
        "resolved",
        "orders-db",
        "high",
    )
    assert resolved.ends_at == _utc("2026-03-02T15:00:00+00:00")
    rest = {
        "incidents": [
            {
                "incident_number": 1234,
                "title": "Disk almost full on search",
                "created_at": "2026-03-02T12:00:00-05:00",
                "status": "acknowledged",
                "urgency": "low",
                "service": {"summary": "search"},
                "type": "incident",
            }
        ],
        "limit": 25,
        "more": False,
    }
    (acked,) = _read(rest).alerts
    assert (acked.status, acked.active) == ("acknowledged", False)
    assert acked.starts_at == _utc("2026-03-02T17:00:00+00:00")
    events = {
        "routing_key": "R0123456789012345678901234567890",
        "event_action": "trigger",
        "dedup_key": "srv01/HTTP",
        "payload": {
            "summary": "HTTP 5xx on ledger above threshold",
            "timestamp": "2026-03-02T08:42:58.315+0000",
            "source": "ledger-5c9f7b6d4-kq2mz",
            "severity": "critical",
            "component": "ledger",
            "group": "prod-payments",
            "custom_details": {"namespace": "payments"},
        },
    }
    (event,) = _read(events).alerts
    assert (event.status, event.severity, event.component, event.namespace) == (
        "triggered",
        "critical",
        "ledger",
        "payments",
    )
    assert event.starts_at == _utc("2026-03-02T08:42:58.315+00:00")


def test_datadog_monitors_events_and_webhooks() -> None:
    monitors = [
        {
            "id": 1234567,
            "name": "High p95 latency on checkout",
            "type": "metric alert",
            "query": "avg(last_5m):p95:trace.http.request{service:checkout} > 1",
            "message": "Latency is high @slack-sre",
            "tags": ["service:checkout", "kube_namespace:shop", "team:payments"],
            "priority": 2,
            "overall_state": "Alert",
            "overall_state_modified": "2026-03-02T14:02:00+00:00",
            "created": "2025-01-01T00:00:00+00:00",
        },
        {
            "id": 7654321,
            "name": "Pods restarting",
            "type": "query alert",
            "query": "change(sum:kubernetes.containers.restarts{*} by {kube_deployment}) > 3",
            "tags": ["kube_deployment:inventory-v2", "kube_namespace:shop"],
            "overall_state": "OK",
            "overall_state_modified": 1772460000,
        },
    ]
    report = _read(monitors)
    latency, restarts = report.alerts
    assert report.format == "datadog"
    assert (latency.status, latency.severity, latency.component, latency.namespace) == (
        "firing",
        "p2",
        "checkout",
        "shop",
    )
    assert latency.query and latency.query.startswith("avg(last_5m)")
    assert latency.starts_at == _utc("2026-03-02T14:02:00+00:00")
    assert (restarts.status, restarts.component) == ("resolved", "inventory")
    assert restarts.ends_at == datetime.fromtimestamp(1772460000, UTC)

    events = {
        "events": [
            {
                "id": 5555,
                "title": "[Triggered on {service:cart}] Error rate above 5%",
                "text": "%%% Error rate is 7.2% %%%",
                "date_happened": 1772460120,
                "alert_type": "error",
                "priority": "normal",
                "source_type_name": "Monitor Alert",
                "tags": ["service:cart", "env:prod", "pod_name:cart-6c8d7f9b4-7xk2p"],
                "host": "ip-10-0-1-23.ec2.internal",
            }
        ]
    }
    (event,) = _read(events).alerts
    assert (event.title, event.status, event.severity, event.component) == (
        "Error rate above 5%",
        "triggered",
        "error",
        "cart",
    )
    assert event.starts_at == datetime.fromtimestamp(1772460120, UTC)

    webhook = {
        "id": "6959401924716399021",
        "title": "[Recovered] Disk usage high on search",
        "body": "Disk usage back to 61%",
        "alert_transition": "Recovered",
        "alert_type": "success",
        "alert_priority": "P3",
        "date": 1772463600000,
        "tags": "service:search,env:prod",
        "org": {"id": "1", "name": "acme"},
    }
    (recovered,) = _read(webhook).alerts
    assert (recovered.title, recovered.status, recovered.severity, recovered.component) == (
        "Disk usage high on search",
        "resolved",
        "p3",
        "search",
    )
    assert recovered.ends_at == datetime.fromtimestamp(1772463600, UTC)


def test_opsgenie_webhook_and_api() -> None:
    webhook = {
        "action": "Create",
        "alert": {
            "alertId": "70413a06-38d6-4c85-92b8-5ebc900d42e2",
            "message": "RabbitMQ queue growing",
            "tags": ["app:orders-worker", "namespace:shop"],
            "tinyId": "1791",
            "entity": "orders",
            "alias": "queue-growing",
            "createdAt": 1772456400000,
            "updatedAt": 1772456400000,
            "username": "System",
            "description": "orders queue depth 12k",
            "priority": "P2",
            "source": "prometheus",
            "details": {},
        },
        "source": {"name": "", "type": "web"},
        "integrationName": "Webhook",
        "integrationId": "3a0b2f1c",
        "integrationType": "Webhook",
    }
    (created,) = _read(webhook).alerts
    assert report_fields(created) == ("RabbitMQ queue growing", "firing", "P2", "orders-worker")
    assert created.namespace == "shop"
    assert created.starts_at == datetime.fromtimestamp(1772456400, UTC)
    api = {
        "data": [
            {
                "id": "b1d2e3f4",
                "tinyId": "1790",
                "alias": "db-down",
                "message": "Primary database down",
                "status": "open",
                "acknowledged": True,
                "tags": [],
                "entity": "orders db",
                "createdAt": "2026-03-02T13:59:00.12Z",
                "priority": "P1",
            },
            {
                "id": "c9d8e7f6",
                "tinyId": "1789",
                "message": "Cache evictions",
                "status": "closed",
                "acknowledged": False,
                "tags": ["service:cache"],
                "createdAt": "2026-03-02T12:00:00Z",
                "updatedAt": "2026-03-02T12:30:00Z",
                "priority": "P4",
            },
        ],
        "paging": {},
        "took": 0.03,
        "requestId": "3f2e1d0c",
    }
    db, cache = _read(api).alerts
    assert report_fields(db) == ("Primary database down", "acknowledged", "P1", "orders-db")
    assert (cache.status, cache.component) == ("resolved", "cache")
    assert cache.ends_at == _utc("2026-03-02T12:30:00+00:00")


def report_fields(alert: Alert) -> tuple[str, str | None, str | None, str | None]:
    return alert.title, alert.status, alert.severity, alert.component


def test_grafana_webhooks() -> None:
    unified = {
        "receiver": "grafana-default-email",
        "status": "firing",
        "orgId": 1,
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "High memory",
                    "grafana_folder": "Platform",
                    "app": "recommender",
                    "namespace": "ml",
                },
                "annotations": {"summary": "Memory above 90%"},
                "startsAt": "2026-03-02T16:45:00+02:00",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "https://grafana/alerting/grafana/abc/view",
                "fingerprint": "57c6d9296de2ad39",
                "silenceURL": "https://grafana/alerting/silence/new",
                "dashboardURL": "",
                "panelURL": "",
                "valueString": "[ var='B' labels={app=recommender} value=93.1 ]",
            }
        ],
        "groupLabels": {"alertname": "High memory"},
        "commonLabels": {"alertname": "High memory"},
        "externalURL": "https://grafana/",
        "version": "1",
        "groupKey": '{}:{alertname="High memory"}',
        "title": "[FIRING:1] High memory",
        "state": "alerting",
        "message": "**Firing** ...",
    }
    report = _read(unified)
    (memory,) = report.alerts
    assert report.format == "grafana"
    assert (memory.title, memory.status, memory.component, memory.namespace) == (
        "High memory",
        "firing",
        "recommender",
        "ml",
    )
    assert memory.starts_at == _utc("2026-03-02T14:45:00+00:00")
    legacy = {
        "dashboardId": 1,
        "evalMatches": [{"value": 100, "metric": "High value", "tags": None}],
        "message": "Someone is testing the alert notification within Grafana.",
        "orgId": 0,
        "panelId": 1,
        "ruleId": 0,
        "ruleName": "Test notification",
        "ruleUrl": "https://grafana/",
        "state": "alerting",
        "tags": {"service": "frontend"},
        "title": "[Alerting] Test notification",
    }
    (old,) = _read(legacy).alerts
    assert (old.title, old.status, old.component, old.source) == (
        "Test notification",
        "firing",
        "frontend",
        "grafana",
    )
    assert old.description and "High value=100" in old.description


def test_robusta_finding_with_nested_subject() -> None:
    finding = {
        "title": "Crashing pod checkout-7d9f8c6b5-x2k4p in namespace shop",
        "description": "Back-off restarting failed container",
        "source": "kubernetes_api_server",
        "aggregation_key": "CrashLoopBackoff",
        "severity": "HIGH",
        "finding_type": "issue",
        "failure": True,
        "subject": {
            "name": "checkout-7d9f8c6b5-x2k4p",
            "subject_type": "pod",
            "namespace": "shop",
            "node": "worker-2",
        },
        "starts_at": "2026-03-02T14:01:00Z",
        "fingerprint": "e3b0c44298fc1c14",
    }
    report = _read(finding)
    (crash,) = report.alerts
    assert (crash.title, crash.status, crash.severity, crash.component, crash.namespace) == (
        "CrashLoopBackoff",
        "firing",
        "high",
        "checkout",
        "shop",
    )
    assert crash.description == "Back-off restarting failed container"
    assert summarize_alerts(report) == (
        "Robusta: 1 alert firing (CrashLoopBackoff on checkout); since 14:01 UTC"
    )


def test_json_lines_of_webhooks() -> None:
    lines = [json.dumps(WEBHOOK), json.dumps(WEBHOOK | {"receiver": "second"})]
    report = _read("\n".join(lines) + "\n", "webhooks.log")
    assert len(report.alerts) == 8
    assert report.alerts[4].line == 2


def test_component_from_labels_in_any_spelling() -> None:
    assert component_of({"exported_pod": "ledger-5c9f7b6d4-kq2mz", "pod": "prom-0"}) == "ledger"
    assert component_of({"job_name": "nightly-report-29288860"}) == "nightly-report"
    assert component_of({"k8s.deployment.name": "orders"}) == "orders"
    assert component_of({"app.kubernetes.io/name": "frontend"}) == "frontend"
    assert component_of({"instance": "10.0.0.7:9100"}) is None
    assert component_of({"instance": "kafka-2.kafka.svc:9092"}) == "kafka-2"
    assert component_of({"alertname": "KubeCPUOvercommit", "severity": "warning"}) is None
    # An exporter's series about a node: its own pod is not the subject.
    node_alert = {"job": "node-exporter", "pod": "node-exporter-x7k2p", "node": "worker-5"}
    assert component_of(node_alert) == "worker-5"


def test_secrets_are_masked_before_parsing() -> None:
    payload = json.loads(json.dumps(WEBHOOK))
    payload["alerts"][0]["annotations"]["description"] = (
        "paged alice@example.com via https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"
    )
    report = _read(payload)
    text = report.model_dump_json()
    assert "alice@example.com" not in text and "XXXXXXXXXXXXXXXX" not in text
    assert report.redactions
    # Masking a bare number under a secret's key would break the JSON: values masked instead.
    broken = json.dumps(WEBHOOK).replace('"version": "4"', '"password": 123456789')
    masked = analyze_alerts("payload.json", broken.encode(), redactor=Redactor())
    assert len(masked.alerts) == 4 and masked.redactions.get("password") == 1


def test_a_large_payload_is_claimed_from_its_start() -> None:
    payload = WEBHOOK | {"alerts": WEBHOOK["alerts"] * 4000}
    text = json.dumps(payload, indent=2)
    assert len(text) > 1024 * 1024
    assert looks_like_alerts("dump.json", text[: 1024 * 1024])
    assert len(analyze_alerts("dump.json", text.encode()).alerts) == 1000  # bounded


NOT_ALERTS = {
    "prometheus vector": {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [{"metric": {"job": "api"}, "value": [1772460000, "1"]}],
        },
    },
    "prometheus matrix": {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [{"metric": {"__name__": "up"}, "values": [[1772460000, "1"]]}],
        },
    },
    "jaeger": {
        "data": [
            {
                "traceID": "abc",
                "spans": [{"traceID": "abc", "spanID": "1", "operationName": "GET /"}],
                "processes": {"p1": {"serviceName": "frontend"}},
            }
        ]
    },
    "otlp": {
        "resourceSpans": [
            {"resource": {"attributes": []}, "scopeSpans": [{"spans": [{"name": "GET /"}]}]}
        ]
    },
    "package config": {"name": "web", "version": "1.0.0", "scripts": {"start": "node ."}},
    "alerting config": {"alerting": {"alertmanagers": [{"static_configs": []}]}},
    "rule file as json": {
        "groups": [{"name": "app", "rules": [{"alert": "HighLatency", "expr": "x > 1"}]}]
    },
    "alertmanager config": {
        "route": {"receiver": "pager", "group_by": ["alertname"]},
        "receivers": [{"name": "pager"}],
    },
}


@pytest.mark.parametrize("shape", sorted(NOT_ALERTS))
def test_other_json_is_not_claimed(shape: str) -> None:
    text = json.dumps(NOT_ALERTS[shape], indent=2)
    assert not looks_like_alerts("alerts.json", text)  # the name never decides


def test_json_lines_logs_and_text_are_not_claimed() -> None:
    log = "\n".join(
        json.dumps({"ts": "2026-03-02T14:00:00Z", "level": "error", "msg": "alert sent"})
        for _ in range(3)
    )
    assert not looks_like_alerts("alerts.log", log)
    assert not looks_like_alerts("alerts.json", "alerts: firing on checkout\n")


def test_a_claimed_file_that_cannot_be_read_is_rejected_clearly() -> None:
    with pytest.raises(EvidenceRejected, match="not valid JSON"):
        analyze_alerts("alerts.json", b'{"receiver": "x", "alerts": [')
    with pytest.raises(EvidenceRejected, match="no alerts we can read"):
        analyze_alerts("alerts.json", b'{"name": "web"}')


def test_the_kind_reads_and_words_through_its_contract() -> None:
    report = ALERTS.read("payload.json", json.dumps(WEBHOOK).encode(), Redactor(), None)
    assert isinstance(report, AlertReport) and report.kind == "alerts"
    assert ALERTS.summarise(report).startswith("Alertmanager: 3 alerts firing")
    assert len(ALERTS.describe(report, 2)) == 2


# Real data, read at run time.


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is absent (shared data not mounted)")


def _real_json_files() -> list[Path]:
    return sorted(K8S.glob("*/*.json")) if K8S.exists() else []


def test_real_prometheus_rules_answer() -> None:
    paths = [p for p in _real_json_files() if '"lastEvaluation"' in p.read_text()[:4096]]
    if not paths:
        pytest.skip(f"no Prometheus rules answer under {K8S}")
    text = paths[0].read_text()
    assert _kind(paths[0].name, text[: 1024 * 1024]) == "alerts"
    report = analyze_alerts(paths[0].name, text.encode())
    raw = json.loads(text)
    rules = [r for g in raw["groups"] for r in g["rules"] if r.get("type") == "alerting"]
    instances = sum(max(len(r.get("alerts", [])), 1) for r in rules)
    assert len(report.alerts) == instances
    firing_rules = {r["name"] for r in rules if r["state"] == "firing"}
    assert {a.title for a in report.alerts if a.status == "firing"} == firing_rules
    inactive = sum(1 for r in rules if r["state"] == "inactive")
    assert sum(1 for a in report.alerts if a.status == "inactive") == inactive
    crash = next(a for a in report.alerts if a.labels.get("reason") == "CrashLoopBackOff")
    pod = crash.labels["pod"]
    assert crash.component and pod.startswith(crash.component) and crash.namespace
    assert crash.starts_at is not None and crash.starts_at.tzinfo == UTC
    for alert in report.alerts:
        if alert.labels.get("deployment"):  # the Deployment, not the exporter that reported it
            assert alert.component == alert.labels["deployment"]
    summary = summarize_alerts(report)
    assert summary.startswith(f"Prometheus: {sum(a.status == 'firing' for a in report.alerts)}")
    assert "inactive" in summary and "since 20" in summary  # several days: dated


def test_real_robusta_finding() -> None:
    paths = [p for p in _real_json_files() if '"aggregation_key"' in p.read_text()]
    if not paths:
        pytest.skip(f"no finding under {K8S}")
    raw = json.loads(paths[0].read_text())
    report = analyze_alerts(paths[0].name, paths[0].read_bytes())
    (finding,) = report.alerts
    assert finding.title == raw["aggregation_key"]
    assert finding.status == ("firing" if raw["firing"] else "resolved")
    assert finding.starts_at == _utc(raw["starts_at"])
    assert finding.description and raw["description"][:40] in finding.description


def test_real_json_that_is_not_alerts_goes_elsewhere() -> None:
    paths = _real_json_files()
    if not paths:
        pytest.skip(f"{K8S} is absent")
    for path in paths:
        text = path.read_text()
        payload = '"lastEvaluation"' in text[:4096] or '"aggregation_key"' in text
        assert looks_like_alerts(path.name, text[: 1024 * 1024]) == payload, path.name


def test_real_rule_catalogue_is_not_an_alert_payload_but_makes_realistic_ones() -> None:
    _need(CATALOGUE)
    text = CATALOGUE.read_text()
    assert not looks_like_alerts(CATALOGUE.name, text)
    rules = [
        rule
        for group in yaml.safe_load(text)["groups"]
        for service in group["services"]
        for exporter in service["exporters"]
        for rule in exporter.get("rules") or []
    ]
    assert len(rules) > 1000
    alerts = [
        {
            "status": "firing",
            "labels": {
                "alertname": "".join(w[:1].upper() + w[1:] for w in rule["name"].split()),
                "severity": rule["severity"],
                "instance": "db-7.internal:9187",
            },
            "annotations": {"summary": rule["name"], "description": rule["description"]},
            "startsAt": "2026-03-02T14:00:00Z",
            "generatorURL": "http://prometheus/graph?g0.expr=" + quote_plus(rule["query"]),
        }
        for rule in rules[:200]
    ]
    report = _read({"receiver": "default", "status": "firing", "alerts": alerts})
    assert len(report.alerts) == 200
    for alert, rule in zip(report.alerts, rules, strict=False):
        assert alert.severity == rule["severity"]
        assert alert.query == rule["query"]
        assert alert.component == "db-7"
        assert alert.description
    assert summarize_alerts(report).startswith("Alertmanager: 200 alerts firing (")
