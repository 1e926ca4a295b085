"""kubectl's own error messages: what the cluster refused or did not have.

A file saved from a command that failed holds one or two lines like
`Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:ops:reader"
cannot list resource "secrets" …`, `Error from server (NotFound): pods "web-1" not found`,
`No resources found in shop namespace.`, `error: the server doesn't have a resource type
"scaledobject"`, or what a tool that ran kubectl wrote of it: ``Command `kubectl get pod -A |
grep web` failed with return code 1`` (grep's 1 means no line matched: nothing by that name).
Each says something true about the cluster: a permission missing, an object or a resource
type that does not exist. They are read as such, not as plain text; what was not found is
kept (`KubeMissing`) so the investigation can set it against the question asked.
"""

from __future__ import annotations

import re
import shlex

from engine.evidence.components import canonical
from engine.evidence.kubernetes.report import KubeFinding, KubeMissing

MAX_LINES = 6
# Below suspects.from_state.MIN_FINDING: that something does not exist is an answer to a
# question about it, not an incident by itself (investigate/cluster_answers.py decides).
NOT_THERE = 0.45
_LINE = re.compile(
    r"^(?:Error from server \((?P<reason>\w+)\): (?P<message>.+)"
    r"|(?P<none>No resources found(?: in (?P<namespace>[\w.-]+) namespace)?\.?)"
    r"|Command `(?P<command>(?:kubectl|oc) [^`]+)` failed with return code (?P<code>\d+)"
    r"|error: (?P<error>.+))$"
)
_FORBIDDEN = re.compile(
    r'User "(?P<user>[^"]+)" cannot (?P<verb>\w+) resource "(?P<resource>[^"]+)"'
    r'(?: in API group "[^"]*")?(?: (?:in the namespace "(?P<ns>[^"]+)"|at the cluster scope))?'
)
_NO_TYPE = re.compile(r'doesn\'t have a resource type "(?P<type>[^"]+)"')
_NOT_FOUND = re.compile(r'^(?P<resource>[\w.-]+) "(?P<name>[^"]+)" not found')
# kubectl flags that take a value: the word after them is not the resource kind.
_VALUED = frozenset(
    {"-n", "--namespace", "-l", "--selector", "-o", "--output", "-L", "--label-columns"}
    | {"--field-selector", "-c", "--container", "--context", "--sort-by", "--chunk-size"}
)
_IRREGULAR = {"endpoints": "endpoints", "ingresses": "ingress", "classes": "class"}


def is_cli_error(lines: list[str]) -> bool:
    """Whether the whole (short) output is kubectl error messages."""
    content = [line.strip() for line in lines if line.strip()]
    return 0 < len(content) <= MAX_LINES and all(_LINE.match(line) for line in content)


def _subject(user: str) -> str:
    """'system:serviceaccount:ops:reader' -> 'reader'; a person's name stays as it is."""
    return user.rsplit(":", 1)[-1]


def singular(resource: str) -> str:
    """'deployments.apps' -> 'deployment', 'networkpolicies' -> 'networkpolicy', 'pod/x' ->
    'pod'."""
    word = resource.split("/", 1)[0].split(".", 1)[0].lower()
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _searched(command: str) -> KubeMissing | None:
    """What `kubectl get … | grep NAME` looked for, when grep (last in the pipe) matched
    nothing: (kind, name, namespace)."""
    stages = [stage.strip() for stage in command.split("|")]
    try:
        grep = shlex.split(stages[-1])
        words = shlex.split(stages[0])
    except ValueError:
        return None
    if len(stages) < 2 or not grep or grep[0] not in ("grep", "egrep", "fgrep"):
        return None
    patterns = [w for w in grep[1:] if not w.startswith("-")]
    if len(patterns) != 1:
        return None
    kind, namespace, skip = None, None, False
    for i, word in enumerate(words[1:], start=1):
        if skip:
            skip = False
            continue
        if word in ("-n", "--namespace") and i + 1 < len(words):
            namespace = words[i + 1]
        if word in _VALUED:
            skip = True
        elif word.startswith("--namespace="):
            namespace = word.split("=", 1)[1]
        elif not word.startswith("-") and word not in ("get", "describe") and kind is None:
            kind = singular(word.split(",", 1)[0])
    return KubeMissing(what="match", kind=kind, name=patterns[0], namespace=namespace, line="")


def _missing_finding(missing: KubeMissing, line: str) -> KubeFinding:
    kind = missing.kind or "object"
    if missing.what == "type":
        summary = (
            f"the cluster has no resource type {missing.kind}: its CRD and the operator that "
            "serves it are not installed"
        )
        return KubeFinding(
            signature="not-installed",
            component=canonical(missing.kind or "?"),
            object=f"resourcetype/{missing.kind}",
            summary=summary,
            lines=[line],
            severity=NOT_THERE,
        )
    if missing.what == "listing":
        where = f" in namespace {missing.namespace}" if missing.namespace else ""
        summary = f"kubectl found no resources{where}"
        ref = f"namespace/{missing.namespace}" if missing.namespace else "listing/-"
        component = missing.namespace or "?"
    elif missing.what == "match":
        where = f"namespace {missing.namespace}" if missing.namespace else "the cluster"
        summary = f"no {kind} matches {missing.name}: nothing by that name in {where}"
        ref, component = f"{kind}/{missing.name}", canonical(missing.name or "?")
    else:
        summary = f"{kind} {missing.name} could not be found (NotFound)"
        ref, component = f"{kind}/{missing.name}", canonical(missing.name or "?")
    return KubeFinding(
        signature="not-found",
        component=component,
        object=ref,
        namespace=missing.namespace,
        summary=summary,
        lines=[line],
        severity=NOT_THERE if missing.what != "listing" else NOT_THERE - 0.1,
    )


def cli_error_findings(lines: list[str]) -> tuple[list[KubeFinding], list[KubeMissing], list[str]]:
    """(findings, what was not found, notes) of kubectl's error lines."""
    findings: list[KubeFinding] = []
    missing: list[KubeMissing] = []
    notes: list[str] = []
    for raw in lines:
        line = raw.strip()
        match = _LINE.match(line)
        if not line or match is None:
            continue
        found: KubeMissing | None = None
        message = match["message"] or match["error"] or ""
        denied = _FORBIDDEN.search(message)
        missing_type = _NO_TYPE.search(message)
        not_found = _NOT_FOUND.match(message) if match["reason"] == "NotFound" else None
        if match["none"]:
            found = KubeMissing(what="listing", namespace=match["namespace"], line=line)
        elif match["command"]:
            searched = _searched(match["command"]) if match["code"] == "1" else None
            if searched is not None:
                found = searched.model_copy(update={"line": line})
            else:
                notes.append(f"`{match['command']}` failed (return code {match['code']})")
        elif missing_type:
            found = KubeMissing(what="type", kind=missing_type["type"].lower(), line=line)
        elif not_found:
            found = KubeMissing(
                what="object",
                kind=singular(not_found["resource"]),
                name=not_found["name"],
                line=line,
            )
        elif match["reason"] == "Forbidden" and denied:
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
        else:
            notes.append(f"kubectl: {message}")
        if found is not None:
            missing.append(found)
            findings.append(_missing_finding(found, line))
    return findings, missing, notes
