"""argocd: `argocd app get <app>` (the summary, the last operation, conditions and the
resource table) and `argocd app list`, read as app state with what is wrong in it.

An app's health is Argo CD's verdict on its live resources: a Degraded Deployment is one whose
rollout failed, a Missing one was never created. Those rows name the workload and say why, so
they are findings about that workload; an app that is only OutOfSync has drifted from git,
which explains an incident only with other evidence, so it stays weak.
"""

from __future__ import annotations

from engine.evidence.cli_state.argocd_apps import (
    APP_COLUMNS,
    CONDITION_ERROR,
    OUT_OF_SYNC,
    RESOURCE_COLUMNS,
    UNHEALTHY,
    app_list,
    app_name,
    is_header,
    resource,
    unhealthy,
)
from engine.evidence.cli_state.report import CliFinding, CliObject, CliParse
from engine.evidence.cli_state.table import Row, key_values, numbered, positional_rows

TOOL = "argocd"
_SYNC = frozenset({"Synced", "OutOfSync", "Unknown"})
_HEALTH = frozenset({"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"})
_CONDITION_COLUMNS = ["CONDITION", "MESSAGE", "LAST TRANSITION"]
FAILED_SYNC = 0.6
PROGRESSING = 0.35


def detect(text: str) -> bool:
    lines = numbered(text[: 64 * 1024])
    if not lines:
        return False
    first = lines[0][1]
    if is_header(first, APP_COLUMNS) or is_header(first, RESOURCE_COLUMNS[:6]):
        return True
    fields = key_values(lines[:40])
    sync = fields.get("Sync Status", (0, "", ""))[1].split(" ", 1)[0]
    health = fields.get("Health Status", (0, "", ""))[1]
    return (
        first.startswith("Name:")
        and ("Project" in fields or "Server" in fields)
        and sync in _SYNC
        and health in _HEALTH
    )


def _tables(lines: list[tuple[int, str]]) -> tuple[list[Row], list[Row], set[int]]:
    """(resource rows, condition rows, the indexes of every table line): `Key:` lines come
    before, between (the operation, with --show-operation) and never inside the tables."""
    resources: list[Row] = []
    conditions: list[Row] = []
    inside: set[int] = set()
    for at, (_, text) in enumerate(lines):
        for columns, rows in ((RESOURCE_COLUMNS, resources), (_CONDITION_COLUMNS, conditions)):
            if at not in inside and is_header(text, columns[:2]):
                found, end = positional_rows(lines, at, columns)
                rows += found
                inside.update(range(at, end))
    return resources, conditions, inside


def _sync_findings(
    app: str, fields: dict[str, tuple[int, str, str]], conditions: list[Row]
) -> list[CliFinding]:
    found = []
    where = f"app/{app}"
    phase = fields.get("Phase", (0, "", ""))
    if phase[1] in ("Failed", "Error"):
        message = fields.get("Message", (0, "", ""))
        said = f": {message[1]}" if message[1] else ""
        lines = [phase[2]] + ([message[2]] if message[2] else [])
        summary = f"ArgoCD app {app}: the last sync {phase[1].lower()}{said}"
        found.append(
            CliFinding(
                signature="sync-failed",
                component=app,
                object=where,
                summary=summary,
                lines=lines,
                severity=FAILED_SYNC,
            )
        )
    for row in conditions:
        kind = row.cells.get("CONDITION", "")
        if kind.endswith("Error"):
            summary = f"ArgoCD app {app}: {kind}: {row.cells.get('MESSAGE', '')}".rstrip(": ")
            found.append(
                CliFinding(
                    signature="sync-failed",
                    component=app,
                    object=where,
                    summary=summary,
                    lines=[row.text],
                    severity=CONDITION_ERROR,
                )
            )
    sync = fields.get("Sync Status", (0, "", ""))
    if not found and sync[1].startswith("OutOfSync"):
        found.append(
            CliFinding(
                signature="sync-failed",
                component=app,
                object=where,
                summary=f"ArgoCD app {app} is {sync[1]}",
                lines=[sync[2]],
                severity=OUT_OF_SYNC,
            )
        )
    return found


def _app_get(lines: list[tuple[int, str]]) -> CliParse:
    rows, conditions, inside = _tables(lines)  # table messages hold colons: not `Key:` lines
    fields = key_values([line for at, line in enumerate(lines) if at not in inside])
    app = app_name(fields.get("Name", (0, "?", ""))[1])
    health = fields.get("Health Status", (0, "", ""))
    sync = fields.get("Sync Status", (0, "", ""))
    resources = [resource(row, app) for row in rows]
    details = {
        key.lower(): fields[key][1]
        for key in ("Sync Status", "Health Status", "Repo", "Target", "Path", "Phase")
        if key in fields and fields[key][1]
    }
    application = CliObject(
        kind="Application",
        name=app,
        namespace=fields.get("Namespace", (0, "", ""))[1] or None,
        status=health[1] or None,
        component=app,
        details=details,
        evidence=[raw for _, value, raw in (sync, health) if value],
        line=fields.get("Name", (None, "", ""))[0],
    )
    cited = [health[2]] if health[1] in UNHEALTHY else []
    findings = [f for obj in resources if (f := unhealthy(obj, app, cited)) is not None]
    if not findings and health[1] in UNHEALTHY:
        application.details["health"] = health[1]
        if (finding := unhealthy(application, app, [])) is not None:
            findings.append(finding)
    elif not findings and health[1] == "Progressing":
        findings.append(
            CliFinding(
                signature="app-degraded",
                component=app,
                object=f"app/{app}",
                summary=f"ArgoCD app {app} is still Progressing",
                lines=[health[2]],
                severity=PROGRESSING,
            )
        )
    findings += _sync_findings(app, fields, conditions)
    return CliParse(format="app get", objects=[application, *resources], findings=findings)


def parse(name: str, text: str) -> CliParse:
    del name  # the content says what it is
    lines = numbered(text)
    if lines and is_header(lines[0][1], APP_COLUMNS):
        return app_list(lines)
    if lines and is_header(lines[0][1], RESOURCE_COLUMNS[:2]):
        resources = [resource(row, "") for row in _tables(lines)[0]]
        for obj in resources:
            obj.component = obj.name
        findings = [f for obj in resources if (f := unhealthy(obj, "", [])) is not None]
        return CliParse(format="app resources", objects=resources, findings=findings)
    return _app_get(lines)
