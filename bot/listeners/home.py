"""App Home: the open cases of the workspace."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks
from bot.deps import deps_of


async def on_home_opened(
    event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    if event.get("tab") not in (None, "home"):
        return
    stats = await deps_of(context).service.open_cases(team_id=context.team_id)
    await client.views_publish(user_id=event["user"], view=blocks.home_view(stats))


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_home_opened)
