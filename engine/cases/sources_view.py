"""`/faultmaven sources`: the live sources this channel may use, whether each answers, and
what FaultMaven may ask it; and the ones configured but not allowed here, by name only."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from engine.tools.live import live_tools
from engine.tools.sources import Source, Sources

REACH_TIMEOUT_S = 2.0
DEFAULT_PORTS = {"http": 80, "https": 443, "postgresql": 5432, "postgres": 5432, "redis": 6379}


async def reachable(source: Source) -> str:
    """'reachable (4 ms)' or why not: a TCP connect to the source's address, nothing more
    (no credentials are tried from a chat command)."""
    if not source.url:
        return "configured"
    parts = urlsplit(source.url)
    host = parts.hostname
    if not host:
        return "configured"
    port = parts.port or DEFAULT_PORTS.get(parts.scheme, 80)
    started = time.monotonic()
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), REACH_TIMEOUT_S)
    except TimeoutError:
        return f"⚠️ no answer from {host}:{port} within {REACH_TIMEOUT_S:g} s"
    except OSError as exc:
        return f"⚠️ unreachable ({host}:{port}: {exc.strerror or exc})"
    writer.close()
    return f"reachable ({(time.monotonic() - started) * 1000:.0f} ms)"


def _tool_names(source: Source) -> list[str]:
    tools = live_tools(Sources([source]), probes=False)
    return sorted(tool.name for tool in tools)


async def describe_sources(sources: Sources, channel_id: str, channel_name: str | None) -> str:
    if not len(sources):
        return (
            "No live sources are configured. An admin lists Prometheus, Alertmanager, "
            "Postgres, Redis, HTTP, Kubernetes or command sources in FAULTMAVEN_SOURCES_FILE."
        )
    here = sources.allowed_in(channel_id, channel_name)
    elsewhere = [s.name for s in sources if s.name not in {h.name for h in here}]
    health = await asyncio.gather(*(reachable(source) for source in here))
    lines = ["*Live sources in this channel* (read-only)"] if len(here) else []
    for source, said in zip(here, health, strict=True):
        tools = ", ".join(f"`{name}`" for name in _tool_names(source)) or "—"
        about = f" — {source.description}" if source.description else ""
        lines.append(f"• *{source.name}* ({source.kind}){about}: {said}\n    tools: {tools}")
    if not len(here):
        lines.append("No live source may be used in this channel.")
    if elsewhere:
        lines.append(
            f"Not allowed here: {', '.join(elsewhere)} (an admin lists a source's channels "
            "in FAULTMAVEN_SOURCES_FILE)."
        )
    lines.append(
        "Network probes (`http_probe`, `dns_lookup`, `tcp_connect`) reach public "
        "addresses from any channel."
    )
    return "\n".join(lines)
