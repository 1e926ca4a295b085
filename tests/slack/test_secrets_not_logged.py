"""Secrets never reach the logs: a `faultmaven run` process (role=all) against the fake Slack,
with its tokens, an LLM gateway key and an evidence key set, logging everything at DEBUG in
both formats, through a case with an upload holding a password and an AWS key, a pasted
password, and LLM turns."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import os
from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr

from bot.runtime import SlackProcess
from engine.core.config import Settings
from engine.ops import log_setup
from tests.fakes.llm_turns import FILLER
from tests.fakes.openai import FakeOpenAI
from tests.fakes.slack import FakeSlack
from tests.samples import checkout_log
from tests.slack.test_bot import CHANNEL, text_of

pytestmark = pytest.mark.slack

# An LLM gateway key of no known shape: only masking the configured value can hide it.
LLM_KEY = "fm-gateway-7Qz9vX2kLm4PwR8t"
EVIDENCE_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()
FILE_PASSWORD = "Tr0ub4dor-and-3"
AWS_KEY = "AKIAZ7Q4EXAMPLE3X9KM"
PASTED_PASSWORD = "CorrectHorse-88"
SECRET_LOG = (
    checkout_log()
    + f"2026-11-21 14:03:20 ERROR db login failed password={FILE_PASSWORD}\n".encode()
    + f"2026-11-21 14:03:21 WARN using aws key {AWS_KEY} for s3 upload\n".encode()
)


@pytest.fixture
def captured() -> Iterator[dict[str, io.StringIO]]:
    """Every log record at DEBUG, written by the product's own text and JSON formatters."""
    streams = {"text": io.StringIO(), "json": io.StringIO()}
    handlers = [logging.StreamHandler(streams["text"]), logging.StreamHandler(streams["json"])]
    handlers[0].setFormatter(log_setup.TextFormatter(log_setup.TEXT_FORMAT))
    handlers[1].setFormatter(log_setup.JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    for handler in handlers:
        root.addHandler(handler)
    yield streams
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
async def openai() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(default_reply=FILLER) as fake:
        yield fake


async def test_no_secret_in_any_log_line(
    slack: FakeSlack,
    bot_settings: Settings,
    openai: FakeOpenAI,
    captured: dict[str, io.StringIO],
) -> None:
    # Built the way `faultmaven run` builds its settings (validated, not copied), so the
    # process knows its secrets before it logs.
    settings = Settings.model_validate(
        {
            **bot_settings.model_dump(),
            "llm_model": "openai/fake-model",
            "llm_api_base": openai.base_url,
            "llm_api_key": SecretStr(LLM_KEY),
            "evidence_key": SecretStr(EVIDENCE_KEY),
            "log_level": "DEBUG",
        }
    )
    process = SlackProcess(settings, "all")
    task = asyncio.create_task(process.run())
    try:
        await slack.wait_for_connections(n=1, timeout=30)
        opened = slack.mention_event("checkout 502s since 14:00", channel=CHANNEL)
        await slack.send_event(opened)
        thread = str(opened["ts"])
        await slack.wait_for_call(
            "chat.postMessage", lambda c: c.params.get("thread_ts") == thread, timeout=30
        )
        pasted = f"fwiw the db creds are password={PASTED_PASSWORD}"
        await slack.send_event(slack.message_event(pasted, channel=CHANNEL, thread_ts=thread))
        file = slack.add_file("checkout.log", SECRET_LOG, channel=CHANNEL, thread_ts=thread)
        await slack.send_event(slack.file_share_event([file], channel=CHANNEL, thread_ts=thread))
        summary = await slack.wait_for_call(
            "chat.postMessage",
            lambda c: c.params.get("thread_ts") == thread and "checkout.log: " in text_of(c.params),
            timeout=30,
        )
        await slack.send_event(
            slack.mention_event("what broke?", channel=CHANNEL, thread_ts=thread)
        )
        await openai.wait_for_request(lambda r: "what broke?" in json.dumps(r.messages), timeout=30)
        # The answer replaces its "Looking into it…" note.
        await slack.wait_for_call(
            "chat.update",
            lambda c: "Noted" in c.params.get("text", ""),
            timeout=30,
            since=summary.at,
        )
    finally:
        process.request_stop()
        await asyncio.wait_for(task, 30)

    # The secrets were live in this run: the key went to the LLM, the file was read.
    assert openai.requests[-1].headers.get("Authorization") == f"Bearer {LLM_KEY}"
    assert any(d.authorized for d in slack.downloads)

    secrets = {
        "Slack bot token": slack.bot_token,
        "Slack app token": slack.app_token,
        "LLM key": LLM_KEY,
        "evidence key": EVIDENCE_KEY,
        "password in the upload": FILE_PASSWORD,
        "AWS key in the upload": AWS_KEY,
        "password pasted in the thread": PASTED_PASSWORD,
    }
    for fmt, stream in captured.items():
        written = stream.getvalue()
        # A real, chatty DEBUG log was captured (Slack requests, socket envelopes, LLM calls)...
        assert written.count("\n") > 100, f"{fmt}: too little was logged to judge"
        assert "chat.postMessage" in written and "Received the following response" in written
        # The pasted password and the upload's reach DEBUG lines (event payloads, posted
        # summaries) only as the redactor's placeholders.
        assert "[password:" in written
        # ...and no secret is in it, in either format.
        leaked = [what for what, value in secrets.items() if value in written]
        assert leaked == [], f"{fmt} logs show: {leaked}"
    for line in captured["json"].getvalue().splitlines():
        json.loads(line)
