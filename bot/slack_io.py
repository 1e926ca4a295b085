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
from yarl import URL

from bot import parsing
from bot.blocks import render
from engine.core.errors import DownloadFailed, EvidenceRejected
from engine.core.models import FileRef, ThreadMessage
from engine.core.replies import Reply

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=300, sock_connect=15, sock_read=60)
CHUNK = 256 * 1024
# Slack serves files from these domains (and their subdomains, over https): the bot token is
# sent there and to SLACK_API_URL's own host, never to any other host a file link names.
SLACK_FILE_DOMAINS = ("slack.com", "slack-edge.com")
MAX_DOWNLOAD_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


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

    async def post_private(self, channel_id: str, user_id: str, reply: Reply) -> None:
        await self.client.chat_postEphemeral(channel=channel_id, user=user_id, **render(reply))

    async def link(self, channel_id: str, message_id: str) -> str | None:
        # A missing link costs only the hyperlink, never the reply that wanted it.
        try:
            response = await self.client.chat_getPermalink(
                channel=channel_id, message_ts=message_id
            )
        except SlackApiError as exc:
            log.warning("no permalink for %s/%s: %s", channel_id, message_id, exc)
            return None
        return str(response["permalink"]) if response.get("permalink") else None


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


def is_slack_file_url(url: str, api_url: str) -> bool:
    """Whether `url` is Slack's to serve, so the bot token may go with the request: https on
    slack.com or slack-edge.com (or a subdomain), or SLACK_API_URL's scheme and host (and
    subdomains of it: GovSlack's files, a proxy, the fake workspace in tests)."""
    try:
        target, api = URL(url), URL(api_url)
    except (ValueError, TypeError):
        return False
    host = (target.host or "").lower().rstrip(".")
    api_host = (api.host or "").lower().rstrip(".")
    if not host:
        return False
    same_api_host = host == api_host or host.endswith(f".{api_host}")
    if same_api_host and target.scheme == api.scheme and target.port == api.port:
        return True
    return (
        target.scheme == "https"
        and target.port == 443
        and any(host == d or host.endswith(f".{d}") for d in SLACK_FILE_DOMAINS)
    )


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
        url = file.url
        try:
            # Redirects are followed here, not by aiohttp, so every hop is checked before
            # the token goes with it.
            for _ in range(MAX_DOWNLOAD_REDIRECTS + 1):
                if not is_slack_file_url(url, str(self.client.base_url)):
                    raise DownloadFailed(
                        f"{file.name} was skipped: its link points to "
                        f"{URL(url).host or url}, not to Slack, and FaultMaven sends its "
                        "Slack token only to Slack's own file hosts."
                    )
                async with self._http().get(
                    url, headers=headers, allow_redirects=False
                ) as response:
                    location = response.headers.get("Location")
                    if response.status in _REDIRECTS and location:
                        url = str(response.url.join(URL(location)))
                        continue
                    return await self._read(file, response, max_bytes)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise DownloadFailed(
                f"Could not download {file.name} from Slack ({type(exc).__name__}); try again."
            ) from exc
        raise DownloadFailed(f"Slack redirected the download of {file.name} too many times.")

    async def _read(self, file: FileRef, response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
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
        return b"".join(chunks)
