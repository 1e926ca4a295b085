"""A loopback Kubernetes API server that replays recorded objects, for the Kubernetes tools.

No API server installs here, so the tools are tested against this one: it answers the
read-only paths the tools use (pods, pod logs, events, deployments, replicasets) over HTTPS
with a certificate made for the test, and checks a bearer token, as a cluster's API does.

What it serves comes from real clusters wherever a recording exists, read at test time from
../shared/data/k8s-troubleshooting (kubectl output captured by the HolmesGPT authors; never
copied here) by :func:`recorded_cluster`:

- namespace `default`: the pod `frontend-service` exactly as recorded with `-o yaml`
  (CrashLoopBackOff, last exit Error code 255, 7 restarts; its timestamps lack the `T`, as
  recorded), the healthy pod `robusta-runner-…` as recorded with `-o yaml`; the events of
  `kubectl events` for both pods (the tables turned back into Event objects: type, reason,
  object, message, count, ages made timestamps relative to now); the logs of
  `frontend-service` as recorded (the capture tool's footer dropped).
- namespace `ask-holmes-namespace-45`: the deployment `my-server-deployment` as recorded with
  `-o yaml`; its ReplicaSet and pod assembled from the recorded `kubectl get` row and
  lineage tree (names, labels, node, ready counts, ages); the pod's logs as recorded, and for
  `--previous` the API's recorded 400 answer (no previous terminated container).
- the 403: the wording of a recorded refusal (`… is forbidden: User "system:serviceaccount:
  28-test:restricted-holmes-sa" cannot list resource …`), served for namespace `kube-system`.

Hand-made, because no recording holds them (no recorded pod object was OOMKilled and no
recorded deployment has more than one revision): namespace `shop` with a deployment
`checkout` stuck in its third rollout (Progressing=False ProgressDeadlineExceeded), its three
ReplicaSets with images and change-cause, the new pod OOMKilled (exit code 137, 5 restarts)
and two healthy pods of the previous revision, and the OOMKilled pod's logs (the previous
instance's end differs from the current one's).
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import json
import re
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

import yaml
from aiohttp import web

from tests.fakes.server import LoopbackServer

RECORDINGS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "k8s-troubleshooting"
FORBIDDING_USER = "system:serviceaccount:28-test:restricted-holmes-sa"  # as recorded (case 28)

Json = dict[str, Any]


@dataclass
class ClusterState:
    """Objects by namespace, and pod logs by (namespace, pod, previous)."""

    pods: dict[str, list[Json]] = field(default_factory=dict)
    events: dict[str, list[Json]] = field(default_factory=dict)
    deployments: dict[str, list[Json]] = field(default_factory=dict)
    replica_sets: dict[str, list[Json]] = field(default_factory=dict)
    # bytes: the log; a dict: a Status the API answers instead (its `code` is the HTTP status)
    logs: dict[tuple[str, str, bool], bytes | Json] = field(default_factory=dict)
    forbidden_namespaces: set[str] = field(default_factory=lambda: {"kube-system"})


# --- from the recordings ------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(age: str) -> int:
    """'3m10s', '60m', '4m28s', '18d' → seconds."""
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([dhms])", age))


def _event(
    now: datetime,
    namespace: str,
    kind: str,
    name: str,
    number: int,
    *,
    type_: str,
    reason: str,
    message: str,
    last_seen: str,
    first_seen: str | None = None,
    count: int = 1,
    source: str | None = None,
) -> Json:
    last = now - timedelta(seconds=_seconds(last_seen))
    first = now - timedelta(seconds=_seconds(first_seen)) if first_seen else last
    return {
        "metadata": {"name": f"{name}.{number:016x}", "namespace": namespace},
        "involvedObject": {"kind": kind, "name": name, "namespace": namespace},
        "type": type_,
        "reason": reason,
        "message": message,
        "count": count,
        "firstTimestamp": _stamp(first),
        "lastTimestamp": _stamp(last),
        "source": {"component": source} if source else {},
    }


# `kubectl events`: LAST SEEN (with "(x280 over 60m)"), TYPE, REASON, OBJECT, MESSAGE
_EVENTS_ROW = re.compile(
    r"^(?P<last>\S+)(?: \(x(?P<count>\d+) over (?P<first>\S+)\))?\s+(?P<type>Normal|Warning)"
    r"\s+(?P<reason>\S+)\s+(?P<kind>[A-Za-z]+)/(?P<name>\S+)\s+(?P<message>.*)$"
)
# `kubectl describe`'s events: Type, Reason, Age, From, Message
_DESCRIBE_ROW = re.compile(
    r"^(?P<type>Normal|Warning)\s+(?P<reason>\S+)\s+(?P<last>\S+)\s+(?P<source>\S+)\s+(?P<message>.*)$"
)


def events_from_table(
    path: Path, namespace: str, now: datetime, pod: str | None = None
) -> list[Json]:
    """Event objects from a recorded events table; `pod` names the object of a table that
    does not say it (describe's)."""
    events = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        row = _EVENTS_ROW.match(line.strip())
        if row:
            events.append(
                _event(
                    now,
                    namespace,
                    row["kind"],
                    row["name"],
                    number,
                    type_=row["type"],
                    reason=row["reason"],
                    message=row["message"].strip(),
                    last_seen=row["last"],
                    first_seen=row["first"],
                    count=int(row["count"] or 1),
                )
            )
            continue
        row = _DESCRIBE_ROW.match(line.strip())
        if row and pod:
            events.append(
                _event(
                    now,
                    namespace,
                    "Pod",
                    pod,
                    number,
                    type_=row["type"],
                    reason=row["reason"],
                    message=row["message"].strip(),
                    last_seen=row["last"],
                    source=row["source"],
                )
            )
    return events


def recorded_log(path: Path) -> bytes:
    """A recorded log without the capture tool's footer (a rule of '=' and its notes)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("=" * 20):
            lines = lines[:i]
            break
    while lines and not lines[-1].strip():
        lines.pop()
    return "".join(line + "\n" for line in lines).encode()


def _load_yaml(path: Path) -> Json:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def _case_45(root: Path, now: datetime, state: ClusterState) -> None:
    """A healthy nginx deployment: the deployment as recorded, its ReplicaSet and pod
    assembled from the recorded `kubectl get` row and lineage tree."""
    case = root / "test_ask_holmes__45_fetch_deployment_logs_simple"
    namespace = "ask-holmes-namespace-45"
    deployment = _load_yaml(
        case / "kubectl_get_yaml_deployment_my-server-deployment_ask-holmes-namespace-45.yaml"
    )
    state.deployments[namespace] = [deployment]
    row = (case / "kubectl_get_by_kind_in_namespace_pod_ask-holmes-namespace-45.txt").read_text()
    name, ready, status, restarts, pod_age, ip, node, _, _, labels = row.splitlines()[1].split()
    template_hash = dict(pair.split("=") for pair in labels.split(","))["pod-template-hash"]
    replica_set_name = f"{deployment['metadata']['name']}-{template_hash}"
    template = copy.deepcopy(deployment["spec"]["template"])
    template["metadata"]["labels"]["pod-template-hash"] = template_hash
    state.replica_sets[namespace] = [
        {
            "metadata": {
                "name": replica_set_name,
                "namespace": namespace,
                "labels": template["metadata"]["labels"],
                "annotations": {"deployment.kubernetes.io/revision": "1"},
                "creationTimestamp": _stamp(now - timedelta(seconds=_seconds("6m5s"))),
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": deployment["metadata"]["name"],
                        "uid": deployment["metadata"]["uid"],
                        "controller": True,
                    }
                ],
            },
            "spec": {"replicas": 1, "template": template},
            "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1},
        }
    ]
    container = template["spec"]["containers"][0]
    state.pods[namespace] = [
        {
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": dict(pair.split("=") for pair in labels.split(",")),
                "creationTimestamp": _stamp(now - timedelta(seconds=_seconds(pod_age))),
            },
            "spec": {"nodeName": node, "containers": [container]},
            "status": {
                "phase": status,
                "podIP": ip,
                "containerStatuses": [
                    {
                        "name": container["name"],
                        "image": container["image"],
                        "ready": ready.split("/")[0] == ready.split("/")[1],
                        "restartCount": int(restarts),
                        "state": {"running": {"startedAt": _stamp(now - timedelta(minutes=6))}},
                        "lastState": {},
                    }
                ],
            },
        }
    ]
    # The recorded `kubectl logs` answer: first the API's 400 for --previous, then the log.
    recorded = (case / f"kubectl_logs_{name}_{namespace}.log").read_text(encoding="utf-8")
    status_line, _, log = recorded.partition("\n")
    state.logs[(namespace, name, True)] = json.loads(status_line)
    state.logs[(namespace, name, False)] = log.lstrip("\n").encode()


def _default_namespace(root: Path, now: datetime, state: ClusterState) -> None:
    crashing = root / "test_ask_holmes__158_slack_chat_correct_date"
    healthy = root / "test_ask_holmes__05_image_version"
    events = root / "test_ask_holmes__04_related_k8s_events"
    state.pods["default"] = [
        _load_yaml(healthy / "kubectl_get_yaml_pod_robusta-runner-6958c5bdd8-69gtn_default.yaml"),
        _load_yaml(crashing / "kubectl_get_yaml_pod_frontend-service_default.yaml"),
    ]
    state.events["default"] = events_from_table(
        events / "kubectl_events_pod_nginx-6958c5bdd8-69gtn_default.txt",
        "default",
        now,
        pod="nginx-6958c5bdd8-69gtn",
    ) + events_from_table(
        crashing / "kubectl_events_pod_frontend-service_default.txt", "default", now
    )
    log = recorded_log(crashing / "kubectl_logs_frontend-service_default_2025-08-23T12-47-40Z.log")
    # Recorded as "current and previous container logs": both instances failed the same way.
    state.logs[("default", "frontend-service", False)] = log
    state.logs[("default", "frontend-service", True)] = log


# --- hand-made: what no recording holds -----------------------------------------------------

OOM_POD = "checkout-7c9d8f6b5-x2x7q"
OOM_PREVIOUS_LOG = (
    b"2025-06-02T14:20:01Z INFO checkout 1.4.2 starting, heap limit 96Mi\n"
    b"2025-06-02T14:21:40Z INFO cache warmed: 41,233 carts\n"
    b"2025-06-02T14:22:07Z WARN GC overhead 92%, heap 95Mi of 96Mi\n"
)
OOM_CURRENT_LOG = b"2025-06-02T14:27:15Z INFO checkout 1.4.2 starting, heap limit 96Mi\n"


def _checkout_replica_set(
    now: datetime,
    revision: int,
    suffix: str,
    image: str,
    cause: str,
    replicas: int,
    ready: int,
    age: timedelta,
) -> Json:
    return {
        "metadata": {
            "name": f"checkout-{suffix}",
            "namespace": "shop",
            "labels": {"app": "checkout", "pod-template-hash": suffix},
            "annotations": {
                "deployment.kubernetes.io/revision": str(revision),
                "kubernetes.io/change-cause": cause,
            },
            "creationTimestamp": _stamp(now - age),
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "checkout",
                    "uid": "6f1c2a44-0000-4000-8000-00000000c0de",
                    "controller": True,
                }
            ],
        },
        "spec": {
            "replicas": replicas,
            "template": {
                "metadata": {"labels": {"app": "checkout", "pod-template-hash": suffix}},
                "spec": {"containers": [{"name": "checkout", "image": image}]},
            },
        },
        "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready},
    }


def _checkout_pod(now: datetime, name: str, image: str, *, oom: bool) -> Json:
    started = _stamp(now - timedelta(minutes=3))
    status: Json = {
        "name": "checkout",
        "image": image,
        "ready": not oom,
        "restartCount": 5 if oom else 0,
        "state": {"running": {"startedAt": started}},
        "lastState": {},
    }
    if oom:
        status["state"] = {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off 2m40s restarting failed container=checkout pod={name}_shop",
            }
        }
        status["lastState"] = {
            "terminated": {
                "exitCode": 137,
                "reason": "OOMKilled",
                "startedAt": _stamp(now - timedelta(minutes=4)),
                "finishedAt": _stamp(now - timedelta(seconds=90)),
            }
        }
    return {
        "metadata": {
            "name": name,
            "namespace": "shop",
            "labels": {"app": "checkout", "pod-template-hash": name.split("-")[1]},
            "creationTimestamp": _stamp(now - timedelta(minutes=20 if oom else 3 * 24 * 60)),
        },
        "spec": {
            "nodeName": "worker-2" if oom else "worker-1",
            "containers": [{"name": "checkout", "image": image}],
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "False" if oom else "True"}],
            "containerStatuses": [status],
        },
    }


def _shop_namespace(now: datetime, state: ClusterState) -> None:
    """Hand-made (see the module's docstring): a rollout that OOMKills its new pods."""
    state.deployments["shop"] = [
        {
            "metadata": {
                "name": "checkout",
                "namespace": "shop",
                "uid": "6f1c2a44-0000-4000-8000-00000000c0de",
                "annotations": {"deployment.kubernetes.io/revision": "3"},
                "creationTimestamp": _stamp(now - timedelta(days=40)),
            },
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "checkout"}},
                "template": {
                    "metadata": {"labels": {"app": "checkout"}},
                    "spec": {"containers": [{"name": "checkout", "image": "shop/checkout:1.4.2"}]},
                },
            },
            "status": {
                "replicas": 3,
                "updatedReplicas": 1,
                "readyReplicas": 2,
                "availableReplicas": 2,
                "unavailableReplicas": 1,
                "conditions": [
                    {
                        "type": "Available",
                        "status": "True",
                        "reason": "MinimumReplicasAvailable",
                        "message": "Deployment has minimum availability.",
                    },
                    {
                        "type": "Progressing",
                        "status": "False",
                        "reason": "ProgressDeadlineExceeded",
                        "message": 'ReplicaSet "checkout-7c9d8f6b5" has timed out progressing.',
                    },
                ],
            },
        }
    ]
    state.replica_sets["shop"] = [
        _checkout_replica_set(
            now, 1, "66b7d9c4f8", "shop/checkout:1.4.0", "first release", 0, 0, timedelta(days=40)
        ),
        _checkout_replica_set(
            now,
            3,
            "7c9d8f6b5",
            "shop/checkout:1.4.2",
            "checkout 1.4.2: cart cache in memory",
            1,
            0,
            timedelta(minutes=20),
        ),
        _checkout_replica_set(
            now, 2, "5f6d7c8b9", "shop/checkout:1.4.1", "checkout 1.4.1", 2, 2, timedelta(days=3)
        ),
    ]
    state.pods["shop"] = [
        _checkout_pod(now, "checkout-5f6d7c8b9-4kq2n", "shop/checkout:1.4.1", oom=False),
        _checkout_pod(now, OOM_POD, "shop/checkout:1.4.2", oom=True),
        _checkout_pod(now, "checkout-5f6d7c8b9-8zt7w", "shop/checkout:1.4.1", oom=False),
    ]
    state.logs[("shop", OOM_POD, True)] = OOM_PREVIOUS_LOG
    state.logs[("shop", OOM_POD, False)] = OOM_CURRENT_LOG


def recorded_cluster(root: Path = RECORDINGS, now: datetime | None = None) -> ClusterState:
    """The objects the server replays (see the module's docstring for which are recorded)."""
    now = now or datetime.now(UTC)
    state = ClusterState()
    _default_namespace(root, now, state)
    _case_45(root, now, state)
    _shop_namespace(now, state)
    return state


# --- the server -----------------------------------------------------------------------------


def status(code: int, reason: str, message: str) -> Json:
    """A Kubernetes `Status` answer, as the API sends with every error."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _selected(obj: Json, labels: str | None, fields: str | None) -> bool:
    for requirement in filter(None, (labels or "").split(",")):
        key, op, value = re.split(r"(!=|==|=)", requirement.strip(), maxsplit=1)
        have = (obj.get("metadata", {}).get("labels") or {}).get(key)
        if (op == "!=") == (have == value):
            return False
    for requirement in filter(None, (fields or "").split(",")):
        path, value = requirement.split("=", 1)
        node: Any = obj
        for step in path.split("."):
            node = node.get(step) if isinstance(node, dict) else None
        if node != value:
            return False
    return True


class K8sApiServer(LoopbackServer):
    """The replay server; `requests` lists (method, path) of everything asked."""

    def __init__(self, state: ClusterState, *, token: str, tls: Tls | None) -> None:
        self.state = state
        self.token = token
        self.tls = tls
        self.requests: list[tuple[str, str]] = []

    @property
    def ca_pem(self) -> bytes | None:
        """The CA a kubeconfig must trust (None over plain HTTP)."""
        return self.tls.ca_pem if self.tls else None

    @property
    def root_url(self) -> str:
        url = super().root_url
        return url.replace("http://", "https://", 1) if self.tls else url

    async def start(self) -> Self:
        """As LoopbackServer.start, with TLS when the server has a certificate."""
        self._on_start()
        app = web.Application(middlewares=[self._check])
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        context = self.tls.server if self.tls else None
        await web.TCPSite(self._runner, self.host, 0, ssl_context=context).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    def routes(self) -> list[web.RouteDef]:
        core, apps = "/api/v1/namespaces/{ns}", "/apis/apps/v1/namespaces/{ns}"
        return [
            web.get(f"{core}/pods", self._list("pods", "PodList", "")),
            web.get(f"{core}/events", self._list("events", "EventList", "")),
            web.get(f"{core}/pods/{{name}}/log", self._log),
            web.get(f"{apps}/deployments", self._list("deployments", "DeploymentList", "apps")),
            web.get(f"{apps}/deployments/{{name}}", self._read_deployment),
            web.get(f"{apps}/replicasets", self._list("replica_sets", "ReplicaSetList", "apps")),
        ]

    @web.middleware
    async def _check(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _answer(status(401, "Unauthorized", "Unauthorized"))
        if request.method != "GET":  # the tools only read; anything else is a bug to see
            return _answer(status(405, "MethodNotAllowed", "the replay server only reads"))
        namespace = request.match_info.get("ns")
        if namespace in self.state.forbidden_namespaces:
            resource = request.path.rstrip("/").split("/")[-1]
            group = "apps" if request.path.startswith("/apis/apps") else ""
            return _answer(
                status(
                    403,
                    "Forbidden",
                    f'{resource} is forbidden: User "{FORBIDDING_USER}" cannot list resource '
                    f'"{resource}" in API group "{group}" in the namespace "{namespace}"',
                )
            )
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return _answer(
                status(404, "NotFound", "the server could not find the requested resource")
            )

    def _list(self, kind: str, list_kind: str, group: str) -> Any:
        async def handler(request: web.Request) -> web.StreamResponse:
            objects = getattr(self.state, kind).get(request.match_info["ns"], [])
            query = request.query
            chosen = [
                o
                for o in objects
                if _selected(o, query.get("labelSelector"), query.get("fieldSelector"))
            ]
            return web.json_response(
                {
                    "kind": list_kind,
                    "apiVersion": f"{group}/v1" if group else "v1",
                    "metadata": {"resourceVersion": "1"},
                    "items": chosen,
                }
            )

        return handler

    async def _read_deployment(self, request: web.Request) -> web.StreamResponse:
        name, namespace = request.match_info["name"], request.match_info["ns"]
        for deployment in self.state.deployments.get(namespace, []):
            if deployment["metadata"]["name"] == name:
                return web.json_response(deployment)
        return _answer(status(404, "NotFound", f'deployments.apps "{name}" not found'))

    async def _log(self, request: web.Request) -> web.StreamResponse:
        name, namespace = request.match_info["name"], request.match_info["ns"]
        previous = request.query.get("previous") == "true"
        log = self.state.logs.get((namespace, name, previous))
        if log is None:
            return _answer(status(404, "NotFound", f'pods "{name}" not found'))
        if isinstance(log, dict):
            return _answer(log)
        lines = log.splitlines(keepends=True)
        tail = request.query.get("tailLines")
        if tail is not None:
            lines = lines[-int(tail) :] if int(tail) else []
        return web.Response(body=b"".join(lines), content_type="text/plain")


def _answer(status_object: Json) -> web.Response:
    return web.json_response(status_object, status=int(status_object["code"]))


# --- TLS and the kubeconfig ------------------------------------------------------------------


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext  # what the replay server serves with
    ca_pem: bytes  # what a kubeconfig trusts


def make_tls(directory: Path) -> Tls:
    """A CA and a certificate for 127.0.0.1 signed by it, made now (nothing stored)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "replay-cluster-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = directory / "apiserver.crt", directory / "apiserver.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return Tls(server=server, ca_pem=ca.public_bytes(serialization.Encoding.PEM))


def write_kubeconfig(
    path: Path, server: str, token: str, ca_pem: bytes | None, context: str = "replay"
) -> Path:
    """A kubeconfig with one cluster, user (a bearer token) and context, made current."""
    cluster: Json = {"server": server}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "replay", "cluster": cluster}],
        "users": [{"name": "reader", "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": "replay", "user": "reader"}}],
        "current-context": context,
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path
