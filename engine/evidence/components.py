"""One name per component across evidence: pods, file names and metric labels reconciled.

A log names "checkout-7d9f8c6b5-x2k4p", a trace "checkout", a file is "checkout.log.1" and a
metric has job="checkout-service": all four are the component "checkout". Names are only
normalised (case, pod suffixes, a version label "-v2", extensions, a trailing "-service"),
never guessed, so two different components never become one.
"""

from __future__ import annotations

import re

# Deployment pods: <name>-<replicaset hash>-<5 chars>; DaemonSet / Job pods: <name>-<5 chars>.
_POD_SUFFIX = re.compile(r"-(?=[a-z0-9]*\d)[a-z0-9]{6,10}-[a-z0-9]{5}$|-(?=[a-z]*\d)[a-z0-9]{5}$")
_SERVICE_SUFFIX = re.compile(r"[-_](?:service|svc)$")
# A version label on a workload ('adservice-v2'): two versions side by side are one service.
_VERSION_SUFFIX = re.compile(r"-v\d{1,3}$")
_EXTENSIONS = re.compile(
    r"(?:\.(?:log|txt|json|jsonl|ndjson|out|err|csv|tsv|prom|yaml|yml|env|gz|zip|\d+))+$"
)
_DATE = re.compile(r"[-_.]?\d{4}-?\d{2}-?\d{2}(?:[-_T]?\d{2,6})?$")
# File names that say nothing about who wrote them.
_GENERIC = frozenset(
    {
        "app",
        "application",
        "server",
        "service",
        "output",
        "stdout",
        "stderr",
        "console",
        "messages",
        "syslog",
        "log",
        "logs",
        "all",
        "combined",
        "error",
        "errors",
        "access",
        "debug",
        "trace",
        "traces",
        "spans",
        "metrics",
        "export",
        "events",
        "config",
        "values",
        "deploy",
        "deployment",
        "manifest",
        "data",
        "dump",
        "incident",
    }
)
_EXPORT_WORDS = frozenset(
    {"pod", "pods", "log", "logs", "container", "containers", "export", "dump", "output", "all"}
)


def canonical(name: str) -> str:
    """The comparable form of a component name: 'Checkout-7d9f8c6b5-x2k4p' -> 'checkout',
    'checkout-v2-7d9f8c6b5-x2k4p' -> 'checkout'."""
    text = name.strip().lower().replace("_", "-")
    text = text.split(":", 1)[0]  # host:port
    text = _POD_SUFFIX.sub("", text)
    text = _VERSION_SUFFIX.sub("", text)
    text = _SERVICE_SUFFIX.sub("", text)
    return text


# Files saved from a command are named after it ('kubectl_describe_pod_<pod>_<ns>.txt',
# 'kubectl_logs_<pod>_<ns>.log'): the command and its verbs and resource kinds name nobody.
_COMMANDS = frozenset(
    {"kubectl", "oc", "helm", "docker", "podman", "crictl", "journalctl", "systemctl"}
    | {"execute", "list", "fetch", "check", "describe", "get", "logs", "log", "events", "top"}
)
_COMMAND_WORDS = _COMMANDS | frozenset(
    {"yaml", "json", "wide", "by", "name", "kind", "in", "namespace", "cluster", "find"}
    | {"resource", "lineage", "parents", "children", "grep", "previous", "all", "event"}
    | {"pod", "pods", "deployment", "deployments", "statefulset", "statefulsets", "daemonset"}
    | {"replicaset", "job", "jobs", "cronjob", "node", "nodes", "svc", "ingress", "pvc"}
    | {"status", "query", "range", "available", "metrics", "rules", "usage", "memory"}
    | {"cpu", "requests", "limits"}
)


def _without_command(stem: str) -> str:
    """'kubectl_describe_pod_checkout-7d9f_shop' -> 'checkout-7d9f': the object the command
    was run on (the namespace and the rest follow it)."""
    words = stem.split("_")
    if words[0] not in _COMMANDS:
        return stem
    stripped = []
    while words and words[0] in _COMMAND_WORDS:
        stripped.append(words.pop(0))
    # A listing of a namespace or the cluster ('kubectl_get_by_kind_in_namespace_pod_shop')
    # is about many objects: its name after the command is a namespace, not a component.
    if not words or "namespace" in stripped or "cluster" in stripped:
        return ""
    return words[0]


def from_file_name(path: str) -> str | None:
    """The component a file is named after, or None for 'app.log', 'export.csv'...

    Kubernetes log files are '<pod>_<namespace>_<container>-<id>.log': the pod names it; so
    does a command's output saved under the command's name ('kubectl_logs_<pod>_<ns>.log').
    """
    stem = path.rsplit("/", 1)[-1].lower()
    stem = _without_command(_EXTENSIONS.sub("", stem))
    stem = stem.split("_", 1)[0] if stem.count("_") >= 2 else stem
    stem = _DATE.sub("", stem)
    stem = re.sub(r"[-_.](?:v?\d+|old|new|before|after|prev|current)$", "", stem)
    # 'pod-logs-b', 'checkout-pods': words about the export, not the component.
    words = [w for w in re.split(r"[-_.]", stem) if w and w not in _EXPORT_WORDS]
    while words and len(words[-1]) == 1:  # 'pod-a', 'node-1'
        words.pop()
    stem = "-".join(words)
    if not stem or stem in _GENERIC or not any(c.isalpha() for c in stem):
        return None
    name = canonical(stem)
    return None if name in _GENERIC else name


# A whole Deployment pod name: <workload>-<replicaset hash>-<5 chars>, the hash with a digit.
_POD_NAME = re.compile(r"[a-z][a-z0-9-]*-(?=[a-z0-9]*\d)[a-z0-9]{6,10}-[a-z0-9]{5}")


def pod_named_in(path: str) -> str | None:
    """The pod a file is named after when one of its `_`-separated words is a whole pod name
    ('checkout-v2-7d9f8c6b5-x2k4p_frontend_checkout.csv'); None otherwise."""
    stem = _EXTENSIONS.sub("", path.rsplit("/", 1)[-1])
    for word in re.split(r"[_\s]+", stem):
        if _POD_NAME.fullmatch(word.lower()):
            return word
    return None


def replicaset_of(pod: str) -> str | None:
    """'checkout-7d9f8c6b5-x2k4p' -> 'checkout-7d9f8c6b5': pods of one rollout share it."""
    match = re.fullmatch(r"(.+-[a-z0-9]{6,10})-[a-z0-9]{5}", pod.lower())
    return match.group(1) if match and _POD_NAME.fullmatch(pod.lower()) else None


_ORDINAL = re.compile(r"^(.+?)-(\d{1,3})$")
# Labels naming one target (a pod, an instance) before those naming a whole job or app.
_TARGET_LABELS = ("pod", "instance", "host", "container")


def replica_base(name: str) -> str | None:
    """The service of a StatefulSet replica or numbered instance: 'kafka-1' -> 'kafka'."""
    match = _ORDINAL.match(name)
    return match.group(1) if match and any(c.isalpha() for c in match.group(1)) else None


def from_series(series_name: str, known: set[str]) -> str | None:
    """The component a metric series is about: a label value, else a known component (or the
    service of a known replica) whose name starts the metric name ('payments_db_pool_in_use'
    or a dashboard column 'payments-db cpu (%)' -> 'payments-db')."""
    pairs = re.findall(
        r"\b(service|service_name|job|app|application|component|container|pod|instance|host)"
        r"=\"?([^,\"}]+)",
        series_name,
    )
    labels = [canonical(value) for _, value in pairs]
    for name in labels:
        if name in known:
            return name
    services = known | {b for b in map(replica_base, known) if b is not None}
    head = series_name.split("{", 1)[0].strip()
    metric = canonical(head.split()[0]) if head else ""
    matches = [k for k in services if metric == k or metric.startswith(k + "-")]
    if matches:
        return max(matches, key=len)
    targets = [
        canonical(value)
        for key, value in pairs
        if key in _TARGET_LABELS and any(c.isalpha() for c in canonical(value))
    ]
    candidates = targets or labels
    return candidates[0] if candidates else None


def mentioned_in(text: str, known: set[str]) -> set[str]:
    """Known components a message names, as whole words ('upstream payments returned 503')."""
    lowered = text.lower().replace("_", "-")
    found = set()
    for name in known:
        if len(name) < 3:
            continue
        # Whole words: 'payments' is not named by 'payments-db' or 'paymentsvc'; nor by a URL
        # path ('/api/cart/items'), though a URL's host ('http://cart/...') names it.
        for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?!\w|-\w)", lowered):
            before = lowered[max(0, m.start() - 2) : m.start()]
            if not before.endswith("/") or before == "//":
                found.add(name)
                break
    return found


# host:port, with a domain ('payments.shop.svc:8080') and Java's 'host/10.0.0.7:9092'; never a
# duration ('order-events-1:5009 ms' is a partition and a time).
_HOST_PORT = re.compile(
    r"(?<![\w.-])([a-z][a-z0-9-]*[a-z0-9])(?:\.[a-z0-9.-]+)?(?:/\d{1,3}(?:\.\d{1,3}){3})?"
    r":\d{2,5}\b(?!\s*(?:ms|s|sec|secs|seconds|us|µs|ns|min)\b)"
)


def hosts_in(text: str) -> set[str]:
    """Components named as host:port in a message ('dial tcp payments-db:5432: refused')."""
    return {canonical(m) for m in _HOST_PORT.findall(text.lower()) if m not in ("http", "https")}


# A failed name lookup blames the resolver, not the name looked up.
_DNS_FAILURE = re.compile(
    r"unknownhostexception|no such host|nxdomain|name or service not known"
    r"|failure in name resolution|could not resolve host|getaddrinfo|\bEAI_AGAIN\b"
    r"|lookup \S+ on \S+:53\b|(?:\b\d{1,3}(?:\.\d{1,3}){3}|\]):53\b",
    re.IGNORECASE,
)


def dns_failure(text: str) -> bool:
    """Whether a message is a failed DNS lookup ('lookup payments on 10.96.0.10:53: i/o
    timeout', 'UnknownHostException', a query to port 53 that timed out)."""
    return bool(_DNS_FAILURE.search(text))


def resolver(known: set[str]) -> str:
    """The component that answers DNS: a known one named so (coredns, kube-dns), else 'dns'."""
    named = sorted(k for k in known if "dns" in k.split("-") or k.endswith("dns"))
    return named[0] if named else "dns"
