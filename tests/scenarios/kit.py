"""Helpers the scenario definitions share: windows, the case being built, metrics from the
simulated traffic, trace samples, Kubernetes manifests and rollouts."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.scenarios import chatter
from tests.scenarios.sim import Replica, Sim, Trace, pod_hash, pod_name

KINDS = ("log", "metrics", "traces", "config")


@dataclass
class Window:
    """A healthy baseline from `start`, the incident from `incident` (None: healthy) to `end`."""

    start: float
    incident: float | None
    end: float

    @classmethod
    def of(
        cls, when: str, baseline_min: float, after_min: float, *, healthy: bool = False
    ) -> Window:
        """`when` ('2026-10-08 14:05:17', UTC) is the incident start (the pivot if healthy)."""
        pivot = datetime.strptime(when, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
        return cls(pivot - baseline_min * 60, None if healthy else pivot, pivot + after_min * 60)

    @property
    def pivot(self) -> float:
        return self.incident if self.incident is not None else (self.start + self.end) / 2

    def minute(self, offset: float) -> float:
        """A time `offset` minutes after the incident start (or pivot)."""
        return self.pivot + offset * 60


@dataclass
class Case:
    name: str
    title: str
    question: str
    window: Window
    component: str | None = None
    category: str | None = None
    signature: str | None = None
    acceptable: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    forbidden_signatures: list[str] = field(default_factory=list)
    notes: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    kind: str = "failure"  # failure | healthy | red-herring

    def add(self, name: str, kind: str, data: bytes) -> None:
        assert kind in KINDS, kind
        assert name not in self.files, name
        self.files[name] = data
        self.kinds[name] = kind


# -- metrics ------------------------------------------------------------------------------


def grid(win: Window, step: float) -> list[float]:
    first = math.floor(win.start / step) * step
    return [first + i * step for i in range(int((win.end - first) // step))]


def server_stats(
    sim: Sim,
    service: str,
    times: Sequence[float],
    step: float,
    *,
    route: str | None = None,
) -> dict[str, list[float]]:
    """Per bucket: requests/s, 5xx %, p50 and p99 (ms) of `service`'s server spans."""
    buckets: list[list[tuple[float, int]]] = [[] for _ in times]
    first = times[0]
    for trace in sim.traces:
        for s in trace.spans:
            if s.service != service or s.kind != "server" or (route and route not in s.name):
                continue
            i = int((s.start - first) // step)
            if 0 <= i < len(times):
                buckets[i].append((s.dur_ms, s.status or 200))
    out: dict[str, list[float]] = {"rps": [], "err_pct": [], "p50": [], "p99": []}
    for items in buckets:
        durs = sorted(d for d, _ in items)
        n = len(durs)
        out["rps"].append(n / step)
        out["err_pct"].append(100.0 * sum(1 for _, s in items if s >= 500) / n if n else 0.0)
        out["p50"].append(durs[n // 2] if n else math.nan)
        out["p99"].append(durs[min(n - 1, math.ceil(0.99 * n) - 1)] if n else math.nan)
    return out


def edge_stats(sim: Sim, times: Sequence[float], step: float) -> dict[str, list[float]]:
    """Ingress view: requests/s and 5xx/s per bucket."""
    total = [0.0 for _ in times]
    errors = [0.0 for _ in times]
    for e in sim.access:
        i = int((float(e["t"]) - times[0]) // step)
        if 0 <= i < len(times):
            total[i] += 1 / step
            if int(e["status"]) >= 500:
                errors[i] += 1 / step
    return {"rps": total, "5xx_rps": errors}


def gauge(
    rng: random.Random,
    times: Sequence[float],
    level: Callable[[float], float],
    noise: float = 0.03,
    *,
    floor: float = 0.0,
    ceiling: float = math.inf,
    digits: int = 2,
) -> list[float]:
    """A measured gauge: `level(t)` with multiplicative noise, clipped."""
    out = []
    for t in times:
        value = level(t) * (1 + rng.gauss(0, noise))
        out.append(round(min(ceiling, max(floor, value)), digits))
    return out


def smooth_step(start: float, width: float) -> Callable[[float], float]:
    """0 before `start`, 1 after `start + width`, smooth in between."""

    def f(t: float) -> float:
        if t <= start:
            return 0.0
        if t >= start + width:
            return 1.0
        x = (t - start) / width
        return x * x * (3 - 2 * x)

    return f


def rounded(values: Sequence[float], digits: int = 1) -> list[float]:
    return [v if v != v else round(v, digits) for v in values]


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


# -- Kubernetes ---------------------------------------------------------------------------


def deployment(
    name: str,
    version: str,
    *,
    replicas: int = 2,
    env: Sequence[tuple[str, str]] = (),
    secret_env: Sequence[tuple[str, str, str]] = (),
    memory: str = "512Mi",
    cpu: str = "500m",
    liveness: str = "/healthz",
    readiness: str = "/ready",
    annotations: dict[str, str] | None = None,
    extra_labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop"}
    env_list: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in env]
    env_list += [
        {"name": k, "valueFrom": {"secretKeyRef": {"name": s, "key": key}}}
        for k, s, key in secret_env
    ]
    container: dict[str, Any] = {
        "name": name,
        "image": f"registry.shop.example.com/{name}:{version}",
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 8080}],
        "env": env_list,
        "resources": {
            "requests": {"cpu": cpu, "memory": memory},
            "limits": {"memory": memory},
        },
        "livenessProbe": {
            "httpGet": {"path": liveness, "port": "http"},
            "initialDelaySeconds": 10,
            "periodSeconds": 5,
            "failureThreshold": 3,
        },
        "readinessProbe": {
            "httpGet": {"path": readiness, "port": "http"},
            "periodSeconds": 5,
            "failureThreshold": 2,
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": "shop",
            "labels": labels | (extra_labels or {}) | {"app.kubernetes.io/version": version},
            "annotations": {"deployment.kubernetes.io/revision": "1"} | (annotations or {}),
        },
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {
                    "labels": labels | {"app.kubernetes.io/version": version},
                    "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
                },
                "spec": {
                    "serviceAccountName": name,
                    "terminationGracePeriodSeconds": 30,
                    "containers": [container],
                },
            },
        },
    }


def service(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": 8080, "targetPort": "http"}],
        },
    }


def event(
    sim: Sim,
    t: float,
    reason: str,
    obj: str,
    message: str,
    *,
    warning: bool = False,
    count: int = 1,
    source: str = "kubelet",
) -> None:
    sim.log(
        "k8s",
        t,
        "WARN" if warning else "INFO",
        message,
        reason=reason,
        object=obj,
        count=count,
        source=source,
    )


def rollout(
    sim: Sim,
    service_name: str,
    old_version: str,
    new_version: str,
    at: float,
    replicas: int = 2,
    *,
    gap: float = 30.0,
    node: str = "gke-shop-prod-pool-2-9f3a1c2e",
) -> tuple[list[str], list[str]]:
    """A RollingUpdate (maxSurge 1, maxUnavailable 0) starting at `at`: Kubernetes events,
    the new pods' start-up and the old pods' shut-down lines. Returns (old pods, new pods)."""
    rng = sim.rng
    old_hash, new_hash = pod_hash(rng, 10), pod_hash(rng, 10)
    old = [pod_name(rng, service_name, old_hash) for _ in range(replicas)]
    sim.replicas.setdefault(service_name, []).extend(
        Replica(p, sim.start - 86_400, version=old_version) for p in old
    )
    new = []
    t = at
    dep = f"deployment/{service_name}"
    for i in range(replicas):
        pod = pod_name(rng, service_name, new_hash)
        new.append(pod)
        up = i + 1
        event(
            sim,
            t,
            "ScalingReplicaSet",
            dep,
            f"Scaled up replica set {service_name}-{new_hash} to {up}",
            source="deployment-controller",
        )
        event(
            sim,
            t + 0.2,
            "Scheduled",
            f"pod/{pod}",
            f"Successfully assigned shop/{pod} to {node}-{rng.choice(('x7kq', 'm2vd', 'p8zr'))}",
            source="default-scheduler",
        )
        event(
            sim,
            t + 1,
            "Pulling",
            f"pod/{pod}",
            f'Pulling image "registry.shop.example.com/{service_name}:{new_version}"',
        )
        pulled = t + rng.uniform(3, 7)
        event(
            sim,
            pulled,
            "Pulled",
            f"pod/{pod}",
            f'Successfully pulled image "registry.shop.example.com/{service_name}:{new_version}"'
            f" in {pulled - t - 1:.3f}s",
        )
        event(sim, pulled + 0.1, "Created", f"pod/{pod}", f"Created container {service_name}")
        event(sim, pulled + 0.3, "Started", f"pod/{pod}", f"Started container {service_name}")
        ready = chatter.start_up(sim, service_name, pod, pulled + 0.4, new_version)
        sim.replicas[service_name].append(Replica(pod, ready + 2, version=new_version))
        event(
            sim,
            ready + 2.5,
            "ScalingReplicaSet",
            dep,
            f"Scaled down replica set {service_name}-{old_hash} to {replicas - up}"
            f" from {replicas - i}",
            source="deployment-controller",
        )
        event(sim, ready + 2.7, "Killing", f"pod/{old[i]}", f"Stopping container {service_name}")
        gone = chatter.shut_down(sim, service_name, old[i], ready + 2.8)
        sim.retire(old[i], gone)
        t = ready + gap * rng.uniform(0.2, 0.5)
    return old, new


def standard(sim: Sim, skip: Sequence[str] = ()) -> dict[str, list[str]]:
    """Two replicas of every service not listed in `skip` (which the scenario deploys)."""
    versions = {
        "api-gateway": "1.19.3",
        "checkout": "2.30.4",
        "cart": "4.2.7",
        "inventory": "3.8.2",
        "payments": "5.6.1",
        "recommendations": "0.41.0",
    }
    pods = {}
    for name, version in versions.items():
        if name in skip:
            continue
        if name == "recommendations" and sim.rates.get("recs", 0) <= 0:
            continue
        pods[name] = sim.deploy(name, 2, version)
    return pods


def everyday(sim: Sim, services: Sequence[str]) -> None:
    """The background chatter of the listed services."""
    table: dict[str, Callable[[Sim], None]] = {
        "api-gateway": chatter.gateway,
        "checkout": chatter.checkout,
        "payments": chatter.payments,
        "cart": chatter.cart,
        "inventory": chatter.inventory,
    }
    for name in services:
        if name in table:
            table[name](sim)


# -- crash loops --------------------------------------------------------------------------

Cycle = tuple[float, float, int]  # (down from, back up at, restart count after it)


def crash_cycles(
    rng: random.Random,
    first: float,
    end: float,
    uptime: Callable[[random.Random, int], float],
    boot: tuple[float, float] = (1.5, 3.0),
) -> list[Cycle]:
    """When a container that dies `uptime(rng, n)` seconds after its n-th start is down:
    kubelet restarts it at once the first time, then backs off 10 s, 20 s, 40 s ... 300 s."""
    out: list[Cycle] = []
    t, n = first, 0
    while t < end:
        backoff = 0.0 if n == 0 else min(300.0, 10.0 * 2 ** (n - 1))
        up = t + backoff + rng.uniform(*boot)
        n += 1
        out.append((t, up, n))
        t = up + uptime(rng, n)
    return out


def down_fraction(cycles: Sequence[Sequence[Cycle]]) -> Callable[[float], float]:
    """The share of the pods that are down at t (a refused-connection probability)."""

    def prob(t: float) -> float:
        down = sum(1 for pod in cycles if any(a <= t < b for a, b, _ in pod))
        return down / len(cycles)

    return prob
