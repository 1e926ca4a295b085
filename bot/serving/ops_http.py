"""The operations endpoints of a FaultMaven process, on FAULTMAVEN_HTTP_PORT.

- `/healthz`: liveness. Answered by the process's own event loop, so a blocked or dead loop
  fails it; it checks nothing else (a Postgres outage must not get every process restarted).
- `/readyz`: readiness. Postgres (`SELECT 1` through the pool), Redis (PING), and for bot
  roles the Slack socket: 200 with each check's result, 503 naming what is down.
- `/metrics`: this process's Prometheus metrics (engine/ops/prometheus.py).
- `POST /alerts/alertmanager`: Alertmanager's webhook (bot/serving/alerts_http.py).

No access log: probes and scrapes every few seconds would drown the useful lines.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient

from bot.serving.listening import listen
from engine.ops import prometheus
from engine.ops.health import CHECK_TIMEOUT_S, OK, Check, NotReady, Readiness

log = logging.getLogger(__name__)

QueueDepth = Callable[[], Awaitable[int]]


def slack_socket(client: AsyncBaseSocketModeClient) -> Check:
    async def check() -> None:
        if not await client.is_connected():
            raise NotReady("socket not connected")

    return check


class OpsServer:
    def __init__(
        self,
        readiness: Readiness,
        *,
        queue_depth: QueueDepth | None = None,
        routes: list[web.RouteDef] | None = None,
    ) -> None:
        self.readiness = readiness
        self.queue_depth = queue_depth
        # More endpoints on this port: the Alertmanager receiver (bot/serving/alerts_http.py).
        self.routes = routes or []
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)
        app.router.add_routes(self.routes)
        return app

    async def start(self, port: int, host: str | None = None) -> int:
        """Listen on `port` (0: any free one) of `host` (None: every interface); the port."""
        self._runner, bound = await listen(
            self.app(),
            port,
            host,
            refused="The operations endpoints cannot listen on port {port} ({reason}): set "
            "FAULTMAVEN_HTTP_PORT to a free port, or to 0 to turn them off.",
        )
        log.info("operations endpoints on port %d: /healthz /readyz /metrics", bound)
        return bound

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, request: web.Request) -> web.Response:
        checks = await self.readiness.run()
        down = [name for name, result in checks.items() if result != OK]
        body = {"status": "not ready" if down else "ready", "checks": checks, "down": down}
        return web.json_response(body, status=503 if down else 200)

    async def metrics(self, request: web.Request) -> web.Response:
        if self.queue_depth is not None:
            try:
                prometheus.JOBS_QUEUED.set(
                    await asyncio.wait_for(self.queue_depth(), CHECK_TIMEOUT_S)
                )
            except Exception as exc:  # Redis down: say unknown rather than a stale count
                log.debug("queue depth unknown: %s", exc)
                prometheus.JOBS_QUEUED.set(float("nan"))
        body, content_type = prometheus.render(request.headers.get("Accept", ""))
        return web.Response(body=body, headers={"Content-Type": content_type})
