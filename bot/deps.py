"""What listeners need, injected through Bolt's context by a middleware (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.cases.service import CaseService
from engine.worker.queue import JobQueue


@dataclass
class BotDeps:
    service: CaseService
    queue: JobQueue


def deps_of(context: dict[str, object]) -> BotDeps:
    deps = context["deps"]
    assert isinstance(deps, BotDeps)
    return deps
