"""Logging set-up: text for people, JSON lines for log pipelines (FAULTMAVEN_LOG_FORMAT=json).

What a log line is about comes from context variables: the Bolt middleware binds the event id,
a job binds its name and key, an investigation turn binds its case id. asyncio copies the
context into every task it starts, so a value bound in a job or a listener reaches every line
logged below it and never leaks into other jobs or events.

A JSON line holds a fixed set of fields: the record's extras and an exception's local variables
are never written (a request body passed as an extra stays out). Secrets that end up in a
message or a traceback are masked in both formats: the exact values of the configured tokens,
keys and passwords (`mask_values`, fed by every Settings), credentials with a recognisable shape
(Slack tokens, bearer values, API keys), and what the evidence redactor masks (passwords, AWS
keys, private keys, ...), so a pasted or uploaded secret quoted by a debug line stays out too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

from engine.core.scrub import scrub

case_id_var: ContextVar[int | None] = ContextVar("faultmaven_case_id", default=None)
event_id_var: ContextVar[str | None] = ContextVar("faultmaven_event_id", default=None)
job_var: ContextVar[str | None] = ContextVar("faultmaven_job", default=None)

_VARS: dict[str, ContextVar[Any]] = {
    "case_id": case_id_var,
    "event_id": event_id_var,
    "job": job_var,
}


def bind(
    *, case_id: int | None = None, event_id: str | None = None, job: str | None = None
) -> None:
    """Set the given fields for the rest of the current task (and tasks it starts)."""
    if case_id is not None:
        case_id_var.set(case_id)
    if event_id is not None:
        event_id_var.set(event_id)
    if job is not None:
        job_var.set(job)


@contextlib.contextmanager
def bound(
    *, case_id: int | None = None, event_id: str | None = None, job: str | None = None
) -> Iterator[None]:
    """Like `bind`, undone on exit (for code that runs several items in one task)."""
    given = {"case_id": case_id, "event_id": event_id, "job": job}
    tokens: list[tuple[ContextVar[Any], Token[Any]]] = [
        (_VARS[name], _VARS[name].set(value)) for name, value in given.items() if value is not None
    ]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def context_fields() -> dict[str, Any]:
    """The bound fields, without the unset ones."""
    return {name: value for name, var in _VARS.items() if (value := var.get()) is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the bound context fields, and
    `exception` (the formatted traceback, as text logs show it) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            **context_fields(),
        }
        if record.exc_info:
            # formatException is traceback.print_exception: frames and source lines, no locals.
            entry["exception"] = scrub(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = scrub(record.exc_text)
        if record.stack_info:
            entry["stack"] = scrub(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The usual text line, with the bound context fields appended and secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = context_fields()
        if fields:
            first, sep, rest = line.partition("\n")
            extra = " ".join(f"{k}={v}" for k, v in fields.items())
            line = f"{first} [{extra}]{sep}{rest}"
        return scrub(line)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str, log_format: str = "text") -> None:
    """Log to stderr at `level`, as JSON lines when `log_format` is "json"."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(TEXT_FORMAT))
    # Like basicConfig always was here: a no-op where handlers exist already (pytest's).
    logging.basicConfig(level=level.upper(), handlers=[handler])
