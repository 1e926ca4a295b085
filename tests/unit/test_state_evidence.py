"""Alerts and Kubernetes state in a case: suspects, hypotheses in their own words, the window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from engine.evidence.analyze import analyze
from engine.evidence.timeline import merged_timeline
from engine.investigate.reasoner import investigate_offline

START = datetime(2024, 3, 11, 8, 44, tzinfo=UTC)


def alertmanager(status: str = "firing") -> bytes:
    alert = {
        "status": status,
        "labels": {
            "alertname": "KubePodCrashLooping",
            "severity": "warning",
            "namespace": "shop",
            "pod": "checkout-7d9f8c6b5-x2k4p",
        },
        "annotations": {"description": "Pod shop/checkout-7d9f8c6b5-x2k4p is in CrashLoopBackOff."},
        "startsAt": "2024-03-11T08:44:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
    }
    payload = {"receiver": "slack", "status": status, "alerts": [alert], "version": "4"}
    return json.dumps(payload).encode()


def latency_csv() -> bytes:
    rows = ["time,checkout_latency_ms,payments_latency_ms"]
    for m in range(60):
        at = START - timedelta(minutes=40) + timedelta(minutes=m)
        slow = 900 if m >= 40 else 20
        rows.append(f"{at:%Y-%m-%dT%H:%M:%SZ},{slow + m % 3},{20 + m % 3}")
    return ("\n".join(rows) + "\n").encode()


def test_a_firing_alert_names_its_workload_and_reads_as_its_failure() -> None:
    result = investigate_offline("what is wrong?", [], [analyze("alert.json", alertmanager())])
    assert result.suspects[0].component == "checkout"
    top = result.hypotheses[0]
    assert top.signature == "crash-loop" and top.component == "checkout"
    assert "CrashLoopBackOff" in top.supporting[0].text


def test_a_resolved_alert_is_no_incident() -> None:
    result = investigate_offline(
        "what is wrong?", [], [analyze("a.json", alertmanager("resolved"))]
    )
    assert result.suspects == []


def test_the_first_firing_alert_sets_the_window_when_nobody_gave_a_time() -> None:
    reports = [analyze("alert.json", alertmanager()), analyze("m.csv", latency_csv())]
    result = investigate_offline("what is wrong?", [], reports)
    reasons = " ".join(r for s in result.suspects for r in s.reasons)
    assert "checkout_latency_ms" in reasons and "from 08:44" in reasons
    events = merged_timeline(reports)
    assert any(e.what.startswith("alert firing: KubePodCrashLooping") for e in events)


def test_warning_events_with_full_times_are_on_the_timeline() -> None:
    events_yaml = b"""apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Event
  metadata:
    name: checkout-7d9f8c6b5-x2k4p.17a3b
    namespace: shop
    uid: 4f1c2a9e-1111-2222-3333-444455556666
    creationTimestamp: "2024-03-11T08:44:10Z"
  involvedObject:
    kind: Pod
    name: checkout-7d9f8c6b5-x2k4p
    namespace: shop
  reason: BackOff
  message: Back-off restarting failed container checkout
  type: Warning
  count: 12
  firstTimestamp: "2024-03-11T08:44:10Z"
  lastTimestamp: "2024-03-11T08:59:10Z"
"""
    report = analyze("events.yaml", events_yaml)
    assert report.kind == "kubernetes"
    timeline = merged_timeline([report])
    assert any(e.what.startswith("BackOff: Back-off restarting") for e in timeline)


def test_with_no_incident_what_kubectl_answered_is_the_conclusion() -> None:
    missing = analyze("out.txt", b'error: the server doesn\'t have a resource type "widget"\n')
    result = investigate_offline("why is widget not scaling?", [], [missing])
    # a missing resource type is a hypothesis of its own, not only a line of the conclusion
    assert result.working_conclusion.startswith("The cluster has no resource type widget")
    assert result.hypotheses[0].signature == "not-installed"
    # an object not found, with nothing the question names, is said in the conclusion
    gone = analyze("out.txt", b'Error from server (NotFound): pods "web-1" not found\n')
    quiet = investigate_offline("anything wrong?", [], [gone])
    assert quiet.working_conclusion.startswith("Nothing in the evidence looks like an incident")
    assert "pod web-1 could not be found" in quiet.working_conclusion
