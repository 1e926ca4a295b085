"""kubectl's own error messages: what the cluster refused or did not have.

A file saved from a command that failed holds one or two lines like
`Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:ops:reader"
cannot list resource "secrets" …`, `Error from server (NotFound): pods "web-1" not found`,
`No resources found in shop namespace.` or `error: the server doesn't have a resource type
"scaledobject"`. Each says something true about the cluster: a permission missing, an
object or a resource type that does not exist. They are read as such, not as plain text.
"""

from __future__ import annotations

import re

from engine.evidence.kubernetes.report import KubeFinding

MAX_LINES = 6
_LINE = re.compile(
    r"^(?:Error from server \((?P<reason>\w+)\): (?P<message>.+)"
    r"|(?P<none>No resources found(?: in (?P<namespace>[\w.-]+) namespace)?\.?)"
    r"|error: (?P<error>.+))$"
)
_FORBIDDEN = re.compile(
    r'User "(?P<user>[^"]+)" cannot (?P<verb>\w+) resource "(?P<resource>[^"]+)"'
    r'(?: in API group "[^"]*")?(?: (?:in the namespace "(?P<ns>[^"]+)"|at the cluster scope))?'
)
_NO_TYPE = re.compile(r'doesn\'t have a resource type "(?P<type>[^"]+)"')


def is_cli_error(lines: list[str]) -> bool:
    """Whether the whole (short) output is kubectl error messages."""
    content = [line.strip() for line in lines if line.strip()]
    return 0 < len(content) <= MAX_LINES and all(_LINE.match(line) for line in content)


def _subject(user: str) -> str:
    """'system:serviceaccount:ops:reader' -> 'reader'; a person's name stays as it is."""
    return user.rsplit(":", 1)[-1]


def cli_error_findings(lines: list[str]) -> tuple[list[KubeFinding], list[str]]:
    """(findings, notes) of kubectl's error lines."""
    findings: list[KubeFinding] = []
    notes: list[str] = []
    for raw in lines:
        line = raw.strip()
        match = _LINE.match(line)
        if not line or match is None:
            continue
        if match["none"]:
            where = f" in namespace {match['namespace']}" if match["namespace"] else ""
            notes.append(f"kubectl found no resources{where}")
            continue
        message = match["message"] or match["error"] or ""
        denied = _FORBIDDEN.search(message)
        missing_type = _NO_TYPE.search(message)
        if match["reason"] == "Forbidden" and denied:
            who = _subject(denied["user"])
            scope = f"in namespace {denied['ns']}" if denied["ns"] else "at the cluster scope"
            findings.append(
                KubeFinding(
                    signature="auth",
                    component=who,
                    object=f"user/{denied['user']}",
                    summary=(
                        f"Forbidden: {who} may not {denied['verb']} {denied['resource']} "
                        f"{scope} (RBAC)"
                    ),
                    lines=[line],
                    severity=0.6,
                )
            )
        elif missing_type:
            notes.append(
                f"the cluster has no resource type {missing_type['type']}: whatever defines "
                "it (a CRD, an operator) is not installed"
            )
        else:
            notes.append(f"kubectl: {message}")
    return findings, notes
