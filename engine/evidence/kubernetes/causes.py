"""What a Kubernetes error message says went wrong, in words a person reads first.

Generic wording from kubelet, scheduler and controller messages; no rule names a product.
"""

from __future__ import annotations

import re

from engine.evidence.components import dns_failure

_PULL_CAUSES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"not found|manifest unknown|does not exist|no such image", re.I),
        "image or tag not found",
    ),
    (
        re.compile(r"unauthorized|authentication required|denied|forbidden|\b403\b|\b401\b", re.I),
        "registry refused access (credentials / imagePullSecrets)",
    ),
    (
        re.compile(
            r"no such host|dial tcp|i/o timeout|connection refused|TLS handshake|timeout", re.I
        ),
        "registry unreachable",
    ),
    (re.compile(r"toomanyrequests|rate limit", re.I), "registry rate limit"),
    (re.compile(r"InvalidImageName|invalid reference format", re.I), "invalid image name"),
)
_SCHEDULING_CAUSES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Insufficient ([\w./-]+)", re.I), "Insufficient {0}"),
    (re.compile(r"untolerated taint|had taint", re.I), "node taints not tolerated"),
    (
        re.compile(
            r"didn't match Pod's node affinity/selector|node\(s\) didn't match node selector", re.I
        ),
        "node selector / affinity matches no node",
    ),
    (re.compile(r"pod affinity|pod anti-affinity", re.I), "pod affinity rules"),
    (
        re.compile(
            r"unbound immediate PersistentVolumeClaims|persistentvolumeclaim .* not found", re.I
        ),
        "unbound PVC",
    ),
    (re.compile(r"volume node affinity conflict", re.I), "volume node affinity conflict"),
    (re.compile(r"too many pods", re.I), "node pod limit reached"),
    (re.compile(r"unschedulable", re.I), "nodes unschedulable (cordoned)"),
)
# A Warning event's message, when it is a failure the other evidence kinds also name.
_MESSAGE_SIGNATURES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"connection refused", re.I), "conn-refused"),
    (
        re.compile(r"x509|certificate (?:has expired|is not valid|signed by unknown)|tls:", re.I),
        "tls",
    ),
    (re.compile(r"no space left|disk ?pressure|ephemeral-storage", re.I), "disk-full"),
    (re.compile(r"unauthorized|forbidden|permission denied|access denied", re.I), "auth"),
    (re.compile(r"out of memory|oom", re.I), "oom"),
    (re.compile(r"throttl", re.I), "throttling"),
)


def pull_cause(message: str) -> str | None:
    return next((cause for pattern, cause in _PULL_CAUSES if pattern.search(message)), None)


def scheduling_cause(message: str) -> str | None:
    """'Insufficient memory', 'node taints not tolerated'... (all of them, comma-joined)."""
    found: list[str] = []
    for pattern, words in _SCHEDULING_CAUSES:
        for match in pattern.finditer(message):
            text = words.format(*match.groups())
            if text not in found:
                found.append(text)
    return ", ".join(found) or None


def message_signature(message: str) -> str | None:
    if dns_failure(message):
        return "dns"
    return next((sig for pattern, sig in _MESSAGE_SIGNATURES if pattern.search(message)), None)


def first_sentence(message: str, limit: int = 160) -> str:
    """The scheduler repeats itself after 'preemption:'; the first part says it."""
    text = message.split(" preemption:", 1)[0].strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
