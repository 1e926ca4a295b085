"""Alert and incident payloads (Alertmanager, Prometheus, PagerDuty, Datadog, Opsgenie,
Grafana, Robusta) as evidence: what was firing, on which component, since when."""
