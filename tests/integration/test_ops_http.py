"""The operations endpoints against real Postgres and Redis: health, readiness, and metrics that
move when the engine works (turns, evidence, jobs, LLM calls).

Metrics live in one registry per process, shared by every test in this run, so each test reads
a metric before and after what it does and checks the difference.
"""

from __future__ import annotations

import io
import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from arq import Retry
from arq.connections import ArqRedis
from prometheus_client.parser import text_string_to_metric_families
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from bot.runtime import QUEUE_NAME, make_worker
from bot.serving.ops_http import OpsServer
from engine.cases.service import CaseService
from engine.core.config import Settings
from engine.core.errors import ConfigurationError
from engine.core.models import FileRef, FilesRequest, MentionRequest, ThreadRef
from engine.investigate.llm import LLM, LLMUnavailable
from engine.investigate.result import LLMTurn
from engine.ops import health, log_setup
from engine.store.db import readiness_check
from engine.worker import jobs
from engine.worker.jobs import JobKind
from engine.worker.queue import JobQueue
from tests.fakes.memory import MemoryFiles, MemoryReplier
from tests.fakes.openai import FakeOpenAI, Reply, Status
from tests.samples import checkout_log

pytestmark = pytest.mark.integration

THREAD = ThreadRef(team_id="T1", channel_id="C1", thread_ts="1700000000.000001")


class Ops:
    def __init__(self, server: OpsServer, readiness: health.Readiness, base: str) -> None:
        self.server = server
        self.readiness = readiness
        self.base = base
        self.session = aiohttp.ClientSession()

    async def get(self, path: str) -> tuple[int, str, str]:
        async with self.session.get(self.base + path) as response:
            return response.status, response.headers["Content-Type"], await response.text()

    async def metric(self, name: str, **labels: str) -> float:
        """The sum of `name`'s samples whose labels include `labels`."""
        _, _, text = await self.get("/metrics")
        return sample_sum(text, name, **labels)


def sample_sum(text: str, name: str, **labels: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


@pytest.fixture
async def ops(pool: AsyncConnectionPool, redis: ArqRedis) -> AsyncIterator[Ops]:
    readiness = health.Readiness(["postgres", "redis"])
    readiness.provide("postgres", readiness_check(pool))
    readiness.provide("redis", health.redis(redis))
    server = OpsServer(readiness, queue_depth=lambda: redis.zcard(QUEUE_NAME))
    port = await server.start(0, "127.0.0.1")
    client = Ops(server, readiness, f"http://127.0.0.1:{port}")
    yield client
    await client.session.close()
    await server.stop()


@pytest.fixture
def files() -> MemoryFiles:
    return MemoryFiles()


@pytest.fixture
def service(pool: AsyncConnectionPool, settings: Settings, files: MemoryFiles) -> CaseService:
    return CaseService(pool, settings, replier=MemoryReplier(), files=files)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_healthz_answers(ops: Ops) -> None:
    status, content_type, body = await ops.get("/healthz")
    assert status == 200 and content_type.startswith("application/json")
    assert json.loads(body) == {"status": "ok"}


async def test_readyz_checks_postgres_and_redis_and_names_what_is_down(ops: Ops) -> None:
    status, _, body = await ops.get("/readyz")
    assert status == 200, body
    assert json.loads(body) == {
        "status": "ready",
        "checks": {"postgres": "ok", "redis": "ok"},
        "down": [],
    }

    # The shared Redis stays up: point the check at a port where nothing listens instead.
    unreachable = Redis(host="127.0.0.1", port=closed_port(), socket_connect_timeout=1)
    ops.readiness.provide("redis", health.redis(unreachable))
    try:
        status, _, body = await ops.get("/readyz")
    finally:
        await unreachable.aclose()
    report = json.loads(body)
    assert status == 503
    assert report["status"] == "not ready" and report["down"] == ["redis"]
    assert report["checks"]["postgres"] == "ok"
    assert "onnect" in report["checks"]["redis"]  # ConnectionError: ... connecting to ...


async def test_a_check_not_provided_yet_reads_starting() -> None:
    readiness = health.Readiness(["postgres", "slack"])

    async def fine() -> None:
        return None

    readiness.provide("postgres", fine)
    assert await readiness.run() == {"postgres": "ok", "slack": "starting"}


async def test_metrics_are_prometheus_text(ops: Ops) -> None:
    status, content_type, text = await ops.get("/metrics")
    assert status == 200
    assert content_type.startswith("text/plain") and "version=0.0.4" in content_type
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {
        "faultmaven_events_received",
        "faultmaven_events_acked",
        "faultmaven_ack_latency_seconds",
        "faultmaven_jobs_queued",
        "faultmaven_jobs_started",
        "faultmaven_jobs_running",
        "faultmaven_jobs_completed",
        "faultmaven_jobs_retried",
        "faultmaven_jobs_failed",
        "faultmaven_job_duration_seconds",
        "faultmaven_llm_calls",
        "faultmaven_llm_errors",
        "faultmaven_llm_tokens",
        "faultmaven_evidence_bytes",
        "faultmaven_evidence_files",
        "faultmaven_investigation_turns",
        "process_resident_memory_bytes",
    } <= names


async def test_an_offline_answer_counts_a_turn(ops: Ops, service: CaseService) -> None:
    before = await ops.metric("faultmaven_investigation_turns_total", engine="offline")
    mention = MentionRequest(thread=THREAD, ts="1700000000.000001", user="U1", text="502s?")
    await service.answer_mention(mention, key="Ev1")
    after = await ops.metric("faultmaven_investigation_turns_total", engine="offline")
    assert after == before + 1


async def test_an_upload_counts_evidence_bytes(
    ops: Ops, service: CaseService, files: MemoryFiles
) -> None:
    await service.answer_mention(
        MentionRequest(thread=THREAD, ts="1700000000.000001", user="U1", text="502s"), key="Ev1"
    )
    bytes_before = await ops.metric("faultmaven_evidence_bytes_total")
    files_before = await ops.metric("faultmaven_evidence_files_total")
    log = checkout_log()
    ref = files.add("F1", "checkout.log", log)
    await service.add_files(
        FilesRequest(thread=THREAD, ts="1700000002.0", user="U1", files=[ref]), key="Ev2"
    )
    assert await ops.metric("faultmaven_evidence_bytes_total") == bytes_before + len(log)
    assert await ops.metric("faultmaven_evidence_files_total") == files_before + 1


async def test_jobs_queued_then_run(
    ops: Ops, service: CaseService, redis: ArqRedis, settings: Settings
) -> None:
    job = {"job": "answer_mention"}
    started = await ops.metric("faultmaven_jobs_started_total", **job)
    completed = await ops.metric("faultmaven_jobs_completed_total", **job)
    runs = await ops.metric("faultmaven_job_duration_seconds_count", **job)
    mention = MentionRequest(thread=THREAD, ts="1700000000.000001", user="U1", text="502s?")
    assert await JobQueue(redis).submit(JobKind.ANSWER_MENTION, mention, dedup_key="EvQ1")
    assert await ops.metric("faultmaven_jobs_queued") == 1

    worker = make_worker(service, redis, settings, burst=True)
    try:
        await worker.async_run()
    finally:
        await worker.close()

    assert await ops.metric("faultmaven_jobs_queued") == 0
    assert await ops.metric("faultmaven_jobs_started_total", **job) == started + 1
    assert await ops.metric("faultmaven_jobs_completed_total", **job) == completed + 1
    assert await ops.metric("faultmaven_job_duration_seconds_count", **job) == runs + 1
    assert await ops.metric("faultmaven_jobs_running", **job) == 0


class BrokenFiles:
    async def fetch(self, file: FileRef, max_bytes: int) -> bytes:
        raise RuntimeError("storage backend exploded")


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(log_setup.JsonFormatter())
    logger = logging.getLogger("engine.worker.jobs")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


async def test_a_failing_job_counts_a_retry_then_a_failure_and_logs_its_context(
    ops: Ops, pool: AsyncConnectionPool, settings: Settings, json_log: io.StringIO
) -> None:
    service = CaseService(pool, settings, replier=MemoryReplier(), files=BrokenFiles())
    [run] = [
        f.coroutine
        for f in jobs.functions(timeout_s=20, max_tries=2)
        if f.name == JobKind.ADD_FILES
    ]
    request = FilesRequest(
        thread=THREAD, ts="1.0", user="U1", files=[FileRef(source_id="F1", name="app.log")]
    )
    await service.answer_mention(
        MentionRequest(thread=THREAD, ts="1700000000.000001", user="U1", text="502s"), key="Ev1"
    )
    job = {"job": "add_files"}
    retried = await ops.metric("faultmaven_jobs_retried_total", **job)
    failed = await ops.metric("faultmaven_jobs_failed_total", **job)

    with pytest.raises(Retry):
        await run({"service": service, "job_try": 1, "max_tries": 2}, "EvF1", request.model_dump())
    with pytest.raises(RuntimeError):
        await run({"service": service, "job_try": 2, "max_tries": 2}, "EvF1", request.model_dump())

    assert await ops.metric("faultmaven_jobs_retried_total", **job) == retried + 1
    assert await ops.metric("faultmaven_jobs_failed_total", **job) == failed + 1
    assert await ops.metric("faultmaven_jobs_running", **job) == 0
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert [(line["level"], line["job"], line["event_id"]) for line in lines] == [
        ("WARNING", "add_files", "EvF1"),
        ("ERROR", "add_files", "EvF1"),
    ]
    assert "storage backend exploded" in lines[1]["exception"]


async def test_llm_calls_tokens_and_errors_by_model(ops: Ops) -> None:
    async with FakeOpenAI() as openai:
        openai.script(Status(500), model="primary")
        openai.script(Reply("pool exhausted", prompt_tokens=120, completion_tokens=8), model="b")
        llm = LLM(
            ["openai/primary", "openai/b"], api_base=openai.base_url, api_key="sk-fake", retries=0
        )
        primary, backup = {"model": "openai/primary"}, {"model": "openai/b"}
        calls = await ops.metric("faultmaven_llm_calls_total", **primary)
        errors = await ops.metric("faultmaven_llm_errors_total", **primary, reason="provider")
        prompt = await ops.metric("faultmaven_llm_tokens_total", **backup, kind="prompt")
        completion = await ops.metric("faultmaven_llm_tokens_total", **backup, kind="completion")

        result = await llm.complete([{"role": "user", "content": "what broke?"}])

        assert result.model == "openai/b"
        assert await ops.metric("faultmaven_llm_calls_total", **primary) == calls + 1
        assert (
            await ops.metric("faultmaven_llm_errors_total", **primary, reason="provider")
            == errors + 1
        )
        assert (
            await ops.metric("faultmaven_llm_tokens_total", **backup, kind="prompt") == prompt + 120
        )
        assert (
            await ops.metric("faultmaven_llm_tokens_total", **backup, kind="completion")
            == completion + 8
        )

        # Structured calls: an unusable reply after the repair turn is an invalid_output error.
        openai.script(Reply("not json"), Reply("still not json"), model="primary")
        invalid = await ops.metric(
            "faultmaven_llm_errors_total", **primary, reason="invalid_output"
        )
        with pytest.raises(LLMUnavailable):
            await LLM(
                ["openai/primary"], api_base=openai.base_url, api_key="sk-fake", retries=0
            ).complete_structured([{"role": "user", "content": "what broke?"}], LLMTurn)
        assert (
            await ops.metric("faultmaven_llm_errors_total", **primary, reason="invalid_output")
            == invalid + 1
        )
        assert await ops.metric("faultmaven_llm_calls_total", **primary) == calls + 3


async def test_a_port_in_use_is_a_clear_configuration_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        server = OpsServer(health.Readiness([]))
        with pytest.raises(ConfigurationError, match="FAULTMAVEN_HTTP_PORT"):
            await server.start(port, "127.0.0.1")
