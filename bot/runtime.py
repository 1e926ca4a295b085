"""Start what a process needs (database, queue, Slack clients) and run its roles.

Roles: `bot` (Slack listeners: ack and enqueue; over the socket, or in HTTP mode on
/slack/events), `worker` (arq jobs), `all` (both).
SIGTERM stops cleanly: the socket (or endpoint) closes first so no new events arrive, running
jobs get `shutdown_grace_s` to finish, and any still running are returned to the queue by arq.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass
from typing import Literal

from arq.connections import ArqRedis, create_pool
from arq.worker import Worker
from psycopg_pool import AsyncConnectionPool
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import build_app
from bot.blocks import user_ref
from bot.deps import BotDeps
from bot.serving.alerts_http import AlertReceiver
from bot.serving.http_mode import SlackHttpServer
from bot.serving.ops_http import OpsServer, slack_socket
from bot.serving.socket_mode import MeteredSocketModeHandler
from bot.slack_io import (
    SlackDirectory,
    SlackFileSource,
    SlackReplier,
    SlackThreadHistory,
    web_client,
)
from engine.cases.service import CaseService
from engine.core.config import Settings
from engine.core.errors import ConfigurationError
from engine.ops import health
from engine.ops.embedded import EmbeddedServices
from engine.store.db import open_pool, readiness_check
from engine.store.migrate import apply_migrations
from engine.worker import jobs
from engine.worker.coalesce import CaseRuns
from engine.worker.queue import UNREACHABLE, JobQueue, redis_settings
from engine.worker.scheduler import Schedule

log = logging.getLogger(__name__)

Role = Literal["all", "bot", "worker"]
QUEUE_NAME = "faultmaven:queue"

MISSING_TOKENS = (
    "FaultMaven cannot connect to Slack: {missing} {verb} not set. Create the Slack app from "
    "manifest.yml (api.slack.com/apps → Create New App → From a manifest), install it to your "
    "workspace, then set SLACK_BOT_TOKEN (the xoxb- token under OAuth & Permissions) and "
    "SLACK_APP_TOKEN (an xapp- app-level token with the connections:write scope, under Basic "
    "Information) in the environment or a .env file. To try FaultMaven without Slack, run "
    "`faultmaven shell`."
)
MISSING_HTTP_SETTINGS = (
    "FaultMaven cannot connect to Slack (SLACK_MODE=http): {missing} {verb} not set. Create "
    "the Slack app from the manifest printed by `faultmaven manifest --http "
    "https://<your host>/slack/events`, install it to your workspace, then set SLACK_BOT_TOKEN "
    "(the xoxb- token under OAuth & Permissions) and SLACK_SIGNING_SECRET (the Signing Secret "
    "under Basic Information → App Credentials) in the environment or a .env file."
)


def check_slack_settings(settings: Settings, role: Role) -> None:
    missing = settings.missing_slack_settings()
    if role == "worker":  # workers post and download but take no events
        missing = [m for m in missing if m not in ("SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        text = MISSING_HTTP_SETTINGS if settings.slack_mode == "http" else MISSING_TOKENS
        raise ConfigurationError(text.format(missing=" and ".join(missing), verb=verb))
    http_bot = settings.slack_mode == "http" and role != "worker"
    if http_bot and settings.slack_http_port == settings.http_port:
        raise ConfigurationError(
            f"SLACK_HTTP_PORT and FAULTMAVEN_HTTP_PORT are both {settings.http_port}: give the "
            "Slack endpoint and the operations endpoints a port each."
        )


@dataclass
class Backends:
    """Database pool and Redis, embedded when no URL is configured."""

    settings: Settings
    embedded: EmbeddedServices
    pool: AsyncConnectionPool
    redis: ArqRedis | None = None

    @classmethod
    async def start(cls, settings: Settings, *, with_redis: bool = True) -> Backends:
        embedded = EmbeddedServices(settings.data_dir)
        db_url = settings.database_url
        if not db_url:
            db_url = await asyncio.to_thread(embedded.postgres_url)
        pool = await open_pool(db_url)
        async with pool.connection() as conn:
            await apply_migrations(conn)
        backends = cls(settings, embedded, pool)
        if with_redis:
            redis_url = settings.redis_url
            if not redis_url:
                redis_url = await asyncio.to_thread(embedded.redis_url)
            backends.redis = await create_pool(
                redis_settings(redis_url), default_queue_name=QUEUE_NAME
            )
        return backends

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
        await self.pool.close()
        await asyncio.to_thread(self.embedded.close)


def make_worker(
    service: CaseService, redis: ArqRedis, settings: Settings, *, burst: bool = False
) -> Worker:
    return Worker(
        functions=jobs.functions(
            timeout_s=settings.job_timeout_s, max_tries=settings.job_max_tries
        ),
        redis_pool=redis,
        queue_name=QUEUE_NAME,
        ctx={"service": service, "max_tries": settings.job_max_tries},
        handle_signals=False,
        job_completion_wait=settings.shutdown_grace_s,
        max_tries=settings.job_max_tries,
        job_timeout=settings.job_timeout_s,
        keep_result=3600,
        poll_delay=0.1,
        burst=burst,
    )


async def run_worker(worker: Worker, pause_s: float = 1.0) -> None:
    """arq's poll loop ends at the first Redis error it meets (after the client's retries):
    start it again, so a Redis restart does not leave the process without its worker. Jobs
    running meanwhile keep going; arq re-runs any whose end it could not record."""
    while True:
        try:
            await worker.async_run()
            return
        except UNREACHABLE as exc:
            if not worker.allow_pick_jobs:  # shutting down: nothing left to poll for
                return
            log.warning("worker lost Redis (%s); polling again in %.0f s", exc, pause_s)
            await asyncio.sleep(pause_s)
            if not worker.allow_pick_jobs:
                return


class SlackProcess:
    """One process running some roles against Slack; `run()` returns after a clean stop."""

    def __init__(self, settings: Settings, role: Role) -> None:
        self.settings = settings
        self.role = role
        self.stopping = asyncio.Event()
        self.handler: AsyncSocketModeHandler | None = None
        self.http: SlackHttpServer | None = None
        self.worker: Worker | None = None
        self.schedule: Schedule | None = None  # worker roles: reminders, digest, retention
        # What /readyz checks: storage always, the socket for bot roles, the worker's loop
        # for worker roles; each reads "starting" until the part exists.
        names = ["postgres", "redis"]
        names += ["slack"] if role in ("all", "bot") else []
        names += ["worker"] if role in ("all", "worker") else []
        self.readiness = health.Readiness(names)
        # Alertmanager's webhook shares the operations port; it answers 503 until the queue is up.
        self.alerts = AlertReceiver(settings)
        self.ops = OpsServer(self.readiness, routes=self.alerts.route_defs())

    def request_stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        check_slack_settings(self.settings, self.role)
        # The operations endpoints come up first: liveness answers while storage starts.
        if self.settings.http_port:
            await self.ops.start(self.settings.http_port)
        try:
            await self._run()
        finally:
            await self.ops.stop()

    async def _run(self) -> None:
        settings = self.settings
        assert settings.slack_bot_token is not None
        bot_token = settings.slack_bot_token.get_secret_value()
        client = web_client(bot_token, settings.slack_api_url)
        files = SlackFileSource(client, bot_token)
        backends = await Backends.start(settings)
        assert backends.redis is not None
        redis = backends.redis
        self.readiness.provide("postgres", readiness_check(backends.pool))
        self.readiness.provide("redis", health.redis(redis))
        self.ops.queue_depth = lambda: redis.zcard(QUEUE_NAME)
        self.alerts.queue = JobQueue(redis)
        service = CaseService(
            backends.pool,
            settings,
            replier=SlackReplier(client),
            files=files,
            user_ref=user_ref,
            history=SlackThreadHistory(client),
            runs=CaseRuns(backends.redis, lock_ttl_s=settings.run_lock_ttl_s),
            look_again=JobQueue(backends.redis).drain_later,
            directory=SlackDirectory(client),
        )
        worker_task: asyncio.Task[None] | None = None
        knowledge_task: asyncio.Task[None] | None = None
        try:
            if self.role in ("all", "worker"):
                await service.llm.warm_up()
                # The starter runbooks load in the background: the worker takes jobs at
                # once, and a search before they are in finds what is there.
                knowledge_task = asyncio.create_task(_prepare_knowledge(service))
                self.worker = make_worker(service, backends.redis, settings)
                worker_task = asyncio.create_task(run_worker(self.worker))
                self.readiness.provide("worker", health.task_running(worker_task, "worker"))
                self.schedule = Schedule(backends.pool, JobQueue(backends.redis), settings)
                self.schedule.start()
            if self.role in ("all", "bot"):
                await self._take_events(BotDeps(service, JobQueue(backends.redis)), client)
            await self.stopping.wait()
        finally:
            if knowledge_task is not None:
                knowledge_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await knowledge_task
            await self._shutdown(worker_task)
            self.alerts.queue = None  # alerts from here on get 503: Alertmanager retries them
            await files.close()
            await backends.close()

    async def _take_events(self, deps: BotDeps, client: AsyncWebClient) -> None:
        """Start receiving Slack's events, clicks and commands: over the socket, or (HTTP
        mode) as signed requests to /slack/events."""
        settings = self.settings
        if settings.slack_mode == "http":
            assert settings.slack_signing_secret is not None
            secret = settings.slack_signing_secret.get_secret_value()
            self.http = SlackHttpServer(build_app(deps, client, signing_secret=secret), client)
            self.readiness.provide("slack", self.http.readiness())
            await self.http.start(settings.slack_http_port)
            log.info("taking Slack requests (HTTP mode), role=%s", self.role)
            return
        assert settings.slack_app_token is not None
        self.handler = MeteredSocketModeHandler(
            build_app(deps, client),
            settings.slack_app_token.get_secret_value(),
            web_client=web_client(None, settings.slack_api_url),
            ping_interval=settings.slack_ping_interval_s,
        )
        self.readiness.provide("slack", slack_socket(self.handler.client))
        await self.handler.connect_async()
        log.info("connected to Slack (socket mode), role=%s", self.role)

    async def _shutdown(self, worker_task: asyncio.Task[None] | None) -> None:
        if self.handler is not None:
            await self.handler.close_async()  # no new events from here on
        if self.http is not None:
            await self.http.stop()  # the load balancer sends new requests elsewhere
        if self.schedule is not None:
            await self.schedule.stop()  # it only enqueues: nothing to hand over
        if self.worker is not None and worker_task is not None:
            # Stop picking jobs, give running ones the grace period, then cancel the rest:
            # arq puts cancelled jobs back on the queue for another worker.
            self.worker.handle_sig_wait_for_completion(signal.SIGTERM)
            with contextlib.suppress(asyncio.CancelledError):
                await worker_task
            await self.worker.close()


async def _prepare_knowledge(service: CaseService) -> None:
    """Starter runbooks and re-embedding; a failure costs knowledge, never the worker."""
    try:
        await service.prepare_knowledge()
    except Exception:
        log.exception("knowledge not prepared (starter runbooks, re-embedding)")


async def run_process(settings: Settings, role: Role) -> None:
    process = SlackProcess(settings, role)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, process.request_stop)
    await process.run()
