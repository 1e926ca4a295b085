"""HTTP mode: Slack POSTs events, clicks and slash commands to /slack/events.

The alternative to socket mode for deployments behind a load balancer: any bot process may
take any request, since a case's state lives in Postgres and Redis, not in the process.

Bolt does the Slack part: `AsyncApp(signing_secret=...)` verifies each request's
`X-Slack-Signature` (v0 HMAC-SHA256 over "v0:{timestamp}:{body}") and refuses a
`X-Slack-Request-Timestamp` more than 5 minutes from now (a replayed request), answering 401
before any listener runs; it also answers Slack's `url_verification` challenge. This module
serves Bolt's aiohttp adapter routes (`AsyncSlackAppServer`) on a runner of our own, so they
start and stop in the process's event loop, and times each ack like the socket-mode handler.

The endpoint has a port of its own (SLACK_HTTP_PORT), not FAULTMAVEN_HTTP_PORT's: Slack
reaches it from the internet through the load balancer, while /metrics and /readyz stay on a
port only the cluster sees, and FAULTMAVEN_HTTP_PORT=0 does not switch Slack off.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_server import AsyncSlackAppServer
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.serving.listening import listen
from bot.serving.socket_mode import event_type
from engine.core.errors import ConfigurationError
from engine.ops import prometheus
from engine.ops.health import Check, NotReady

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def request_kind(req: AsyncBoltRequest) -> str:
    """The socket-mode envelope type this request would have come in, for the same metric
    labels in both modes: events_api, slash_commands, interactive, or other (url checks)."""
    body = req.body
    if body.get("type") == "event_callback":
        return "events_api"
    if "command" in body:
        return "slash_commands"
    if req.raw_body.startswith("payload="):  # clicks, views and shortcuts come form-encoded
        return "interactive"
    return "other"


class MeteredSlackAppServer(AsyncSlackAppServer):
    """Bolt's aiohttp routes for /slack/events, counting requests and timing their acks."""

    async def handle_post_requests(self, request: web.Request) -> web.Response:
        if request.path != self.path:
            return web.Response(status=404)
        start = time.perf_counter()
        bolt_req = await to_bolt_request(request)
        bolt_resp = await self.bolt_app.async_dispatch(bolt_req)
        if bolt_resp.status == 401:
            # Unsigned, wrongly signed or replayed: not Slack's. Not counted, since its labels
            # would come from whoever sent it.
            log.warning("refused a request to %s: bad or expired Slack signature", self.path)
            return await to_aiohttp_response(bolt_resp)
        kind = request_kind(bolt_req)
        type_ = event_type(kind, bolt_req.body)
        prometheus.EVENTS_RECEIVED.labels(kind, type_).inc()
        response = await to_aiohttp_response(bolt_resp)
        if bolt_resp.status == 200:  # otherwise not acked: Slack retries events
            prometheus.ACK_LATENCY.labels(kind).observe(time.perf_counter() - start)
            prometheus.EVENTS_ACKED.labels(kind, type_).inc()
        return response


class SlackHttpServer:
    """/slack/events on `port`, served by this process's event loop."""

    def __init__(self, app: AsyncApp, client: AsyncWebClient) -> None:
        self.app = app
        self.client = client
        self.server = MeteredSlackAppServer(port=0, path=EVENTS_PATH, app=app)
        self._runner: web.AppRunner | None = None
        self._authorized = False

    async def start(self, port: int, host: str | None = None) -> int:
        """Listen on `port` of `host` (None: every interface); the port bound."""
        self._runner, bound = await listen(
            self.server.web_app,
            port,
            host,
            refused="The Slack endpoint cannot listen on port {port} ({reason}): set "
            "SLACK_HTTP_PORT to a free port.",
        )
        log.info("Slack endpoint on port %d: %s (HTTP mode)", bound, EVENTS_PATH)
        return bound

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def listening(self) -> bool:
        return self._runner is not None and bool(self._runner.addresses)

    def readiness(self) -> Check:
        """Ready once the endpoint listens and the bot token works (auth.test, asked until it
        first succeeds: a revoked token shows here rather than in every listener)."""

        async def check() -> None:
            if not self.listening:
                raise NotReady(f"{EVENTS_PATH} not listening")
            if self._authorized:
                return
            try:
                await self.client.auth_test()
            except SlackApiError as exc:
                raise NotReady(f"auth.test failed: {exc.response.get('error')}") from exc
            self._authorized = True

        return check


MANIFEST = "manifest.yml"
HTTP_HEADER = """\
# FaultMaven's Slack app manifest for HTTP mode (printed by `faultmaven manifest --http URL`):
# api.slack.com/apps -> Create New App -> From a manifest -> paste this. Install the app, then
# run every bot process with SLACK_MODE=http, SLACK_BOT_TOKEN (xoxb-..., OAuth & Permissions)
# and SLACK_SIGNING_SECRET (Basic Information -> App Credentials), the load balancer sending
# {url} to their SLACK_HTTP_PORT.
"""


def manifest_text(path: Path | None = None) -> str:
    """manifest.yml: `path`, else the one in the current directory, else the checkout's."""
    candidates = [path] if path else [Path.cwd() / MANIFEST, Path(__file__).parents[2] / MANIFEST]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise ConfigurationError(
        f"No {MANIFEST} found (looked at {', '.join(str(c) for c in candidates)}): run this "
        "in a FaultMaven checkout, or give the file with --file."
    )


def request_url(url: str) -> str:
    """The Request URL Slack is given: https only (Slack refuses others), /slack/events when
    only a host is given."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigurationError(
            f"{url!r} is not an https URL: Slack only sends requests to https://, e.g. "
            f"https://faultmaven.example.com{EVENTS_PATH}."
        )
    if parts.path in ("", "/"):
        parts = parts._replace(path=EVENTS_PATH)
    return urlunsplit(parts)


def http_manifest_text(text: str, url: str) -> str:
    """The HTTP-mode variant of manifest.yml's `text`, sending everything to `url`."""
    url = request_url(url)
    manifest = http_manifest(yaml.safe_load(text), url)
    body = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)
    return HTTP_HEADER.format(url=url) + body


def http_manifest(manifest: dict[str, Any], url: str) -> dict[str, Any]:
    """The socket-mode manifest turned into the HTTP-mode one: Slack sends events, clicks and
    every slash command to `url` (an https URL ending in /slack/events)."""
    features = manifest.setdefault("features", {})
    for command in features.get("slash_commands") or []:
        command["url"] = url
    settings = manifest.setdefault("settings", {})
    settings.setdefault("event_subscriptions", {})["request_url"] = url
    settings.setdefault("interactivity", {"is_enabled": True})["request_url"] = url
    settings["socket_mode_enabled"] = False
    return manifest
