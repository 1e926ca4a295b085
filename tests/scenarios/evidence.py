"""The files of a scenario, as data: which events go into which format. A scenario maps each
file name to a `Writer`; the writer knows the kind of evidence it makes (for answer.yaml)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tests.scenarios import formats
from tests.scenarios.k8s import Deployment
from tests.scenarios.sim import Sim, Trace
from tests.scenarios.stage import Stage

KINDS = ("log", "metrics", "traces", "config", "kubernetes")
TRACED = "POST /api/checkout"  # the operation an engineer searches traces for


@dataclass(frozen=True)
class Writer:
    kind: str  # log | metrics | traces | config | kubernetes
    write: Callable[[Stage], bytes]

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind


# -- logs ---------------------------------------------------------------------------------


def logstash(service: str) -> Writer:
    """A Java service's logstash-logback-encoder JSON lines."""
    return Writer("log", lambda s: formats.logstash_json(s.sim.events(service), service))


def spring(service: str, offset_minutes: int = 0) -> Writer:
    """A Java service's Spring Boot console log, in the pod's zone (`offset_minutes`)."""
    return Writer("log", lambda s: formats.spring(s.sim.events(service), service, offset_minutes))


def logfmt(service: str) -> Writer:
    return Writer("log", lambda s: formats.logfmt(s.sim.events(service), service))


def pino(service: str) -> Writer:
    return Writer("log", lambda s: formats.pino(s.sim.events(service), service))


def zap(service: str) -> Writer:
    return Writer("log", lambda s: formats.zap_console(s.sim.events(service)))


def structlog(service: str) -> Writer:
    return Writer("log", lambda s: formats.structlog_json(s.sim.events(service), service))


def nginx(offset_minutes: int = 0) -> Writer:
    """ingress-nginx's access log."""
    return Writer("log", lambda s: formats.nginx_access(s.sim.access, offset_minutes))


def k8s_events(cluster: str | None = None) -> Writer:
    """`kubectl get events` as a table, or kubernetes-event-exporter's JSON if `cluster`."""
    if cluster is None:  # the table is cluster state; the exporter's JSON lines are a log
        return Writer("kubernetes", lambda s: formats.k8s_events_table(s.sim.events("k8s")))
    return Writer("log", lambda s: formats.k8s_events_json(s.sim.events("k8s"), cluster))


def kafka(broker: str) -> Writer:
    return Writer("log", lambda s: formats.kafka_log(s.sim.events(broker)))


def redis(key: str) -> Writer:
    return Writer("log", lambda s: formats.redis_log(s.sim.events(key)))


def postgres_syslog(host: str) -> Writer:
    return Writer("log", lambda s: formats.postgres_syslog(s.sim.events(host), host))


def postgres_stderr(key: str) -> Writer:
    return Writer("log", lambda s: formats.postgres_stderr(s.sim.events(key)))


def kubectl_logs(key: str) -> Writer:
    """`kubectl logs --timestamps` of one pod."""
    return Writer("log", lambda s: formats.kubectl_timestamps(s.sim.events(key)))


def kubectl_output(write: Callable[[Stage], bytes]) -> Writer:
    """Output of `kubectl describe` or `get` that only this scenario writes."""
    return Writer("kubernetes", write)


def text(write: Callable[[Stage], bytes]) -> Writer:
    """A log file that only this scenario writes (mixed loggers)."""
    return Writer("log", write)


# -- traces -------------------------------------------------------------------------------


def sample_traces(
    sim: Sim, rng: random.Random, count: int, *, root: str, since: float | None = None
) -> list[Trace]:
    """`count` traces whose root operation contains `root`, spread over the window the way
    a 'search, limit N' in a trace UI returns them, oldest first."""
    found = [
        t
        for t in sim.traces
        if t.spans and root in t.spans[0].name and (since is None or t.spans[0].start >= since)
    ]
    if len(found) > count:
        found = rng.sample(found, count)
    return sorted(found, key=lambda t: t.spans[0].start)


def _traces(count: int, export: Callable[[Sequence[Trace]], bytes]) -> Writer:
    return Writer("traces", lambda s: export(sample_traces(s.sim, s.rng, count, root=TRACED)))


def jaeger(count: int) -> Writer:
    """`count` checkout traces, as the Jaeger UI's JSON download."""
    return _traces(count, formats.jaeger)


def otlp(count: int) -> Writer:
    """`count` checkout traces, as the OpenTelemetry collector's file exporter writes them."""
    return _traces(count, formats.otlp)


def span_csv(count: int) -> Writer:
    """`count` checkout traces, as a span table."""
    return _traces(count, formats.span_csv)


# -- metrics ------------------------------------------------------------------------------


def grafana_csv(time_format: str = "iso") -> Writer:
    """The scenario's metric columns as a Grafana CSV export."""

    def write(s: Stage) -> bytes:
        return formats.csv_wide(s.times, dict(s.columns), time_format=time_format)

    return Writer("metrics", write)


def prometheus_range() -> Writer:
    """The scenario's metric series (their names are label sets) as a query_range answer;
    samples without a value are left out, as Prometheus does."""

    def write(s: Stage) -> bytes:
        series = [
            (labels, [(t, v) for t, v in zip(s.times, values, strict=True) if not math.isnan(v)])
            for labels, values in s.columns
        ]
        return formats.prom_matrix(series)

    return Writer("metrics", write)


def prometheus_scrape(families: Sequence[formats.Family]) -> Writer:
    """One scrape of a /metrics endpoint: (name, type, help, samples) per family."""
    return Writer("metrics", lambda s: formats.prom_text(families))


# -- configs ------------------------------------------------------------------------------


def manifests(deployment: Deployment) -> Writer:
    """The Deployment and its Service, as `kubectl get -o yaml` would show them."""
    return Writer("config", lambda s: formats.manifests([deployment.doc(), deployment.service()]))
