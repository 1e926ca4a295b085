"""App Home: open cases of the channels the person is in, recent resolutions, knowledge."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import deps_of
from bot.home_view import home_view

log = logging.getLogger(__name__)
MAX_CHANNEL_PAGES = 10


async def channels_of(client: AsyncWebClient, user_id: str) -> list[str] | None:
    """The channels `user_id` is a member of that the bot can see (users.conversations);
    None when Slack will not say (a missing scope), so the tab shows the whole workspace."""
    channels: list[str] = []
    cursor: str | None = None
    try:
        for _ in range(MAX_CHANNEL_PAGES):
            response = await client.users_conversations(
                user=user_id,
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=200,
                cursor=cursor,
            )
            channels += [c["id"] for c in response.get("channels") or []]
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except SlackApiError as exc:
        log.warning("users.conversations failed for the App Home: %s", exc)
        return None
    return channels


async def on_home_opened(
    event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    if event.get("tab") not in (None, "home"):
        return
    service = deps_of(context).service
    channels = await channels_of(client, event["user"])
    open_cases = await service.open_cases(team_id=context.team_id)
    if channels is not None:
        open_cases = [s for s in open_cases if s.case.channel_id in channels]
    view = home_view(
        open_cases,
        await service.recent_resolutions(channels),
        await service.knowledge_stats(),
        scope="your channels" if channels is not None else "this workspace",
        accuracy=await service.accuracy(context.team_id or ""),
    )
    await client.views_publish(user_id=event["user"], view=view)


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_home_opened)
