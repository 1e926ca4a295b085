"""`k8s_logs`: a container's log lines, the running instance's or the crashed one's.

The lines become case evidence (`k8s-logs-<pod>.log`), read like an uploaded log; the text
shows the last of them, where a crash usually says why.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kubernetes import client as k8s
from pydantic import BaseModel, Field

from engine.tools.base import ToolAnswer
from engine.tools.kubernetes.cluster import NAMESPACE_PATTERN, OBJECT_NAME_PATTERN, Clusters
from engine.tools.kubernetes.text import counted

MAX_TAIL_LINES = 500
MAX_LOG_BYTES = 2 * 1024 * 1024  # 500 lines of even verbose JSON logs
SHOWN_CHARS = 3_000  # of the last lines, in the text (all of them are in the evidence)
CONTAINER_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


class LogsParameters(BaseModel):
    source: str | None = Field(default=None, description="kubernetes source; the only one if unset")
    namespace: str | None = Field(
        default=None, pattern=NAMESPACE_PATTERN, description="the source's default if unset"
    )
    pod: str = Field(pattern=OBJECT_NAME_PATTERN, description="the pod's name")
    container: str | None = Field(
        default=None,
        pattern=CONTAINER_PATTERN,
        description="needed when the pod has several containers",
    )
    tail_lines: int = Field(default=200, ge=1, le=MAX_TAIL_LINES, description="the last N lines")
    since_seconds: int | None = Field(
        default=None, ge=1, le=7 * 86400, description="only lines newer than this"
    )
    previous: bool = Field(
        default=False,
        description="the previous (crashed or restarted) instance's logs, to see why it died",
    )


def evidence_name(arguments: LogsParameters) -> str:
    parts = ["k8s-logs", arguments.pod]
    if arguments.container:
        parts.append(arguments.container)
    if arguments.previous:
        parts.append("previous")
    return "-".join(parts) + ".log"


def kubectl_args(arguments: LogsParameters) -> list[str]:
    args = ["logs", arguments.pod]
    if arguments.container:
        args += ["-c", arguments.container]
    args += ["--tail", str(arguments.tail_lines)]
    if arguments.since_seconds:
        args += ["--since", f"{arguments.since_seconds}s"]
    if arguments.previous:
        args.append("--previous")
    return args


def logs_text(arguments: LogsParameters, log: bytes) -> str:
    which = f"pod {arguments.pod}" + (
        f" container {arguments.container}" if arguments.container else ""
    )
    instance = "previous instance" if arguments.previous else "current instance"
    lines = log.decode("utf-8", errors="replace").splitlines()
    if not lines:
        window = f" in the last {arguments.since_seconds} s" if arguments.since_seconds else ""
        return f"{which}, {instance}: no log lines{window}"
    shown: list[str] = []
    size = 0
    for line in reversed(lines):
        size += len(line) + 1
        if size > SHOWN_CHARS and shown:
            break
        shown.append(line)
    shown.reverse()
    head = f"{which}, {instance}: {counted(len(lines), 'line')}"
    if len(shown) < len(lines):
        head += f" (the last {len(shown)} shown; all in the evidence)"
    return head + "\n" + "\n".join(shown)


class K8sLogs:
    name: ClassVar[str] = "k8s_logs"
    description: ClassVar[str] = (
        "A Kubernetes container's last log lines (at most 500, optionally only the last N "
        "seconds); previous=true reads the instance that crashed or restarted. The lines "
        "become case evidence."
    )
    parameters: ClassVar[type[BaseModel]] = LogsParameters

    def __init__(self, clusters: Clusters) -> None:
        self.clusters = clusters

    async def answer(self, arguments: LogsParameters) -> ToolAnswer:
        cluster = self.clusters.pick(arguments.source)
        namespace = cluster.namespace(arguments.namespace)

        def call(api: k8s.ApiClient, timeout: float) -> Any:
            return k8s.CoreV1Api(api).read_namespaced_pod_log(
                arguments.pod,
                namespace,
                container=arguments.container,
                tail_lines=arguments.tail_lines,
                since_seconds=arguments.since_seconds,
                previous=arguments.previous or None,
                limit_bytes=MAX_LOG_BYTES,
                _preload_content=False,
                _request_timeout=timeout,
            )

        what = f"reading the logs of pod {arguments.pod} in namespace {namespace}"
        log = await cluster.get_bytes(call, what)
        return ToolAnswer(
            text=logs_text(arguments, log),
            query=cluster.kubectl(namespace, *kubectl_args(arguments)),
            evidence_name=evidence_name(arguments),
            evidence=log,
        )
