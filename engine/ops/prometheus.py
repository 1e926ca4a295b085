"""Prometheus metrics of this process, served on /metrics by bot/serving/ops_http.py.

One registry per process (not prometheus_client's global one, so libraries cannot add to it
unasked): every bot or worker process is scraped on its own port and Prometheus sums them.
Labels take only bounded values (event types, job names, model names, engines, phases), never
case or user ids.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    exposition,
    gc_collector,
    platform_collector,
    process_collector,
)

# The `_created` series double the output and no dashboard of ours reads them.
disable_created_metrics()

REGISTRY = CollectorRegistry()
process_collector.ProcessCollector(registry=REGISTRY)
platform_collector.PlatformCollector(registry=REGISTRY)
gc_collector.GCCollector(registry=REGISTRY)

# Chat events (Slack envelopes in socket mode). `kind` is the envelope type (events_api,
# slash_commands, interactive), `type` the event or payload type (app_mention, block_actions).
EVENTS_RECEIVED = Counter(
    "faultmaven_events_received",
    "Chat events received from the platform.",
    ["kind", "type"],
    registry=REGISTRY,
)
EVENTS_ACKED = Counter(
    "faultmaven_events_acked",
    "Chat events acknowledged (Slack redelivers events not acked within 3 s).",
    ["kind", "type"],
    registry=REGISTRY,
)
ACK_LATENCY = Histogram(
    "faultmaven_ack_latency_seconds",
    "From an event's envelope reaching the app to its ack being sent.",
    ["kind"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
    registry=REGISTRY,
)

# Jobs (arq). Queued is read from Redis when scraped: it counts every process's jobs.
JOBS_QUEUED = Gauge(
    "faultmaven_jobs_queued",
    "Jobs waiting in the queue (deferred ones included), across all processes.",
    registry=REGISTRY,
)
JOBS_STARTED = Counter(
    "faultmaven_jobs_started", "Job runs started (each try counts).", ["job"], registry=REGISTRY
)
JOBS_RUNNING = Gauge(
    "faultmaven_jobs_running", "Jobs running in this process.", ["job"], registry=REGISTRY
)
JOBS_COMPLETED = Counter(
    "faultmaven_jobs_completed",
    "Job runs that finished (a user-facing error such as a refused file included).",
    ["job"],
    registry=REGISTRY,
)
JOBS_RETRIED = Counter(
    "faultmaven_jobs_retried",
    "Job runs that failed and were put back for another try.",
    ["job"],
    registry=REGISTRY,
)
JOBS_FAILED = Counter(
    "faultmaven_jobs_failed",
    "Jobs that failed for good (last try, or an error that is not retried).",
    ["job"],
    registry=REGISTRY,
)
JOBS_INTERRUPTED = Counter(
    "faultmaven_jobs_interrupted",
    "Job runs cancelled: by their timeout (arq then fails the job) or by a shutdown (the "
    "queue runs it again).",
    ["job"],
    registry=REGISTRY,
)
JOB_DURATION = Histogram(
    "faultmaven_job_duration_seconds",
    "How long job runs took, whatever their outcome.",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0),
    registry=REGISTRY,
)

# LLM (engine/investigate/llm.py): one call per completion requested, repairs included.
LLM_CALLS = Counter(
    "faultmaven_llm_calls", "LLM completions requested.", ["model"], registry=REGISTRY
)
LLM_ERRORS = Counter(
    "faultmaven_llm_errors",
    "LLM attempts that failed: `reason` is provider (an error or timeout from the provider) "
    "or invalid_output (no usable reply after the repair turn).",
    ["model", "reason"],
    registry=REGISTRY,
)
LLM_TOKENS = Counter(
    "faultmaven_llm_tokens",
    "Tokens the provider reported, by `kind` prompt or completion.",
    ["model", "kind"],
    registry=REGISTRY,
)

# Evidence and investigations.
EVIDENCE_BYTES = Counter(
    "faultmaven_evidence_bytes",
    "Bytes of uploaded evidence downloaded and analysed (archives as uploaded).",
    registry=REGISTRY,
)
EVIDENCE_FILES = Counter(
    "faultmaven_evidence_files", "Uploaded evidence files processed.", registry=REGISTRY
)
TURNS = Counter(
    "faultmaven_investigation_turns",
    "Investigation turns saved, by the engine that answered (llm, offline) and the phase.",
    ["engine", "phase"],
    registry=REGISTRY,
)


def llm_call(model: str) -> None:
    LLM_CALLS.labels(model).inc()


def llm_tokens(model: str, prompt: int, completion: int) -> None:
    LLM_TOKENS.labels(model, "prompt").inc(prompt)
    LLM_TOKENS.labels(model, "completion").inc(completion)


def llm_error(model: str, reason: str = "provider") -> None:
    LLM_ERRORS.labels(model, reason).inc()


def evidence_processed(size_bytes: int) -> None:
    EVIDENCE_FILES.inc()
    EVIDENCE_BYTES.inc(size_bytes)


def turn_saved(engine: str, phase: str) -> None:
    TURNS.labels(engine, phase).inc()


def render(accept: str = "") -> tuple[bytes, str]:
    """(body, content type) of this process's metrics in the format the `Accept` header asks
    for: Prometheus text 0.0.4 unless a scraper asks for a newer one or OpenMetrics."""
    encoder, content_type = exposition.choose_encoder(accept)
    return encoder(REGISTRY), content_type
