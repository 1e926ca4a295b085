"""Evidence files as tools write them: log dialects, trace exports, metric exports, manifests.

Every function here takes simulated events (times in epoch seconds, UTC) and returns the bytes a
person would upload: kubectl logs, a Loki or Grafana export, a Jaeger JSON download...
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import yaml

from tests.scenarios.sim import LogEvent, Span, Trace

_LEVEL_LOWER = {
    "FATAL": "fatal",
    "ERROR": "error",
    "WARN": "warn",
    "INFO": "info",
    "DEBUG": "debug",
}
_PINO = {"FATAL": 60, "ERROR": 50, "WARN": 40, "INFO": 30, "DEBUG": 20}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def dt(t: float, offset_minutes: int = 0) -> datetime:
    tz = UTC if offset_minutes == 0 else timezone(timedelta(minutes=offset_minutes))
    return datetime.fromtimestamp(round(t, 6), UTC).astimezone(tz)


def iso(t: float, *, digits: int = 3, offset_minutes: int = 0, zulu: bool = True) -> str:
    d = dt(t, offset_minutes)
    frac = f".{d.microsecond:06d}"[: digits + 1] if digits else ""
    if digits > 6:
        frac = f".{d.microsecond:06d}" + "0" * (digits - 6)
    if offset_minutes == 0 and zulu:
        zone = "Z"
    else:
        sign = "+" if offset_minutes >= 0 else "-"
        zone = f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"
    return d.strftime("%Y-%m-%dT%H:%M:%S") + frac + zone


def epoch_ms(t: float) -> int:
    return round(t * 1000)


def lines(rows: Iterable[str]) -> bytes:
    return ("\n".join(rows) + "\n").encode()


# -- logs ---------------------------------------------------------------------------------


def _with_stacks(events: Iterable[LogEvent], head: Callable[[LogEvent], str]) -> bytes:
    """Text logs: each event's own line, then its stack trace lines as they are."""
    out = []
    for e in events:
        out.append(head(e))
        out.extend(e.stack)
    return lines(out)


def nginx_access(entries: Sequence[dict[str, Any]], offset_minutes: int = 0) -> bytes:
    """ingress-nginx's default log format (combined plus upstream fields)."""
    out = []
    for e in sorted(entries, key=lambda e: e["t"]):
        d = dt(e["t"], offset_minutes)
        sign = "+" if offset_minutes >= 0 else "-"
        zone = f"{sign}{abs(offset_minutes) // 60:02d}{abs(offset_minutes) % 60:02d}"
        when = f"{d.day:02d}/{_MONTHS[d.month - 1]}/{d.year}:{d:%H:%M:%S} {zone}"
        rt = e["rt"]
        up_status = e.get("up_status") or e["status"]
        port = 8080 if "api" in e["upstream"] else 80
        out.append(
            f'{e["ip"]} - - [{when}] "{e["method"]} {e["path"]} HTTP/2.0" {e["status"]} '
            f'{e["bytes"]} "{e["referer"]}" "{e["agent"]}" {300 + int(rt * 997) % 400} '
            f"{rt:.3f} [{e['upstream']}] [] {e['up_addr']}:{port} "
            f"{e['bytes']} {max(rt - 0.001, 0.0):.3f} {up_status} {e['req_id']}"
        )
    return lines(out)


def _logfmt_value(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    if text == "" or any(c in text for c in ' "=\t'):
        return json.dumps(text)
    return text


def logfmt(events: Sequence[LogEvent], service: str) -> bytes:
    """Go services logging with go-kit / slog's text handler."""
    out = []
    for e in events:
        pairs = [
            f"ts={iso(e.t)}",
            f"level={_LEVEL_LOWER[e.level]}",
            f"service={service}",
            f"msg={_logfmt_value(e.msg)}",
        ]
        pairs += [f"{k}={_logfmt_value(v)}" for k, v in e.fields.items() if v is not None]
        out.append(" ".join(pairs))
    return lines(out)


def _abbreviate(logger: str, width: int = 40) -> str:
    """Logback's %logger{40}: shorten packages from the left until it fits."""
    parts = logger.split(".")
    for i in range(len(parts) - 1):
        if len(".".join(parts)) <= width:
            break
        parts[i] = parts[i][:1]
    return ".".join(parts)


def spring(events: Sequence[LogEvent], app: str, offset_minutes: int = 0) -> bytes:
    """Spring Boot 3's default console pattern, in the pod's local zone."""

    def head(e: LogEvent) -> str:
        stamp = iso(e.t, offset_minutes=offset_minutes, zulu=False)
        thread = (e.thread or "main")[-15:]
        logger = _abbreviate(e.logger)
        return f"{stamp} {e.level:>5} 1 --- [{app}] [{thread:>15}] {logger:<40} : {e.msg}"

    return _with_stacks(events, head)


def logstash_json(events: Sequence[LogEvent], app: str) -> bytes:
    """logstash-logback-encoder, one JSON object a line."""
    out = []
    for e in events:
        doc: dict[str, object] = {
            "@timestamp": iso(e.t, zulu=False),
            "@version": "1",
            "message": e.msg,
            "logger_name": e.logger,
            "thread_name": e.thread or "main",
            "level": e.level,
            "level_value": {"ERROR": 40000, "WARN": 30000, "INFO": 20000}.get(e.level, 10000),
            "app": app,
            "pod": e.pod,
        }
        if e.stack:
            doc["stack_trace"] = "\n".join(e.stack)
        doc |= {k: v for k, v in e.fields.items() if v is not None}
        out.append(json.dumps(doc, separators=(",", ":")))
    return lines(out)


def pino(events: Sequence[LogEvent], service: str) -> bytes:
    """Node's pino (pino-http for requests): epoch-millisecond times, numeric levels."""
    out = []
    for e in events:
        doc: dict[str, object] = {
            "level": _PINO[e.level],
            "time": epoch_ms(e.t),
            "pid": 1,
            "hostname": e.pod,
            "service": service,
        }
        doc |= {k: v for k, v in e.fields.items() if v is not None}
        doc["msg"] = e.msg
        out.append(json.dumps(doc, separators=(",", ":")))
    return lines(out)


def zap_console(events: Sequence[LogEvent]) -> bytes:
    """Go's zap with the console encoder: tab-separated, fields as a JSON object."""

    def head(e: LogEvent) -> str:
        fields = {k: v for k, v in e.fields.items() if v is not None}
        tail = f"\t{json.dumps(fields, separators=(', ', ': '))}" if fields else ""
        return f"{iso(e.t)}\t{e.level}\t{e.logger or 'main.go:1'}\t{e.msg}{tail}"

    return _with_stacks(events, head)


def structlog_json(events: Sequence[LogEvent], service: str) -> bytes:
    out = []
    for e in events:
        doc: dict[str, object] = {k: v for k, v in e.fields.items() if v is not None}
        doc |= {
            "event": e.msg,
            "level": _LEVEL_LOWER[e.level],
            "logger": e.logger,
            "service": service,
            "pod": e.pod,
            "timestamp": iso(e.t, digits=6),
        }
        out.append(json.dumps(doc, separators=(", ", ": ")))
    return lines(out)


def _syslog_stamp(t: float) -> str:
    d = dt(t)
    return f"{_MONTHS[d.month - 1]} {d.day:>2} {d:%H:%M:%S}"


def postgres_syslog(events: Sequence[LogEvent], host: str) -> bytes:
    """PostgreSQL logging to syslog on a VM: year-less stamps, one syslog line per line of
    the message ([n-1], [n-2] ...)."""
    out = []
    for n, e in enumerate(events, start=40):
        pid = e.fields.get("pid", 1)
        prefix = e.fields.get("prefix", "")
        body = [e.msg, *e.stack]
        for k, text in enumerate(body, start=1):
            sep = f"{prefix} " if prefix and k == 1 else ""
            out.append(
                f"{_syslog_stamp(e.t)} {host} postgres[{pid}]: [{n}-{k}] {sep}{text.lstrip(chr(9))}"
            )
    return lines(out)


def postgres_stderr(events: Sequence[LogEvent]) -> bytes:
    """The postgres image's stderr log ('%m [%p] %q%u@%d ')."""
    out = []
    for e in events:
        d = dt(e.t)
        stamp = f"{d:%Y-%m-%d %H:%M:%S}.{d.microsecond // 1000:03d} UTC"
        pid = e.fields.get("pid", 1)
        who = e.fields.get("who", "")
        who = f"{who} " if who else ""
        out.append(f"{stamp} [{pid}] {who}{e.msg}")
        for extra in e.stack:
            out.append(extra if extra.startswith("\t") else f"{stamp} [{pid}] {who}{extra}")
    return lines(out)


def kafka_log(events: Sequence[LogEvent]) -> bytes:
    """Kafka's server.log (log4j: '[yyyy-MM-dd HH:mm:ss,SSS] LEVEL message (logger)')."""

    def head(e: LogEvent) -> str:
        d = dt(e.t)
        return f"[{d:%Y-%m-%d %H:%M:%S},{d.microsecond // 1000:03d}] {e.level} {e.msg} ({e.logger})"

    return _with_stacks(events, head)


def redis_log(events: Sequence[LogEvent], kubectl_timestamps: bool = False) -> bytes:
    """Redis' own format: 'pid:role dd Mon yyyy hh:mm:ss.mmm <mark> message'."""
    marks = {"WARN": "#", "ERROR": "#", "INFO": "*", "DEBUG": "."}
    out = []
    for e in events:
        d = dt(e.t)
        role = e.fields.get("role", "M")
        stamp = f"{d.day} {_MONTHS[d.month - 1]} {d.year} {d:%H:%M:%S}.{d.microsecond // 1000:03d}"
        line = f"{e.fields.get('pid', 1)}:{role} {stamp} {marks.get(e.level, '*')} {e.msg}"
        out.append(f"{iso(e.t, digits=9)} {line}" if kubectl_timestamps else line)
    return lines(out)


def kubectl_timestamps(events: Sequence[LogEvent]) -> bytes:
    """`kubectl logs --timestamps`: RFC 3339 nanosecond stamps before the container's line."""
    return lines(f"{iso(e.t, digits=9)} {e.msg}" for e in events)


def k8s_events_table(events: Sequence[LogEvent]) -> bytes:
    """`kubectl get events --sort-by=.lastTimestamp -o custom-columns=...`"""
    rows = [("LAST SEEN", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE")]
    for e in events:
        kind = "Warning" if e.level in ("WARN", "ERROR") else "Normal"
        rows.append(
            (
                iso(e.t, digits=0),
                kind,
                str(e.fields["reason"]),
                str(e.fields["object"]),
                str(e.fields.get("count", 1)),
                e.msg,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return lines("   ".join([*(r[i].ljust(widths[i]) for i in range(5)), r[5]]) for r in rows)


def k8s_events_json(events: Sequence[LogEvent], cluster: str) -> bytes:
    """kubernetes-event-exporter's JSON lines (the Event objects as the API returns them)."""
    out = []
    for n, e in enumerate(events):
        obj = str(e.fields["object"])
        kind_name = obj.split("/", 1)
        kind = {
            "pod": "Pod",
            "deployment": "Deployment",
            "replicaset": "ReplicaSet",
            "node": "Node",
            "statefulset": "StatefulSet",
            "persistentvolumeclaim": "PersistentVolumeClaim",
            "horizontalpodautoscaler": "HorizontalPodAutoscaler",
            "job": "Job",
            "cronjob": "CronJob",
        }.get(kind_name[0], kind_name[0].title())
        name = kind_name[-1]
        namespace = str(e.fields.get("namespace", "shop"))
        doc = {
            "metadata": {
                "name": f"{name}.{(int(e.t * 1000) * 7919 + n) % 16**16:016x}"[:63],
                "namespace": namespace,
                "creationTimestamp": iso(e.t, digits=0),
            },
            "reason": e.fields["reason"],
            "message": e.msg,
            "source": {"component": e.fields.get("source", "kubelet")},
            "firstTimestamp": iso(float(str(e.fields.get("first", e.t))), digits=0),
            "lastTimestamp": iso(e.t, digits=0),
            "count": e.fields.get("count", 1),
            "type": "Warning" if e.level in ("WARN", "ERROR") else "Normal",
            "involvedObject": {"kind": kind, "namespace": namespace, "name": name},
            "clusterName": cluster,
        }
        out.append(json.dumps(doc, separators=(",", ":")))
    return lines(out)


# -- traces -------------------------------------------------------------------------------


def _span_error(span: Span) -> bool:
    return span.error is not None or (span.status or 0) >= 500


def jaeger(traces: Sequence[Trace]) -> bytes:
    """The Jaeger UI's 'Download JSON' (the query API answer), compact."""
    data = []
    for trace in traces:
        services = sorted({s.service for s in trace.spans})
        process = {name: f"p{i + 1}" for i, name in enumerate(services)}
        spans = []
        for s in trace.spans:
            tags: list[dict[str, object]] = [
                {"key": "span.kind", "type": "string", "value": s.kind}
            ]
            for key, value in s.attrs.items():
                kind = "int64" if isinstance(value, int) else "string"
                tags.append({"key": key, "type": kind, "value": value})
            if s.peer:
                tags.append({"key": "peer.service", "type": "string", "value": s.peer})
            logs: list[dict[str, object]] = []
            if _span_error(s):
                tags.append({"key": "error", "type": "bool", "value": True})
                tags.append({"key": "otel.status_code", "type": "string", "value": "ERROR"})
                if s.error:
                    logs.append(
                        {
                            "timestamp": int((s.start + s.dur_ms / 1000) * 1e6),
                            "fields": [
                                {"key": "event", "type": "string", "value": "exception"},
                                {
                                    "key": "exception.message",
                                    "type": "string",
                                    "value": s.error[:300],
                                },
                            ],
                        }
                    )
            refs = (
                [{"refType": "CHILD_OF", "traceID": trace.id, "spanID": s.parent_id}]
                if s.parent_id
                else []
            )
            spans.append(
                {
                    "traceID": trace.id,
                    "spanID": s.span_id,
                    "operationName": s.name,
                    "references": refs,
                    "startTime": int(s.start * 1e6),
                    "duration": int(s.dur_ms * 1000),
                    "tags": tags,
                    "logs": logs,
                    "processID": process[s.service],
                    "warnings": None,
                }
            )
        procs = {
            pid: {
                "serviceName": name,
                "tags": [{"key": "k8s.namespace.name", "type": "string", "value": "shop"}],
            }
            for name, pid in process.items()
        }
        data.append({"traceID": trace.id, "spans": spans, "processes": procs, "warnings": None})
    doc = {"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None}
    return json.dumps(doc, separators=(",", ":")).encode() + b"\n"


_OTLP_KIND = {"server": 2, "client": 3, "producer": 4}


def _otlp_value(value: str | int) -> dict[str, object]:
    return {"intValue": str(value)} if isinstance(value, int) else {"stringValue": value}


def otlp(traces: Sequence[Trace]) -> bytes:
    """OTLP/JSON as the collector's file exporter writes it (one resource per service)."""
    by_service: dict[str, list[Span]] = {}
    for trace in traces:
        for s in trace.spans:
            by_service.setdefault(s.service, []).append(s)
    resources = []
    for service in sorted(by_service):
        items = []
        for s in by_service[service]:
            attrs = [{"key": k, "value": _otlp_value(v)} for k, v in s.attrs.items()]
            if s.peer:
                attrs.append({"key": "peer.service", "value": {"stringValue": s.peer}})
            item: dict[str, object] = {
                "traceId": s.trace_id,
                "spanId": s.span_id,
                "parentSpanId": s.parent_id or "",
                "name": s.name,
                "kind": _OTLP_KIND.get(s.kind, 1),
                "startTimeUnixNano": str(int(s.start * 1e9)),
                "endTimeUnixNano": str(int((s.start + s.dur_ms / 1000) * 1e9)),
                "attributes": attrs,
                "status": {"code": 2, "message": (s.error or "")[:300]} if _span_error(s) else {},
            }
            items.append(item)
        resource = {
            "attributes": [
                {"key": "service.name", "value": {"stringValue": service}},
                {"key": "k8s.namespace.name", "value": {"stringValue": "shop"}},
            ]
        }
        scope = {"scope": {"name": "io.opentelemetry.auto", "version": "2.8.0"}, "spans": items}
        resources.append({"resource": resource, "scopeSpans": [scope]})
    return json.dumps({"resourceSpans": resources}, separators=(",", ":")).encode() + b"\n"


def span_csv(traces: Sequence[Trace]) -> bytes:
    """A span table exported from a trace store's query UI."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "trace_id",
            "span_id",
            "parent_id",
            "service",
            "operation",
            "start",
            "duration",
            "status",
            "peer_service",
        ]
    )
    for trace in traces:
        for s in trace.spans:
            status = "ERROR" if _span_error(s) else "OK"
            writer.writerow(
                [
                    s.trace_id,
                    s.span_id,
                    s.parent_id or "",
                    s.service,
                    s.name,
                    iso(s.start, digits=6),
                    f"{s.dur_ms:.2f}ms",
                    status,
                    s.peer or "",
                ]
            )
    return out.getvalue().encode()


# -- metrics ------------------------------------------------------------------------------


def csv_wide(
    times: Sequence[float], columns: Mapping[str, Sequence[float]], *, time_format: str = "iso"
) -> bytes:
    """A Grafana 'Export CSV' style table: a time column and one column per series."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Time", *columns])
    for i, t in enumerate(times):
        if time_format == "epoch_ms":
            stamp: str = str(epoch_ms(t))
        elif time_format == "space":
            stamp = dt(t).strftime("%Y-%m-%d %H:%M:%S")
        else:
            stamp = iso(t, digits=0)
        writer.writerow([stamp, *(_number(col[i]) for col in columns.values())])
    return out.getvalue().encode()


def _number(value: float) -> str:
    if value != value:  # NaN: Grafana leaves the cell empty
        return ""
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.4g}" if abs(value) < 1 else f"{value:.2f}"


def prom_matrix(series: Sequence[tuple[dict[str, str], Sequence[tuple[float, float]]]]) -> bytes:
    """A Prometheus /api/v1/query_range answer (resultType matrix)."""
    result = [
        {"metric": labels, "values": [[round(t, 3), _number(v)] for t, v in points]}
        for labels, points in series
    ]
    doc = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    return json.dumps(doc, separators=(",", ":")).encode() + b"\n"


Family = tuple[str, str, str, Sequence[tuple[dict[str, str], float]]]  # name, type, help, samples


def prom_text(families: Sequence[Family]) -> bytes:
    """One scrape of a /metrics endpoint: (name, type, help, samples)."""
    out = []
    for name, kind, help_text, samples in families:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            label_text = ",".join(f'{k}="{v}"' for k, v in labels.items())
            text = f"{value:.6g}" if not float(value).is_integer() else f"{value:.0f}"
            if abs(value) >= 1e6:
                text = f"{value:.6e}"
            out.append(f"{name}{{{label_text}}} {text}" if label_text else f"{name} {text}")
    return lines(out)


# -- configs ------------------------------------------------------------------------------


def manifests(docs: Sequence[dict[str, Any]]) -> bytes:
    return "---\n".join(
        yaml.safe_dump(d, sort_keys=False, default_flow_style=False, width=100) for d in docs
    ).encode()
