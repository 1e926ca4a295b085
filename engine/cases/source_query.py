"""`/faultmaven query [#case] <source> <what>`: a person asks a live source directly.

What follows the source is read by its kind:
- prometheus: PromQL (`--range 30m <promql>` for a range, which a case keeps as evidence);
- alertmanager: `alerts` (the default) or `silences`;
- postgres, redis: a check of the catalogue (`connections`, `blocked`, `slowlog`…);
- http: a URL to probe; `dns <name> [type]`; `tcp <host> <port>`;
- any kind: `<tool> name=value …`, a tool of `faultmaven tools list` with its arguments.
A source not allowed in the channel is refused and the refusal audited. The answer is posted
with the exact call and query, in the case's thread when a case is named (its data then joins
the case's evidence), else in the channel.
"""

from __future__ import annotations

import logging
from typing import Any

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from engine.cases.case_tools import CaseTools
from engine.cases.posting import Poster
from engine.core.errors import CaseNotFound, UnknownCommand
from engine.core.models import Case
from engine.core.replies import NoticeReply
from engine.core.tool_runs import ToolRun
from engine.store import audit, cases
from engine.tools.base import ToolError
from engine.tools.registry import parse_pairs
from engine.tools.sources import Source

log = logging.getLogger(__name__)

TOOL_REFUSED = "tool.refused"
USAGE = (
    "Say `/faultmaven query [#case] <source> <what>`, e.g. `/faultmaven query prom "
    'rate(http_requests_total{code=~"5.."}[5m])`; `/faultmaven sources` lists the sources.'
)
SHOWN_OUTPUT_CHARS = 2_800  # a Slack section holds 3,000


class SourceQueryRequest(BaseModel):
    channel_id: str
    channel_name: str | None = None
    user: str
    text: str
    case_id: int | None = None


def _pairs(words: list[str]) -> dict[str, Any]:
    try:
        return parse_pairs(words)
    except ToolError as exc:
        raise UnknownCommand(f"{exc} (a tool's arguments). {USAGE}") from None


def query_call(source: Source, text: str, tool_names: set[str]) -> tuple[str, dict[str, Any]]:
    """The tool and arguments a query on `source` means."""
    words = text.split()
    if not words:
        raise UnknownCommand(f"Say what to ask {source.name}. {USAGE}")
    first, rest = words[0], text.strip()[len(words[0]) :].strip()
    if first in tool_names:  # `<tool> name=value …`, for any kind
        return first, {"source": source.name, **_pairs(rest.split())}
    base = {"source": source.name}
    match source.kind:
        case "prometheus":
            if first == "--range" and len(words) >= 3:
                promql = rest[len(words[1]) :].strip()
                return "prometheus_range", {**base, "query": promql, "start": words[1]}
            return "prometheus_query", {**base, "query": text.strip()}
        case "alertmanager":
            return ("alertmanager_silences" if first == "silences" else "alertmanager_alerts"), base
        case "postgres":
            return "postgres_diagnose", {**base, "check": first}
        case "redis":
            return "redis_diagnose", {**base, "check": first}
        case "http":
            if first == "dns" and len(words) >= 2:
                args = {"name": words[1], **({"type": words[2].upper()} if len(words) > 2 else {})}
                return "dns_lookup", args
            if first == "tcp" and len(words) == 3 and words[2].isdigit():
                return "tcp_connect", {**base, "host": words[1], "port": int(words[2])}
            return "http_probe", {**base, "url": first}
    raise UnknownCommand(
        f"Ask {source.name} ({source.kind}) with one of its tools: "
        f"`<tool> name=value …` ({', '.join(sorted(tool_names)) or 'none'})."
    )


def _shown(run: ToolRun) -> str:
    lines = [f"`{run.call}`"]
    if run.query and run.query != run.call:
        lines.append(f"```{run.query}```")
    if not run.ok:
        lines.append(f"⚠️ {run.error}")
        return "\n".join(lines)
    output = run.output[:SHOWN_OUTPUT_CHARS]
    cut = " (cut; the whole answer is in the case's evidence)" if run.evidence_name else ""
    lines.append(f"```{output}```" + (cut if len(run.output) > SHOWN_OUTPUT_CHARS else ""))
    if run.evidence_name:
        lines.append(f"Kept as evidence: {run.evidence_name}")
    return "\n".join(lines)


class SourceQueries:
    def __init__(self, pool: AsyncConnectionPool, *, tools: CaseTools, poster: Poster) -> None:
        self.pool = pool
        self.tools = tools
        self.poster = poster

    async def _case(self, req: SourceQueryRequest) -> Case | None:
        if req.case_id is None:
            return None
        case = await cases.get(self.pool, req.case_id)
        if case is None or case.channel_id != req.channel_id:
            raise CaseNotFound(f"There is no case #{req.case_id} in this channel.")
        return case

    async def check(self, req: SourceQueryRequest) -> tuple[str, dict[str, Any]]:
        """The tool and arguments; a clear refusal (audited) when the query cannot run."""
        name, _, what = req.text.strip().partition(" ")
        if not name:
            raise UnknownCommand(USAGE)
        source = self.tools.sources.get(name)
        if source is None:
            known = ", ".join(s.name for s in self.tools.sources) or "none are configured"
            raise UnknownCommand(f"There is no source named `{name}` ({known}). {USAGE}")
        if not source.allowed_in(req.channel_id, req.channel_name):
            await audit.record(
                self.pool,
                actor=req.user,
                action=TOOL_REFUSED,
                case_id=req.case_id,
                target=source.name,
                detail={"channel": req.channel_id, "query": req.text[:500]},
            )
            raise UnknownCommand(
                f"`{source.name}` may not be used in this channel; an admin lists the channels "
                "of each source in FAULTMAVEN_SOURCES_FILE."
            )
        await self._case(req)
        names = {tool.name for tool in self.tools.place_tools(req.channel_id, req.channel_name)}
        return query_call(source, what, names)

    async def run(self, req: SourceQueryRequest, *, key: str) -> ToolRun:
        tool, arguments = await self.check(req)
        case = await self._case(req)
        tools = self.tools.place_tools(req.channel_id, req.channel_name)
        if case is not None:
            registry = self.tools.registry(case, tools)
        else:
            registry = self.tools.registry_without_case(tools)
        run = await registry.run(tool, arguments, requested_by=req.user)
        text = f"🔎 <@{req.user}> asked *{req.text.split()[0]}*:\n{_shown(run)}"
        await self.poster.post_once(
            f"query:{key}",
            req.channel_id,
            NoticeReply(text=text, is_error=not run.ok),
            case.thread_ts if case else None,
            case.id if case else None,
        )
        return run
