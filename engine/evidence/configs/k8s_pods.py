"""Kubernetes containers: the settings behind most incident root causes.

Images (unpinned tags), resources (missing limits, limits below requests), probes (missing,
or quick enough to kill a slow start), env var names (values only when notable, masked), and
ports. Judged per container, so the summary can say which container.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from engine.evidence.configs.generic import image_note, setting_notable
from engine.evidence.configs.report import Notable
from engine.evidence.configs.rules import check_resources, image_problem
from engine.evidence.configs.secrets import Masker, clip

_SHOWN_ENV = 15
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})


def get_in(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def as_dict(value: Any) -> dict[str, Any]:
    """Malformed manifests are evidence too: a wrong type reads as empty, never crashes."""
    return value if isinstance(value, dict) else {}


def dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def k8s_notable(
    path: str, value: str | None, why: str, obj: str, brief: str | None = None
) -> Notable:
    """A warning exactly when there is a summary phrase for it."""
    return Notable(path=path, value=value, why=why, warn=brief is not None, object=obj, brief=brief)


def image_notable(container: dict[str, Any], path: str, obj: str, masker: Masker) -> Notable | None:
    image = container.get("image")
    if not isinstance(image, str):
        return None
    return image_note(f"{path}.image", masker.scrub(clip(image)), image_problem(image), obj)


def resources_notable(container: dict[str, Any], path: str, obj: str, name: str) -> Notable:
    shown, problems = check_resources(container.get("resources"))
    brief = f"{problems[0]} on container {name}" if problems else None
    return k8s_notable(f"{path}.resources", shown, "; ".join(problems) or "resources", obj, brief)


def _program(command: list[Any]) -> str:
    """The program an exec probe runs, without its arguments: those carry credentials
    (`curl -u user:pass`, `mysqladmin -p...`) in shapes no redaction rule knows."""
    words = [str(word) for word in command]
    if PurePosixPath(words[0]).name in _SHELLS and "-c" in words[:-1]:
        script = words[words.index("-c") + 1].split()
        return f"{script[0]} (via {PurePosixPath(words[0]).name})" if script else words[0]
    return PurePosixPath(words[0]).name or words[0]


def _probe_text(probe: dict[str, Any], masker: Masker) -> str:
    if isinstance(http := probe.get("httpGet"), dict):
        how = f"HTTP {http.get('path', '/')} port {http.get('port')}"
    elif isinstance(tcp := probe.get("tcpSocket"), dict):
        how = f"TCP port {tcp.get('port')}"
    elif isinstance(grpc := probe.get("grpc"), dict):
        how = f"gRPC port {grpc.get('port')}"
    elif isinstance(command := get_in(probe, ("exec", "command")), list) and command:
        how = "exec " + _program(command)
    else:
        how = "no handler"
    timing = (
        f"delay {probe.get('initialDelaySeconds', 0)}s, timeout {probe.get('timeoutSeconds', 1)}s,"
        f" period {probe.get('periodSeconds', 10)}s, failures {probe.get('failureThreshold', 3)}"
    )
    return masker.scrub(clip(f"{how}, {timing}"))  # an HTTP path can carry a token


def _probe_problems(kind: str, probe: dict[str, Any], has_startup: bool) -> list[str]:
    """Only explicit settings are judged: the defaults suit most services."""
    problems = []
    delay, timeout = probe.get("initialDelaySeconds"), probe.get("timeoutSeconds")
    if kind == "liveness" and isinstance(delay, int) and delay < 5 and not has_startup:
        problems.append(f"liveness checks start at {delay}s with no startupProbe")
    if isinstance(timeout, int) and timeout <= 1:
        problems.append(f"{kind} timeout {timeout}s")
    if kind == "liveness" and probe.get("failureThreshold") == 1:
        problems.append("liveness restarts the container after one failed check")
    return problems


def probe_notables(
    container: dict[str, Any], path: str, obj: str, name: str, masker: Masker
) -> list[Notable]:
    live, ready = container.get("livenessProbe"), container.get("readinessProbe")
    if not isinstance(live, dict) and not isinstance(ready, dict):
        why = "no liveness or readiness probe"
        return [k8s_notable(path, None, why, obj, f"{why} on container {name}")]
    out = []
    has_startup = isinstance(container.get("startupProbe"), dict)
    for kind, probe in (("liveness", live), ("readiness", ready)):
        key = f"{kind}Probe"
        if not isinstance(probe, dict):
            why = f"no {kind} probe"
            out.append(k8s_notable(f"{path}.{key}", None, why, obj, f"{why} on container {name}"))
            continue
        problems = _probe_problems(kind, probe, has_startup)
        brief = f"{problems[0]} on container {name}" if problems else None
        why = "; ".join(problems) or f"{kind} probe"
        out.append(k8s_notable(f"{path}.{key}", _probe_text(probe, masker), why, obj, brief))
    return out


def _env_label(item: dict[str, Any]) -> str:
    name = str(item.get("name", "?"))
    source = item.get("valueFrom")
    if not isinstance(source, dict):
        return name
    if isinstance(ref := source.get("secretKeyRef"), dict):
        return f"{name} (secret {ref.get('name', '?')})"
    if isinstance(ref := source.get("configMapKeyRef"), dict):
        return f"{name} (configmap {ref.get('name', '?')})"
    return f"{name} ({next(iter(source), 'ref')})"


def env_notables(container: dict[str, Any], path: str, obj: str, masker: Masker) -> list[Notable]:
    """Env var names in one line; values only when notable on their own, and masked."""
    items = dicts(container.get("env"))
    labels = [_env_label(item) for item in items]
    for source in dicts(container.get("envFrom")):
        for key, kind in (("configMapRef", "configmap"), ("secretRef", "secret")):
            if isinstance(ref := source.get(key), dict):
                labels.append(f"all of {kind} {ref.get('name', '?')}")
    if not labels:
        return []
    shown = ", ".join(labels[:_SHOWN_ENV])
    if len(labels) > _SHOWN_ENV:
        shown += f", +{len(labels) - _SHOWN_ENV} more"
    out = [k8s_notable(f"{path}.env", shown, "env vars (names only)", obj)]
    for item in items:
        if "value" not in item or "name" not in item:
            continue
        keys = ("env", f"[{item['name']}]", "value")
        where = f"{path}.env[{item['name']}].value"
        if masker.is_secret(keys, item["value"]):
            why = "secret in a plain env value: use a Secret"
            out.append(
                k8s_notable(
                    where,
                    masker.show(item["value"], keys),
                    why,
                    obj,
                    f"plain secret in env {item['name']}",
                )
            )
        elif notable := setting_notable(
            (str(item["name"]),), item["value"], where, masker, obj=obj, flag_strings=True
        ):
            out.append(notable)
    return out


def ports_notable(container: dict[str, Any], path: str, obj: str) -> Notable | None:
    shown = []
    for port in dicts(container.get("ports")):
        label = f"{port['name']} " if port.get("name") else ""
        proto = port.get("protocol", "TCP")
        shown.append(
            f"{label}{port.get('containerPort')}" + ("" if proto == "TCP" else f"/{proto}")
        )
    return k8s_notable(f"{path}.ports", ", ".join(shown), "container ports", obj) if shown else None
