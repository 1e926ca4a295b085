"""What every alert family shares: reading loose JSON values, times, and which component and
namespace a set of labels (or Datadog-style `key:value` tags) is about."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from engine.core.wording import clip
from engine.evidence.components import canonical
from engine.evidence.timestamps import parse_timestamp_value

MAX_DESCRIPTION = 400  # a description is read in a thread, not stored whole
# Tools write "no time" as the zero time ("0001-01-01T00:00:00Z") or as epoch 0.
_EARLIEST_YEAR = 1990

# Label names in every spelling (lower case; '.', '/' and '-' read as '_'), most specific
# first. A workload label names what the alert is about even when the series also carries
# the pod and container of the exporter that reported it (kube-state-metrics style series
# about a Deployment carry the exporter's own pod).
_WORKLOAD = (
    "deployment",
    "kube_deployment",
    "k8s_deployment_name",
    "statefulset",
    "kube_stateful_set",
    "k8s_statefulset_name",
    "daemonset",
    "kube_daemon_set",
    "k8s_daemonset_name",
    "cronjob",
    "kube_cronjob",
    "job_name",
    "kube_job",
    "k8s_job_name",
)
_POD = ("pod", "pod_name", "kube_pod_name", "k8s_pod_name")
_CONTAINER = ("container", "container_name", "kube_container_name", "k8s_container_name")
_SERVICE = (
    "service",
    "service_name",
    "kube_service",
    "app",
    "application",
    "app_kubernetes_io_name",
    "k8s_app",
    "component",
)
_JOB = ("job",)
_HOST = ("instance", "host", "hostname", "node", "nodename", "kubernetes_node")
_NAMESPACE = ("namespace", "kube_namespace", "k8s_namespace_name", "namespace_name")
_SEVERITY = ("severity", "priority", "level")
# A CronJob's Jobs are '<cronjob>-<scheduled minute since 1970>': one component.
_CRON_SUFFIX = re.compile(r"-\d{8,10}$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_PORT = re.compile(r":\d{1,5}$")


def text(value: object) -> str | None:
    """A non-empty string from a JSON scalar; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def first(obj: Mapping[str, Any], *keys: str) -> str | None:
    """The first of `keys` with a usable text value."""
    for key in keys:
        found = text(obj.get(key))
        if found is not None:
            return found
    return None


def mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def items(value: object) -> list[dict[str, Any]]:
    """The objects of a JSON list (other entries ignored)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def when(value: object) -> datetime | None:
    """An aware UTC time from ISO text or an epoch number; None for the tools' 'no time'."""
    found = parse_timestamp_value(value)
    return found if found is not None and found.year >= _EARLIEST_YEAR else None


def describe(value: str | None) -> str | None:
    return clip(value, MAX_DESCRIPTION) if value else None


def str_labels(value: object) -> dict[str, str]:
    """A label map with scalar values as text (nested values are not labels)."""
    return {str(k): found for k, v in mapping(value).items() if (found := text(v)) is not None}


def tag_labels(tags: object) -> dict[str, str]:
    """Datadog / Opsgenie tags ['service:checkout', 'env:prod', 'urgent'] as labels; a bare
    tag maps to ''."""
    labels: dict[str, str] = {}
    if not isinstance(tags, list):
        return labels
    for tag in tags:
        if isinstance(tag, str) and tag.strip():
            key, _, value = tag.strip().partition(":")
            labels.setdefault(key.strip(), value.strip())
    return labels


def _key(name: str) -> str:
    return re.sub(r"[./\-]", "_", name.strip().lower())


def _lookup(labels: Mapping[str, str], names: Iterable[str]) -> str | None:
    """The value of the first of `names`; a relabelled `exported_<name>` wins, since that is
    the series' own label where the scrape target's label took the plain name."""
    normal = {_key(k): v for k, v in labels.items() if v}
    for name in names:
        for key in (f"exported_{name}", name):
            if normal.get(key):
                return normal[key]
    return None


def _name(value: str | None, host: bool = False) -> str | None:
    """A component name from a label value; None for addresses and empty names."""
    if not value:
        return None
    value = value.strip()
    if host:
        value = _PORT.sub("", value.split("://", 1)[-1].split("/", 1)[0])
        if _IPV4.match(value) or value.startswith("[") or value.count(":") >= 2:
            return None  # an address names no component
        value = value.split(".", 1)[0]  # 'payments-db.shop.svc' -> 'payments-db'
    name = canonical(_CRON_SUFFIX.sub("", re.sub(r"\s+", "-", value)))
    return name if any(c.isalpha() for c in name) else None


def _reports_on_node(labels: Mapping[str, str]) -> bool:
    """An exporter's series about a node: its pod is the exporter's, so the node is named."""
    job = _name(_lookup(labels, _JOB))
    pod = _name(_lookup(labels, _POD))
    return bool(job and pod and job in pod and _lookup(labels, ("node",)))


def component_of(labels: Mapping[str, str]) -> str | None:
    """The most specific workload the labels name (workload, pod, container, service, scrape
    job, host), reduced with canonical(); None when nothing names one."""
    if _reports_on_node(labels):
        return _name(_lookup(labels, ("node",)), host=True)
    for names in (_WORKLOAD, _POD, _CONTAINER, _SERVICE, _JOB):
        found = _name(_lookup(labels, names))
        if found:
            return found
    return _name(_lookup(labels, _HOST), host=True)


def namespace_of(labels: Mapping[str, str]) -> str | None:
    return _lookup(labels, _NAMESPACE)


def severity_of(labels: Mapping[str, str]) -> str | None:
    found = _lookup(labels, _SEVERITY)
    return found.lower() if found else None


def expression_in(url: str | None) -> str | None:
    """The PromQL expression of a Prometheus graph link (generatorURL's g0.expr)."""
    if not url:
        return None
    try:
        query = parse_qs(urlsplit(url).query)
    except ValueError:
        return None
    found = query.get("g0.expr")
    return found[0] if found else None
