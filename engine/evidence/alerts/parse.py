"""Text -> alerts: parse the JSON (one document, or one payload a line), send each document
to the reader of its shape, and find the line each alert's title appears on."""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.core.errors import EvidenceRejected
from engine.evidence.alerts import datadog, detect, incidents, prometheus, robusta
from engine.evidence.alerts.report import Alert
from engine.evidence.bounded import TooComplex, load_json

Reader = Callable[[Any], tuple[list[Alert], list[str]]]

_READERS: dict[str, Reader] = {
    detect.WEBHOOK: prometheus.parse_webhook,
    detect.ALERT_LIST: prometheus.parse_v2_list,
    detect.PROMETHEUS_ALERTS: prometheus.parse_prometheus_alerts,
    detect.PROMETHEUS_RULES: prometheus.parse_rules,
    detect.GRAFANA_LEGACY: prometheus.parse_grafana_legacy,
    detect.PAGERDUTY: incidents.parse_pagerduty,
    detect.OPSGENIE: incidents.parse_opsgenie,
    detect.DATADOG: datadog.parse_datadog,
    detect.ROBUSTA: robusta.parse_findings,
}
# The tool a shape comes from when it has no alerts to say so.
_TOOLS = {
    detect.WEBHOOK: "alertmanager",
    detect.ALERT_LIST: "alertmanager",
    detect.PROMETHEUS_ALERTS: "prometheus",
    detect.PROMETHEUS_RULES: "prometheus",
    detect.GRAFANA_LEGACY: "grafana",
    detect.PAGERDUTY: "pagerduty",
    detect.OPSGENIE: "opsgenie",
    detect.DATADOG: "datadog",
    detect.ROBUSTA: "robusta",
}
_FORMATS = (
    "an Alertmanager, Prometheus, Grafana, PagerDuty, Opsgenie, Datadog or Robusta JSON payload"
)


@dataclass
class Parsed:
    format: str
    alerts: list[Alert] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_documents(text: str) -> list[tuple[int, Any]]:
    """(first line, document) for the whole text, or for each line of JSON lines."""
    try:
        return [(1, load_json(text))]
    except TooComplex as error:
        raise EvidenceRejected(f"The file is {error}, so its alerts cannot be read.") from None
    except json.JSONDecodeError as error:
        whole_error = error
    documents = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            try:
                documents.append((number, load_json(line)))
            except ValueError:
                documents = []
                break
    if not documents:
        raise EvidenceRejected(
            f"The file is not valid JSON ({whole_error.msg} at line {whole_error.lineno}, "
            f"column {whole_error.colno}), so its alerts cannot be read."
        )
    return documents


def _needles(title: str) -> list[re.Pattern[str]]:
    """Where an alert's title is written: as its `alertname` label first (a rule's alerts
    repeat the rule's name), else anywhere as a JSON string, escaped or not."""
    written = list(dict.fromkeys((json.dumps(title), json.dumps(title, ensure_ascii=False))))
    named = [re.compile(r'"alertname"\s*:\s*' + re.escape(w)) for w in written]
    return named + [re.compile(re.escape(w)) for w in written]


def _place(alerts: list[Alert], text: str, first_line: int, line_starts: list[int]) -> None:
    """Each alert's line: where its title next appears after the previous alert's, since the
    alerts are read in file order. Left None when the title is not in the text as written."""
    position = line_starts[min(first_line, len(line_starts)) - 1]
    for alert in alerts:
        for needle in _needles(alert.title):
            found = needle.search(text, position)
            if found:
                position = found.end()
                alert.line = bisect_right(line_starts, found.start())
                break


def parse_alerts(text: str) -> Parsed:
    """Every alert of the text; EvidenceRejected when it is not JSON or holds no payload."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    parsed = Parsed(format="")
    shapes: Counter[str] = Counter()
    skipped = 0
    for first_line, document in load_documents(text):
        shape = detect.classify(document)
        if shape is None:
            skipped += 1
            continue
        shapes[shape] += 1
        alerts, notes = _READERS[shape](detect.unwrap(document))
        _place(alerts, text, first_line, line_starts)
        parsed.alerts += alerts
        parsed.notes += [note for note in notes if note not in parsed.notes]
    if not shapes:
        raise EvidenceRejected(f"The JSON holds no alerts we can read; please upload {_FORMATS}.")
    sources = Counter(alert.source for alert in parsed.alerts if alert.source)
    parsed.format = sources.most_common(1)[0][0] if sources else _TOOLS[shapes.most_common(1)[0][0]]
    if skipped:
        parsed.notes.append(f"{skipped:,} lines were not alert payloads and were skipped")
    return parsed
