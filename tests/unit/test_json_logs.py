"""JSON log lines: fixed fields, context from contextvars, no secrets, no locals or extras."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from engine.core import scrub
from engine.core.config import Settings
from engine.ops import log_setup

BOT_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
APP_TOKEN = "xapp-1-A0123456789-1234567890123-abcdef0123456789"


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(log_setup.JsonFormatter())
    logger = logging.getLogger("faultmaven.test.json")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_object_per_line_with_the_fixed_fields(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = capture
    logger.info("case %s opened\nin #incidents", 7)
    logger.warning("second")
    first, second = lines(stream)
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "INFO"
    assert first["logger"] == "faultmaven.test.json"
    assert first["message"] == "case 7 opened\nin #incidents"
    assert str(first["time"]).endswith("+00:00")
    assert second["level"] == "WARNING"


def test_context_fields_come_from_contextvars(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = capture

    async def job() -> None:
        log_setup.bind(job="answer_mention", event_id="Ev123")
        logger.info("started")
        log_setup.bind(case_id=42)
        logger.info("turn")

    async def main() -> None:
        await asyncio.create_task(job())
        logger.info("outside the job")  # the job's task had its own context

    asyncio.run(main())
    started, turn, outside = lines(stream)
    assert started["job"] == "answer_mention" and started["event_id"] == "Ev123"
    assert "case_id" not in started
    assert turn["case_id"] == 42
    assert not {"job", "event_id", "case_id"} & set(outside)


def test_bound_is_undone_on_exit(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    with log_setup.bound(case_id=3):
        logger.info("inside")
    logger.info("after")
    inside, after = lines(stream)
    assert inside["case_id"] == 3
    assert "case_id" not in after


def test_no_secret_in_output(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token=SecretStr(BOT_TOKEN),
        llm_api_key=SecretStr("sk-proj-abcdefghijklmnopqrstuvwxyz012345"),
    )
    logger.info("token %s key %r", settings.slack_bot_token, settings.llm_api_key)
    logger.info("settings: %s", settings)
    # A raw token that slipped into a message or an error is masked too.
    logger.info("connecting with %s", APP_TOKEN)
    try:
        raise RuntimeError(f"auth failed, Authorization: Bearer {BOT_TOKEN}")
    except RuntimeError:
        logger.exception("request failed")
    out = stream.getvalue()
    for secret in (BOT_TOKEN, APP_TOKEN, "sk-proj-abcdefghijklmnopqrstuvwxyz012345", "AbCdEf"):
        assert secret not in out
    records = lines(stream)
    assert "**********" in str(records[0]["message"])
    assert records[2]["message"] == f"connecting with {scrub.MASK}"
    assert "RuntimeError" in str(records[3]["exception"])


def test_exception_locals_and_extras_stay_out(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = capture

    def handler(body: dict[str, str]) -> None:
        password = body["password"]  # a local the traceback must not show
        raise ValueError(f"bad request ({len(password)} characters)")

    local, extra = "hunter2-local", "hunter2-extra"  # tracebacks quote source lines, not values
    try:
        handler({"password": local})
    except ValueError:
        logger.exception("listener failed", extra={"body": {"password": extra}})
    (record,) = lines(stream)
    assert set(record) == {"time", "level", "logger", "message", "exception"}
    assert "ValueError: bad request (13 characters)" in str(record["exception"])
    assert local not in stream.getvalue() and extra not in stream.getvalue()


def test_text_format_names_the_context_and_masks() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "using %s", (BOT_TOKEN,), None)
    with log_setup.bound(case_id=9, job="drain_case"):
        line = log_setup.TextFormatter("%(levelname)s %(message)s").format(record)
    assert line == f"INFO using {scrub.MASK} [case_id=9 job=drain_case]"


def test_configure_logging_picks_the_format(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    level = root.level
    monkeypatch.setattr(root, "handlers", [])
    try:
        log_setup.configure_logging("info", "json")
        assert isinstance(root.handlers[0].formatter, log_setup.JsonFormatter)
        monkeypatch.setattr(root, "handlers", [])
        log_setup.configure_logging("info", "text")
        assert isinstance(root.handlers[0].formatter, log_setup.TextFormatter)
    finally:
        root.setLevel(level)  # setLevel clears the loggers' cached levels too
