"""Slack implementations of the engine's ports: post/update messages, download files."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot import parsing
from bot.blocks import render
from engine.errors import DownloadFailed, EvidenceRejected
from engine.models import FileRef, ThreadMessage
from engine.replies import Reply

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=300, sock_connect=15, sock_read=60)
CHUNK = 256 * 1024


def web_client(token: str | None, base_url: str) -> AsyncWebClient:
    """A Web API client on SLACK_API_URL that honours 429 Retry-After and retries dropped
    connections, so a rate-limited burst slows down instead of losing replies."""
    client = AsyncWebClient(token=token, base_url=base_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=5))
    if not any(isinstance(h, AsyncConnectionErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(AsyncConnectionErrorRetryHandler(max_retry_count=2))
    return client


class SlackReplier:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(self, channel_id: str, reply: Reply, thread_ts: str | None = None) -> str:
        response = await self.client.chat_postMessage(
            channel=channel_id,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            **render(reply),
        )
        return str(response["ts"])

    async def update(self, channel_id: str, message_id: str, reply: Reply) -> None:
        await self.client.chat_update(channel=channel_id, ts=message_id, **render(reply))

    async def pin(self, channel_id: str, message_id: str) -> None:
        try:
            await self.client.pins_add(channel=channel_id, timestamp=message_id)
        except SlackApiError as exc:
            if exc.response.get("error") != "already_pinned":  # a retried job pins twice
                raise

    async def upload(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str
    ) -> None:
        await self.client.files_upload_v2(
            channel=channel_id,
            thread_ts=thread_ts,
            content=content,
            filename=filename,
            title=title,
        )


class SlackThreadHistory:
    """Reads a thread back with conversations.replies (scopes channels/groups/im:history)."""

    MAX_MESSAGES = 1000  # an incident thread past this is read from its most useful start

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def thread_messages(self, channel_id: str, thread_ts: str) -> list[ThreadMessage]:
        collected: list[dict[str, Any]] = []
        cursor: str | None = None
        while len(collected) < self.MAX_MESSAGES:
            page = await self.client.conversations_replies(
                channel=channel_id, ts=thread_ts, limit=200, cursor=cursor
            )
            collected.extend(page.get("messages") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                break
        return parsing.thread_messages(collected[: self.MAX_MESSAGES])


class SlackDirectory:
    """Workspace admins and owners, read with users.info (scope users:read).

    Answers are kept for `ttl_s` so a burst of checks costs one call per user; a user made or
    unmade admin is seen within that time.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self.clock = clock
        self._known: dict[str, tuple[bool, float]] = {}

    async def is_admin(self, user_id: str) -> bool:
        known = self._known.get(user_id)
        if known is not None and known[1] > self.clock():
            return known[0]
        user = (await self.client.users_info(user=user_id)).get("user") or {}
        admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        self._known[user_id] = (admin, self.clock() + self.ttl_s)
        return admin


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


class SlackFileSource:
    """Downloads url_private with the bot token, streamed and capped."""

    def __init__(self, client: AsyncWebClient, bot_token: str) -> None:
        self.client = client
        self.bot_token = bot_token
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # aiohttp ignores proxy variables by default (trust_env=False), like slack_sdk.
            self._session = aiohttp.ClientSession(timeout=DOWNLOAD_TIMEOUT)
        return self._session

    async def _resolve(self, file: FileRef) -> FileRef:
        if file.url:
            return file
        info = (await self.client.files_info(file=file.source_id))["file"]
        return file.model_copy(
            update={
                "name": info.get("name") or file.name,
                "size": info.get("size", file.size),
                "mimetype": info.get("mimetype", file.mimetype),
                "url": info.get("url_private_download") or info.get("url_private"),
            }
        )

    async def fetch(self, file: FileRef, max_bytes: int) -> bytes:
        file = await self._resolve(file)
        if file.size is not None and file.size > max_bytes:
            raise EvidenceRejected(
                f"{file.name} is {_mb(file.size)}, over the {_mb(max_bytes)} limit "
                "(FAULTMAVEN_MAX_FILE_MB); upload a smaller slice (e.g. the incident window)."
            )
        if not file.url:
            raise DownloadFailed(f"Slack gave no download link for {file.name}.")
        headers = {"Authorization": f"Bearer {self.bot_token}"}
        try:
            async with self._http().get(file.url, headers=headers) as response:
                if response.status != 200:
                    raise DownloadFailed(
                        f"Could not download {file.name} from Slack (HTTP {response.status}); "
                        "try uploading it again."
                    )
                if "text/html" in response.headers.get("Content-Type", "") and "html" not in (
                    file.mimetype or ""
                ):
                    raise DownloadFailed(
                        f"Slack sent a login page instead of {file.name}: the bot could not read "
                        "the file. Check that the app is in this channel and has the files:read "
                        "scope."
                    )
                chunks: list[bytes] = []
                received = 0
                async for chunk in response.content.iter_chunked(CHUNK):
                    received += len(chunk)
                    if received > max_bytes:
                        raise EvidenceRejected(
                            f"{file.name} is over the {_mb(max_bytes)} limit "
                            "(FAULTMAVEN_MAX_FILE_MB); upload a smaller slice."
                        )
                    chunks.append(chunk)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DownloadFailed(
                f"Could not download {file.name} from Slack ({type(exc).__name__}); try again."
            ) from exc
        return b"".join(chunks)
