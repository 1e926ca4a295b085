"""`k8s_events`: a namespace's events (or one object's), warnings first, newest first.

Per event: type, reason, the object it is about, how many times it happened and when last,
and its message: `Warning BackOff Pod/web-1 ×280, last 17s ago: Back-off restarting…`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from kubernetes import client as k8s
from pydantic import BaseModel, Field

from engine.tools.base import ToolAnswer
from engine.tools.kubernetes.cluster import NAMESPACE_PATTERN, OBJECT_NAME_PATTERN, Clusters
from engine.tools.kubernetes.text import age, counted, field, items, meta, one_line, parse_time

MAX_EVENTS = 40
_EPOCH = datetime.fromtimestamp(0, UTC)


def _last_seen(event: dict[str, Any]) -> Any:
    """When it last happened: the fields differ with the API version and the emitter."""
    return (
        event.get("lastTimestamp")
        or field(event, "series", "lastObservedTime")
        or event.get("eventTime")
        or meta(event).get("creationTimestamp")
    )


def _count(event: dict[str, Any]) -> int:
    return int(event.get("count") or field(event, "series", "count") or 1)


def event_line(event: dict[str, Any]) -> str:
    kind = field(event, "involvedObject", "kind") or "?"
    name = field(event, "involvedObject", "name") or "?"
    count = _count(event)
    times = f"×{count}, last " if count > 1 else ""
    return (
        f"{event.get('type') or 'Normal'} {event.get('reason') or '?'} {kind}/{name} "
        f"{times}{age(_last_seen(event))} ago: {one_line(event.get('message'))}"
    )


def events_text(namespace: str, object_name: str | None, events: list[dict[str, Any]]) -> str:
    where = f"namespace {namespace}" + (f" about {object_name}" if object_name else "")
    if not events:
        return f"no events in {where} (events are kept about an hour by default)"
    ordered = sorted(
        events,
        key=lambda e: (
            e.get("type") != "Warning",
            -(parse_time(_last_seen(e)) or _EPOCH).timestamp(),
        ),
    )
    warnings = sum(1 for e in events if e.get("type") == "Warning")
    lines = [f"{counted(len(events), 'event')} in {where}; {counted(warnings, 'warning')}"]
    lines += [f"- {event_line(e)}" for e in ordered[:MAX_EVENTS]]
    if len(ordered) > MAX_EVENTS:
        lines.append(f"… and {len(ordered) - MAX_EVENTS} older or normal events")
    return "\n".join(lines)


class EventsParameters(BaseModel):
    source: str | None = Field(default=None, description="kubernetes source; the only one if unset")
    namespace: str | None = Field(
        default=None, pattern=NAMESPACE_PATTERN, description="the source's default if unset"
    )
    object_name: str | None = Field(
        default=None,
        pattern=OBJECT_NAME_PATTERN,
        description="only the events about this object (a pod, deployment, node… name)",
    )


class K8sEvents:
    name: ClassVar[str] = "k8s_events"
    description: ClassVar[str] = (
        "Kubernetes events of a namespace, or of one object in it: warnings first, then "
        "newest; reason, object, message, how many times and when last."
    )
    parameters: ClassVar[type[BaseModel]] = EventsParameters

    def __init__(self, clusters: Clusters) -> None:
        self.clusters = clusters

    async def answer(self, arguments: EventsParameters) -> ToolAnswer:
        cluster = self.clusters.pick(arguments.source)
        namespace = cluster.namespace(arguments.namespace)
        selector = f"involvedObject.name={arguments.object_name}" if arguments.object_name else None

        def call(api: k8s.ApiClient, timeout: float) -> Any:
            return k8s.CoreV1Api(api).list_namespaced_event(
                namespace,
                field_selector=selector,
                _preload_content=False,
                _request_timeout=timeout,
            )

        listing = await cluster.get_json(call, f"listing events in namespace {namespace}")
        kubectl = ["get", "events"] + (["--field-selector", selector] if selector else [])
        return ToolAnswer(
            text=events_text(namespace, arguments.object_name, items(listing)),
            query=cluster.kubectl(namespace, *kubectl),
        )
