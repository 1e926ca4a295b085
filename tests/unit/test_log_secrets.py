"""Configured secrets of any shape, and secrets a person pasted or uploaded, are masked in log
lines of both formats (the whole-process check is tests/slack/test_secrets_not_logged.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from engine.core import scrub
from engine.core.config import Settings
from engine.ops import log_setup

GATEWAY_KEY = "gw-4fT9qLx2Vn7Rb1Ks"  # no known key shape: only the configured value tells
EVIDENCE_KEY = "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c="
DB_PASSWORD = "s3cr3t-db-pw"


@pytest.fixture
def streams() -> Iterator[tuple[logging.Logger, dict[str, io.StringIO]]]:
    out = {"text": io.StringIO(), "json": io.StringIO()}
    logger = logging.getLogger("faultmaven.test.secrets")
    handlers = [logging.StreamHandler(out["text"]), logging.StreamHandler(out["json"])]
    handlers[0].setFormatter(log_setup.TextFormatter(log_setup.TEXT_FORMAT))
    handlers[1].setFormatter(log_setup.JsonFormatter())
    for handler in handlers:
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, out
    for handler in handlers:
        logger.removeHandler(handler)


def test_configured_secrets_are_masked_in_messages_and_tracebacks(
    streams: tuple[logging.Logger, dict[str, io.StringIO]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_LLM_API_KEY", "acme-provider-key-0042")
    Settings(
        _env_file=None,  # type: ignore[call-arg]
        llm_api_key=SecretStr(GATEWAY_KEY),
        evidence_key=SecretStr(EVIDENCE_KEY),
        database_url=f"postgresql://fm:{DB_PASSWORD}@db:5432/faultmaven",
    )
    logger, out = streams
    logger.debug("calling the gateway with key %s", GATEWAY_KEY)
    logger.info("provider key from the environment: acme-provider-key-0042")
    try:
        raise RuntimeError(f"cannot open sealed row with {EVIDENCE_KEY} at pw {DB_PASSWORD}")
    except RuntimeError:
        logger.exception("evidence failed")
    for fmt, stream in out.items():
        written = stream.getvalue()
        for value in (GATEWAY_KEY, EVIDENCE_KEY, DB_PASSWORD, "acme-provider-key-0042"):
            assert value not in written, f"{fmt}: {value} shown"
        assert written.count(scrub.MASK) == 4, written
    first = json.loads(out["json"].getvalue().splitlines()[0])
    assert first["message"] == f"calling the gateway with key {scrub.MASK}"


def test_pasted_and_uploaded_secrets_are_masked(
    streams: tuple[logging.Logger, dict[str, io.StringIO]],
) -> None:
    logger, out = streams
    logger.debug("event: {'text': 'creds are password=Hunter2-xyz and AKIAIOSFODNN7EXAMPLE'}")
    for stream in out.values():
        written = stream.getvalue()
        assert "Hunter2-xyz" not in written and "AKIAIOSFODNN7EXAMPLE" not in written
        assert "password=[password:" in written and "[AWS key:" in written


def test_short_or_empty_values_are_not_masked(
    streams: tuple[logging.Logger, dict[str, io.StringIO]],
) -> None:
    scrub.mask_values(["", None, "abc"])  # would mask ordinary words
    logger, out = streams
    logger.info("abc is the first step")
    assert "abc is the first step" in out["text"].getvalue()


def test_paths_names_and_ids_in_log_lines_stay_readable(
    streams: tuple[logging.Logger, dict[str, io.StringIO]],
) -> None:
    """What FaultMaven logs about evidence (operations, clients, ids) is not a secret."""
    logger, out = streams
    line = (
        "slow span /api/v1/catalogservice/items/byCategoryIdsAndRegions of "
        "DFSClient_NONMAPREDUCE_1537864556_1 trace 4bf92f3577b34da6a3ce929d0e0e4736 "
        "request 123e4567-e89b-12d3-a456-426614174000 pod checkout-7d9f8b6c5d-x2k4q"
    )
    logger.info(line)
    logger.info("retrying with Authorization: Bearer AbCdEf0123456789xyz")
    for stream in out.values():
        written = stream.getvalue()
        assert line in written
        assert "AbCdEf0123456789xyz" not in written
