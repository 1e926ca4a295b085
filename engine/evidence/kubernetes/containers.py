"""The Containers / Init Containers blocks of `kubectl describe` -> one state per container.

Pods print them at the top level; Deployments, StatefulSets, Jobs... under `Pod Template:`,
one space deeper. A container's name is the first line under the title; its fields are
indented further, and State, Last State, Limits and Requests hold their own sub-fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TITLE = re.compile(r"^(?P<indent>\s*)(?P<init>Init )?Containers:\s*$")
_FIELD = re.compile(r"^(?P<key>[A-Za-z][\w .()/#-]*?):(?:\s+(?P<value>.*?))?\s*$")
_PROBES = ("Liveness", "Readiness", "Startup")


@dataclass
class ContainerState:
    name: str
    init: bool
    image: str | None = None
    state: str | None = None  # Running, Waiting, Terminated
    waiting: str | None = None  # the reason of a Waiting state
    terminated: str | None = None  # the reason of a Terminated state
    last_reason: str | None = None  # the reason of the Last State
    ready: bool = False
    restarts: int | None = None
    exit_codes: list[int] = field(default_factory=list)
    limits: dict[str, str] = field(default_factory=dict)
    probes: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # verbatim lines worth citing

    @property
    def reasons(self) -> list[str]:
        found = [r for r in (self.waiting, self.terminated, self.last_reason) if r]
        return list(dict.fromkeys(found))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _apply(state: ContainerState, parent: str | None, key: str, value: str, raw: str) -> None:
    """One field of a container; `parent` is the field it sits under (State, Limits...)."""
    text = raw.strip()
    if parent is None:
        if key == "Image":
            state.image = value or None
        elif key == "State":
            state.state = value or None
            if value and value != "Running":
                state.evidence.append(text)
        elif key == "Last State":
            if value:
                state.evidence.append(text)
        elif key == "Ready":
            state.ready = value == "True"
        elif key == "Restart Count" and value.isdigit():
            state.restarts = int(value)
            if state.restarts:
                state.evidence.append(text)
        elif key in _PROBES and value:
            state.probes.append(f"{key.lower()} {value}")
        return
    if key == "Reason" and parent == "State":
        if state.state == "Waiting":
            state.waiting = value
        else:
            state.terminated = value
        state.evidence.append(text)
    elif key == "Reason" and parent == "Last State":
        state.last_reason = value
        state.evidence.append(text)
    elif key == "Exit Code" and parent in ("State", "Last State"):
        if value.lstrip("-").isdigit():
            state.exit_codes.append(int(value))
            state.evidence.append(text)
    elif key == "Message" and parent in ("State", "Last State") and value:
        state.evidence.append(text)
    elif parent == "Limits" and value:
        state.limits[key] = value
        state.evidence.append(f"Limits {text}")


def read_containers(lines: list[str], first_line: int = 1) -> list[ContainerState]:
    """Every container of a describe block, init containers first as printed."""
    del first_line  # lines are cited verbatim, not by number
    states: list[ContainerState] = []
    i = 0
    while i < len(lines):
        title = _TITLE.match(lines[i])
        if not title:
            i += 1
            continue
        base = len(title.group("indent"))
        init = bool(title.group("init"))
        i += 1
        name_indent: int | None = None
        field_indent: int | None = None
        parent: str | None = None
        current: ContainerState | None = None
        while i < len(lines):
            raw = lines[i]
            if raw.strip() and _indent(raw) <= base:
                break  # the next field of the object
            match = _FIELD.match(raw.strip())
            indent = _indent(raw)
            if not raw.strip() or match is None:
                i += 1
                continue
            key, value = match.group("key"), (match.group("value") or "").strip()
            if name_indent is None or (indent == name_indent and not value):
                name_indent = indent
                current = ContainerState(name=key, init=init)
                states.append(current)
                field_indent, parent = None, None
            elif current is not None:
                if field_indent is None:
                    field_indent = indent
                if indent == field_indent:
                    _apply(current, None, key, value, raw)
                    parent = key
                elif indent > field_indent:
                    _apply(current, parent, key, value, raw)
            i += 1
    return states
