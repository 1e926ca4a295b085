"""`/faultmaven digest on|off`: the channel's daily digest of open cases
(engine/cases/digest.py)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext

from bot import blocks
from bot.deps import deps_of

USAGE = "Say `/faultmaven digest on` or `/faultmaven digest off`."


async def on_digest(
    ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, rest: str
) -> None:
    service = deps_of(context).service
    choice = rest.strip().lower()
    if choice == "":
        text = await service.digest_status(command["channel_id"])
    elif choice in ("on", "off"):
        text = await service.set_digest(
            channel_id=command["channel_id"],
            team_id=command.get("team_id", ""),
            user=command["user_id"],
            on=choice == "on",
        )
    else:
        text = f"I don't know `digest {rest.strip()}`. {USAGE}"
    await ack(**blocks.message(text))
