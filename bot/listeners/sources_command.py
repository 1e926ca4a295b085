"""`/faultmaven sources` and `/faultmaven query [#case] <source> <what>`: live sources
(engine/cases/sources_view.py, engine/cases/source_query.py)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext

from bot import blocks, parsing
from bot.deps import deps_of
from engine.cases.source_query import USAGE, SourceQueryRequest
from engine.worker.jobs import JobKind


async def on_sources(
    ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, rest: str
) -> None:
    service = deps_of(context).service
    text = await service.describe_sources(command["channel_id"], command.get("channel_name"))
    await ack(**blocks.message(text))


async def on_query(
    ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, rest: str
) -> None:
    """Checked at once (a refusal is the private ack), run by a worker: a query may take
    up to its source's time limit, and Slack wants the ack within 3 s."""
    if not rest.strip():
        await ack(**blocks.message(USAGE))
        return
    case_id, text = parsing.case_ref_and_rest(rest)
    request = SourceQueryRequest(
        channel_id=command["channel_id"],
        channel_name=command.get("channel_name"),
        user=command["user_id"],
        text=text,
        case_id=case_id,
    )
    deps = deps_of(context)
    await deps.service.check_source_query(request)  # raises: said by the dispatcher
    await ack(**blocks.message(f"Asking `{text.split()[0]}`… the answer comes in this channel."))
    await deps.queue.submit(JobKind.QUERY_SOURCE, request, dedup_key=f"cmd:{command['trigger_id']}")
