"""Alertmanager webhook notifications (version 4) shaped like the ones Alertmanager 0.27
sends: one alert group per notification, grouped by alertname and service."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

STARTED = datetime(2026, 11, 21, 14, 31, 7, tzinfo=UTC)
GROUP_KEY = '{}/{team="payments"}:{alertname="HighErrorRate", service="checkout"}'
ZERO_TIME = "0001-01-01T00:00:00Z"
EXPR = 'sum by (service) (rate(http_requests_total{code=~"5.."}[5m])) > 0.05'


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alert(
    instance: str,
    *,
    status: str = "firing",
    starts: datetime = STARTED,
    ends: datetime | None = None,
    fingerprint: str | None = None,
    ratio: str = "12%",
) -> dict[str, Any]:
    labels = {
        "alertname": "HighErrorRate",
        "service": "checkout",
        "severity": "critical",
        "team": "payments",
        "instance": instance,
        "job": "checkout",
    }
    return {
        "status": status,
        "labels": labels,
        "annotations": {
            "summary": "checkout 5xx ratio above 5%",
            "description": f"5xx ratio is {ratio} on {instance}",
            "runbook_url": "https://runbooks.example.com/checkout/5xx",
        },
        "startsAt": _stamp(starts),
        "endsAt": _stamp(ends) if ends else ZERO_TIME,
        "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr="
        "sum+by+%28service%29+%28rate%28http_requests_total%7Bcode%3D~%225..%22%7D%5B5m%5D"
        "%29%29+%3E+0.05&g0.tab=1",
        "fingerprint": fingerprint or hashlib.sha256(instance.encode()).hexdigest()[:16],
    }


def notification(
    alerts: list[dict[str, Any]], *, group_key: str = GROUP_KEY, receiver: str = "faultmaven"
) -> dict[str, Any]:
    """The webhook body for a group whose alerts are `alerts`; status firing while any is."""
    firing = any(a["status"] == "firing" for a in alerts)
    common = {
        k: v for k, v in alerts[0]["labels"].items() if all(a["labels"].get(k) == v for a in alerts)
    }
    notes = {
        k: v
        for k, v in alerts[0]["annotations"].items()
        if all(a["annotations"].get(k) == v for a in alerts)
    }
    return {
        "receiver": receiver,
        "status": "firing" if firing else "resolved",
        "alerts": alerts,
        "groupLabels": {"alertname": "HighErrorRate", "service": "checkout"},
        "commonLabels": common,
        "commonAnnotations": notes,
        "externalURL": "http://alertmanager.example.com:9093",
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
    }


def two_firing() -> dict[str, Any]:
    """HighErrorRate on two checkout instances, 30 s apart."""
    return notification(
        [
            alert("10.0.0.7:8080", fingerprint="7a1c3e5b9d2f4a60"),
            alert(
                "10.0.0.8:8080",
                starts=STARTED + timedelta(seconds=30),
                fingerprint="8b2d4f6a0e3c5b71",
                ratio="9%",
            ),
        ]
    )


def three_firing() -> dict[str, Any]:
    """The same group a few minutes later: a third instance fires too."""
    body = two_firing()
    body["alerts"].append(
        alert(
            "10.0.0.9:8080",
            starts=STARTED + timedelta(minutes=4),
            fingerprint="9c3e5a7b1f4d6c82",
            ratio="7%",
        )
    )
    return notification(body["alerts"])


def all_resolved(at: datetime = STARTED + timedelta(minutes=21)) -> dict[str, Any]:
    """Every alert of the group resolved at `at` (14:52 UTC by default)."""
    alerts = three_firing()["alerts"]
    for item in alerts:
        item["status"] = "resolved"
        item["endsAt"] = _stamp(at)
    return notification(alerts)


def body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, indent=2).encode()
