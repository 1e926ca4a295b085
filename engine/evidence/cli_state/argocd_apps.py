"""argocd's rows, read into apps and resources: what `app get`'s resource table and
`argocd app list` hold, and which of them are unhealthy (see argocd.py for the why)."""

from __future__ import annotations

import re

from engine.evidence.cli_state.report import CliFinding, CliObject, CliParse
from engine.evidence.cli_state.table import Row, positional_rows

UNHEALTHY = {"Degraded": 0.65, "Missing": 0.6}  # severity of a resource or app in that state
APP_COLUMNS = ["NAME", "CLUSTER", "NAMESPACE", "PROJECT", "STATUS", "HEALTH", "SYNCPOLICY"]
RESOURCE_COLUMNS = ["GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "HOOK", "MESSAGE"]
_LIST_TAIL = ["CONDITIONS", "REPO", "PATH", "TARGET"]
CONDITION_ERROR = 0.55
OUT_OF_SYNC = 0.35  # drift alone: worth saying, not a suspect


def is_header(text: str, columns: list[str]) -> bool:
    return text.split()[: len(columns)] == columns


def app_name(qualified: str) -> str:
    """'argocd/checkout' (apps in any namespace) -> 'checkout'."""
    return qualified.rsplit("/", 1)[-1]


def resource(row: Row, app: str) -> CliObject:
    """One row of the resource table; a resource with a health is a workload of its own."""
    cells = row.cells
    kind, name = cells.get("KIND") or "Resource", cells.get("NAME") or "?"
    return CliObject(
        kind=kind,
        name=name,
        namespace=cells.get("NAMESPACE") or None,
        status=cells.get("HEALTH") or cells.get("STATUS") or None,
        component=name if cells.get("HEALTH") or not app else app,
        details={k.lower(): v for k, v in cells.items() if v and k not in ("KIND", "NAME")},
        evidence=[row.text],
        line=row.line,
    )


def unhealthy(obj: CliObject, app: str, cited: list[str]) -> CliFinding | None:
    """A Degraded or Missing app or resource, in Argo CD's words (its MESSAGE cell)."""
    severity = UNHEALTHY.get(obj.details.get("health", ""))
    if severity is None:
        return None
    message = obj.details.get("message", "")
    said = f": {message}" if message else ""
    about = f"ArgoCD app {app}: " if app else "ArgoCD: "
    return CliFinding(
        signature="app-degraded",
        component=obj.component,
        object=f"{obj.kind.lower()}/{obj.name}",
        namespace=obj.namespace,
        summary=f"{about}{obj.kind} {obj.name} is {obj.details['health']}{said}",
        lines=[*obj.evidence, *cited],
        severity=severity,
    )


def _app(row: Row) -> CliObject:
    cells = row.cells
    app = app_name(cells.get("NAME", "?"))
    conditions = [c for c in re.split(r"[,\s]+", cells.get("CONDITIONS", "")) if c != "<none>"]
    details = {"health": cells.get("HEALTH", ""), "sync": cells.get("STATUS", "")}
    if any(conditions):
        details["conditions"] = ",".join(c for c in conditions if c)
    return CliObject(
        kind="Application",
        name=app,
        namespace=cells.get("NAMESPACE") or None,
        status=details["health"] or None,
        component=app,
        details=details,
        evidence=[row.text],
        line=row.line,
    )


def app_list(lines: list[tuple[int, str]]) -> CliParse:
    header = lines[0][1].split()
    columns = APP_COLUMNS + [c for c in _LIST_TAIL if c in header]
    objects, findings = [], []
    for row in positional_rows(lines, 0, columns)[0]:
        obj = _app(row)
        objects.append(obj)
        app, health, sync = obj.name, obj.details["health"], obj.details["sync"]
        if (finding := unhealthy(obj, app, [])) is not None:
            finding.summary = f"ArgoCD app {app} is {health} ({sync})"
            finding.object = f"app/{app}"
            findings.append(finding)
        errors = [c for c in obj.details.get("conditions", "").split(",") if c.endswith("Error")]
        # OutOfSync is already said in a Degraded app's finding.
        if errors or (sync == "OutOfSync" and finding is None):
            findings.append(
                CliFinding(
                    signature="sync-failed",
                    component=app,
                    object=f"app/{app}",
                    summary=f"ArgoCD app {app}: {', '.join(errors) or 'OutOfSync'}",
                    lines=[row.text],
                    severity=CONDITION_ERROR if errors else OUT_OF_SYNC,
                )
            )
    return CliParse(format="app list", objects=objects, findings=findings)
