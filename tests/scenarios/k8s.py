"""The cluster the shop runs on: Deployment manifests, the standard deployments, rolling
updates and container restarts, with the events Kubernetes records for them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.scenarios import banners
from tests.scenarios.lines import k8s_event
from tests.scenarios.sim import Replica, Sim, pod_hash, pod_name

REGISTRY = "registry.shop.example.com"
NODE_POOL = "gke-shop-prod-pool-2-9f3a1c2e"
NODES = ("x7kq", "m2vd", "p8zr")  # name suffixes of the pool's nodes
STANDARD = {  # the version of every service before anything happens
    "api-gateway": "1.19.3",
    "checkout": "2.30.4",
    "cart": "4.2.7",
    "inventory": "3.8.2",
    "payments": "5.6.1",
    "recommendations": "0.41.0",
}


@dataclass(frozen=True)
class Deployment:
    """A Deployment manifest (the service's own container, probes on port http)."""

    name: str
    version: str
    env: tuple[tuple[str, str], ...] = ()
    secret_env: tuple[tuple[str, str, str], ...] = ()  # (variable, secret, key)
    memory: str = "512Mi"
    cpu: str = "500m"
    liveness: str = "/healthz"
    readiness: str = "/ready"
    annotations: Mapping[str, str] = field(default_factory=dict)
    replicas: int = 2

    def doc(self) -> dict[str, Any]:
        name, version = self.name, self.version
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop"}
        env_list: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in self.env]
        env_list += [
            {"name": k, "valueFrom": {"secretKeyRef": {"name": s, "key": key}}}
            for k, s, key in self.secret_env
        ]
        container: dict[str, Any] = {
            "name": name,
            "image": f"{REGISTRY}/{name}:{version}",
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"name": "http", "containerPort": 8080}],
            "env": env_list,
            "resources": {
                "requests": {"cpu": self.cpu, "memory": self.memory},
                "limits": {"memory": self.memory},
            },
            "livenessProbe": {
                "httpGet": {"path": self.liveness, "port": "http"},
                "initialDelaySeconds": 10,
                "periodSeconds": 5,
                "failureThreshold": 3,
            },
            "readinessProbe": {
                "httpGet": {"path": self.readiness, "port": "http"},
                "periodSeconds": 5,
                "failureThreshold": 2,
            },
        }
        version_label = {"app.kubernetes.io/version": version}
        # two equal dicts, not one: YAML would write a shared object as an anchor and alias
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": name,
                "namespace": "shop",
                "labels": labels | version_label,
                "annotations": {"deployment.kubernetes.io/revision": "1"} | dict(self.annotations),
            },
            "spec": {
                "replicas": self.replicas,
                "revisionHistoryLimit": 5,
                "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
                },
                "template": {
                    "metadata": {
                        "labels": labels | version_label,
                        "annotations": {
                            "prometheus.io/scrape": "true",
                            "prometheus.io/port": "9090",
                        },
                    },
                    "spec": {
                        "serviceAccountName": name,
                        "terminationGracePeriodSeconds": 30,
                        "containers": [container],
                    },
                },
            },
        }

    def service(self) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": self.name, "namespace": "shop"},
            "spec": {
                "selector": {"app.kubernetes.io/name": self.name},
                "ports": [{"name": "http", "port": 8080, "targetPort": "http"}],
            },
        }


def standard(sim: Sim, skip: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Two replicas of every service not listed in `skip` (which the scenario deploys)."""
    pods = {}
    for name, version in STANDARD.items():
        if name in skip:
            continue
        if name == "recommendations" and sim.rates.get("recs", 0) <= 0:
            continue
        pods[name] = sim.deploy(name, 2, version)
    return pods


def rollout(
    sim: Sim,
    service_name: str,
    old_version: str,
    new_version: str,
    at: float,
    replicas: int = 2,
    *,
    gap: float = 30.0,
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
    image = f"{REGISTRY}/{service_name}:{new_version}"
    for i in range(replicas):
        pod = pod_name(rng, service_name, new_hash)
        new.append(pod)
        up = i + 1
        scaled = f"Scaled up replica set {service_name}-{new_hash} to {up}"
        k8s_event(sim, t, "ScalingReplicaSet", dep, scaled, source="deployment-controller")
        node = f"{NODE_POOL}-{rng.choice(NODES)}"
        assigned = f"Successfully assigned shop/{pod} to {node}"
        k8s_event(sim, t + 0.2, "Scheduled", f"pod/{pod}", assigned, source="default-scheduler")
        k8s_event(sim, t + 1, "Pulling", f"pod/{pod}", f'Pulling image "{image}"')
        pulled = t + rng.uniform(3, 7)
        for at_, reason, msg in (
            (pulled, "Pulled", f'Successfully pulled image "{image}" in {pulled - t - 1:.3f}s'),
            (pulled + 0.1, "Created", f"Created container {service_name}"),
            (pulled + 0.3, "Started", f"Started container {service_name}"),
        ):
            k8s_event(sim, at_, reason, f"pod/{pod}", msg)
        ready = banners.start_up(sim, service_name, pod, pulled + 0.4, new_version)
        sim.replicas[service_name].append(Replica(pod, ready + 2, version=new_version))
        scaled = (
            f"Scaled down replica set {service_name}-{old_hash} to {replicas - up}"
            f" from {replicas - i}"
        )
        k8s_event(
            sim, ready + 2.5, "ScalingReplicaSet", dep, scaled, source="deployment-controller"
        )
        k8s_event(
            sim, ready + 2.7, "Killing", f"pod/{old[i]}", f"Stopping container {service_name}"
        )
        gone = banners.shut_down(sim, service_name, old[i], ready + 2.8)
        sim.retire(old[i], gone)
        t = ready + gap * rng.uniform(0.2, 0.5)
    return old, new


def restarted(
    sim: Sim,
    service: str,
    pod: str,
    version: str,
    up: float,
    count: int,
    lead: tuple[float, float, float, float],
) -> float:
    """kubelet starts a crashed container again (its image is on the node): the events
    `lead` seconds before `up`, then the container's start-up lines. Returns when ready."""
    obj = f"pod/{pod}"
    image = f'Container image "{REGISTRY}/{service}:{version}" already present on machine'
    k8s_event(sim, up - lead[0], "Pulled", obj, image, count=count)
    k8s_event(sim, up - lead[1], "Created", obj, f"Created container {service}", count=count)
    k8s_event(sim, up - lead[2], "Started", obj, f"Started container {service}", count=count)
    return banners.start_up(sim, service, pod, up - lead[3], version)


def backing_off(sim: Sim, service: str, pod: str, uid: str, t: float, count: int) -> None:
    """kubelet waits before starting a crashing container again (CrashLoopBackOff)."""
    k8s_event(
        sim,
        t,
        "BackOff",
        f"pod/{pod}",
        f"Back-off restarting failed container {service} in pod {pod}_shop({uid})",
        warning=True,
        count=count,
    )
