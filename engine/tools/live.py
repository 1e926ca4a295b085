"""The live tools a place may use: one factory per source kind, given only the sources
allowed there, plus the network probes (public targets always; private ones where an `http`
source allows them).

A kind's module is imported only when a source of that kind is configured: the Kubernetes
client alone costs a second at start, for teams that never configure it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from engine.tools.base import Tool
from engine.tools.sources import Source, SourceKind, Sources

ToolFactory = Callable[[list[Source]], list[Tool]]

# kind → (module, factory): each factory gets that kind's sources and returns its tools.
FACTORIES: dict[SourceKind, tuple[str, str]] = {
    "prometheus": ("engine.tools.prometheus", "prometheus_tools"),
    "alertmanager": ("engine.tools.alertmanager", "alertmanager_tools"),
    "postgres": ("engine.tools.postgres_diagnostics", "postgres_tools"),
    "redis": ("engine.tools.redis_diagnostics", "redis_tools"),
    "kubernetes": ("engine.tools.kubernetes", "kubernetes_tools"),
    "commands": ("engine.tools.commands", "command_tools"),
}
PROBES = ("engine.tools.probes", "probe_tools")


def _factory(module: str, name: str) -> ToolFactory:
    factory: ToolFactory = getattr(importlib.import_module(module), name)
    return factory


def live_tools(sources: Sources, *, probes: bool = True) -> list[Tool]:
    """The tools of `sources` (already narrowed to one place), kind by kind."""
    tools: list[Tool] = []
    for kind, (module, name) in FACTORIES.items():
        of_kind = sources.of_kind(kind)
        if of_kind:
            tools.extend(_factory(module, name)(of_kind))
    if probes:
        tools.extend(_factory(*PROBES)(sources.of_kind("http")))
    return tools
