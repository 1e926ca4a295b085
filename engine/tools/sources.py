"""Data sources an admin configures: what FaultMaven may query live, and where.

A YAML file (setting `FAULTMAVEN_SOURCES_FILE`) lists them:

    sources:
      - name: prod-prometheus
        kind: prometheus
        url: http://prometheus.internal:9090
        credentials_env: PROM_TOKEN      # a bearer token, read from this environment variable
        channels: ["#incidents", C0123]  # where people and turns may use it; "*" = everywhere

Secrets never sit in the file: a source names the environment variable that holds its
token or password. A source is refused in a channel it does not list (the terminal, where
the operator runs FaultMaven, may use every source). A mistake in the file is refused at
start with the entry and field that are wrong.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.core.errors import FaultMavenError
from engine.tools.base import ToolError

SourceKind = Literal[
    "prometheus", "alertmanager", "postgres", "redis", "http", "kubernetes", "commands"
]
EVERYWHERE = "*"
TERMINAL = "terminal"  # the channel id of `faultmaven shell` / the CLI: the operator's own


class SourcesError(FaultMavenError):
    """The sources file cannot be used: said with the entry and field that are wrong."""


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
    kind: SourceKind
    # Where it answers: a base URL (prometheus, alertmanager, http), a DSN without its
    # password (postgres), a redis:// URL (redis); kubernetes and commands need none.
    url: str | None = None
    # The environment variable holding its secret: a bearer token (prometheus, alertmanager,
    # http), a password (postgres, redis).
    credentials_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    channels: list[str] = Field(default_factory=list)  # ids or #names; "*" for every channel
    allow_private: bool = False  # http: may probe private and loopback addresses
    timeout_s: float = Field(default=30.0, gt=0, le=120)
    description: str = ""  # shown in `/faultmaven sources` and to a model
    options: dict[str, Any] = Field(default_factory=dict)  # what only one kind needs

    def secret(self) -> str | None:
        """The source's token or password, from its environment variable; None if unset."""
        if not self.credentials_env:
            return None
        return os.environ.get(self.credentials_env) or None

    def allowed_in(self, channel_id: str, channel_name: str | None = None) -> bool:
        if channel_id == TERMINAL:
            return True
        names = {channel_id}
        if channel_name:
            names.add("#" + channel_name.lstrip("#"))
        return EVERYWHERE in self.channels or bool(names & set(self.channels))


class Sources:
    def __init__(self, sources: Iterable[Source] = ()) -> None:
        self._by_name: dict[str, Source] = {}
        for source in sources:
            if source.name in self._by_name:
                raise SourcesError(f"two sources are named {source.name!r}")
            self._by_name[source.name] = source

    def __iter__(self) -> Iterator[Source]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def get(self, name: str) -> Source | None:
        return self._by_name.get(name)

    def of_kind(self, kind: SourceKind) -> list[Source]:
        return [source for source in self if source.kind == kind]

    def allowed_in(self, channel_id: str, channel_name: str | None = None) -> Sources:
        return Sources(s for s in self if s.allowed_in(channel_id, channel_name))


def parse_sources(data: Any, *, origin: str = "sources") -> Sources:
    """Sources from the YAML's data (`{"sources": [...]}` or a bare list)."""
    if data is None:
        return Sources()
    entries = data.get("sources", []) if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise SourcesError(f"{origin}: `sources` must be a list of entries")
    parsed: list[Source] = []
    for i, entry in enumerate(entries, 1):
        label = entry.get("name", f"entry {i}") if isinstance(entry, dict) else f"entry {i}"
        try:
            parsed.append(Source.model_validate(entry))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'entry'}: {err['msg']}"
                for err in exc.errors()
            )
            raise SourcesError(f"{origin}, source {label!r}: {problems}") from None
    return Sources(parsed)


def load_sources(path: Path | None) -> Sources:
    """The configured sources; none when no file is set."""
    if path is None:
        return Sources()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourcesError(f"cannot read the sources file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SourcesError(f"the sources file {path} is not valid YAML: {exc}") from None
    return parse_sources(data, origin=str(path))


def pick_source(sources: list[Source], name: str | None, kind: str) -> Source:
    """The source a tool run names (or the only one of its kind), said clearly otherwise."""
    if name is None and len(sources) == 1:
        return sources[0]
    for source in sources:
        if source.name == name:
            return source
    here = ", ".join(s.name for s in sources) or "none"
    if name is None:
        raise ToolError(f"say which {kind} source to use: {here}")
    raise ToolError(f"no {kind} source named {name!r} may be used here; {kind} sources: {here}")
