"""What reading a call-graph file gives: pydantic models, no logic."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class GraphEdge(BaseModel):
    caller: str
    callee: str
    weight: float | None = Field(default=None, description="the file's own number, if any")


class CallGraphReport(BaseModel):
    """A dependency table (`Source,Target,Weight`, `caller,callee`, `parent,child`…)."""

    kind: Literal["topology"] = "topology"
    name: str
    size_bytes: int
    sha256: str
    edges: list[GraphEdge] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list, description="every name, as written")
    notes: list[str] = Field(default_factory=list)
