"""What listeners need, injected through Bolt's context by a middleware (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.queue import JobQueue
from engine.service import CaseService


@dataclass
class BotDeps:
    service: CaseService
    queue: JobQueue


def deps_of(context: dict[str, object]) -> BotDeps:
    deps = context["deps"]
    assert isinstance(deps, BotDeps)
    return deps
