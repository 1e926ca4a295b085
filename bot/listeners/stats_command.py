"""`/faultmaven stats`: how right FaultMaven was on the team's graded closed cases
(engine/cases/accuracy.py). Answered privately, from a few rows: no job needed."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext

from bot import blocks
from bot.deps import deps_of
from engine.cases.accuracy import describe_accuracy


async def on_stats(
    ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, rest: str
) -> None:
    stats = await deps_of(context).service.accuracy(command.get("team_id", ""))
    await ack(**blocks.message(describe_accuracy(stats)))
