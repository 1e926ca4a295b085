"""Judgements on single settings, shared by Kubernetes manifests and values files:
image references, resource requests/limits, and what kind of setting a key names."""

from __future__ import annotations

import re
from typing import Any

from engine.evidence.configs.secrets import key_words, render

_QUANTITY = re.compile(r"^([0-9]*\.?[0-9]+(?:[eE][+-]?\d+)?)([A-Za-z]*)$")
_UNITS = {
    "": 1.0,
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}
_FLAG_WORDS = frozenset(
    [
        "feature",
        "features",
        "flag",
        "flags",
        "toggle",
        "toggles",
        "debug",
        "maintenance",
        "dry",
        "experimental",
        "beta",
        "killswitch",
    ]
)
_FLAG_STRINGS = frozenset({"true", "false", "yes", "no", "on", "off"})
_HOST_WORDS = frozenset(
    [
        "host",
        "hosts",
        "hostname",
        "url",
        "urls",
        "uri",
        "endpoint",
        "endpoints",
        "address",
        "addr",
        "dsn",
        "server",
        "servers",
        "broker",
        "brokers",
        "bootstrap",
    ]
)
_CONCURRENCY_WORDS = frozenset({"concurrency", "workers", "worker", "threads", "parallelism"})
_AMOUNT = re.compile(r"^-?\d")  # 5, 30s, 512Mi, 1.5
_RETRY_WORDS = frozenset({"retries", "retry", "attempts", "backoff"})


def image_problem(ref: str) -> str | None:
    """Why an image reference is not pinned, or None: a digest pins it, so does a real tag."""
    if "@" in ref:
        return None
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last:
        return "no tag: pulls latest"
    if last.rsplit(":", 1)[1] in ("", "latest"):
        return "latest tag: not pinned"
    return None


def quantity(value: object) -> float | None:
    """Kubernetes quantity ('512Mi', '0.5', '100m') as a number; None when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _QUANTITY.match(str(value).strip())
    if match is None or match[2] not in _UNITS:
        return None
    return float(match[1]) * _UNITS[match[2]]


def _amounts(part: object) -> dict[str, Any]:
    return {str(k): v for k, v in part.items()} if isinstance(part, dict) else {}


def check_resources(resources: object) -> tuple[str, list[str]]:
    """(shown value, problems) for a `resources` mapping of a container or values file."""
    res = resources if isinstance(resources, dict) else {}
    requests, limits = _amounts(res.get("requests")), _amounts(res.get("limits"))
    shown = "; ".join(
        f"{label} " + ", ".join(f"{k} {v}" for k, v in amounts.items())
        for label, amounts in (("requests", requests), ("limits", limits))
        if amounts
    )
    if not requests and not limits:
        return "none", ["no resource requests or limits"]
    problems = []
    if not limits:
        problems.append("no resource limits")
    elif "memory" not in limits:
        problems.append("no memory limit")
    for resource in ("memory", "cpu"):
        limit, request = quantity(limits.get(resource)), quantity(requests.get(resource))
        if limit is not None and request is not None and limit < request:
            problems.append(
                f"{resource} limit {limits[resource]} below request {requests[resource]}"
            )
    return shown, problems


def is_flag_value(value: object, strings: bool) -> bool:
    if isinstance(value, bool):
        return True
    return strings and isinstance(value, str) and value.strip().lower() in _FLAG_STRINGS


def flag_is_on(value: object) -> bool:
    return value is True or (
        isinstance(value, str) and value.strip().lower() in ("true", "yes", "on")
    )


def _limit_kind(words: list[str]) -> str | None:
    """Pool, timeout, connection, retry and limit settings: a name or its parent's."""
    if "pool" in words or "pools" in words:
        return "pool size"
    if any(w.startswith("timeout") for w in words) or "deadline" in words:
        return "timeout"
    if ("max" in words and any(w.startswith("conn") for w in words)) or "connections" in words:
        return "connection limit"
    if "maxconn" in words or "maxconns" in words:
        return "connection limit"
    if _RETRY_WORDS.intersection(words):
        return "retries"
    if any(w.startswith(("limit", "max")) for w in words):
        return "limit"
    if _CONCURRENCY_WORDS.intersection(words):
        return "concurrency"
    return None


def classify(keys: tuple[str, ...], value: object, *, flag_strings: bool) -> str | None:
    """What kind of notable setting `value` is, from its keys; None for ordinary ones."""
    if not keys:
        return None
    words = key_words(keys[-1])
    ancestors = {w for key in keys[:-1] for w in key_words(key)}
    if is_flag_value(value, flag_strings):
        if any(w.startswith(("enable", "disable")) for w in words) or _FLAG_WORDS.intersection(
            words
        ):
            return "feature flag"
        if ancestors.intersection({"features", "feature", "flags", "toggles"}):
            return "feature flag"
        if isinstance(value, bool):
            return None  # an ordinary boolean option is not worth a line
    if _AMOUNT.match(render(value)):  # "maxmemory-policy: allkeys-lru" is not a size
        kind = _limit_kind(words)
        if kind is None and len(keys) > 1:
            kind = _limit_kind(key_words(keys[-2]))
        if kind is not None:
            return kind
    if words and words[-1] in ("port", "ports"):
        return "port"
    if words and words[-1] in _HOST_WORDS:
        return "URL" if words[-1] in ("url", "urls", "uri", "dsn") else "host"
    if isinstance(value, str) and "://" in value:
        return "URL"
    return None
