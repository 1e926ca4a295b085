"""Process faults a user must not notice: a worker killed mid-job, SIGTERM during a job.

These run `faultmaven run` as real child processes against the fake Slack and fake LLM.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from engine.core.config import Settings
from tests.fakes.openai import Delay, FakeOpenAI, Reply
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import StartBot

pytestmark = pytest.mark.slack

CHANNEL = "C0INCIDENT"


@pytest.fixture
async def openai() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def child_env(
    bot_settings: Settings, openai: FakeOpenAI, tmp_path: Path
) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        {
            "DATABASE_URL": str(bot_settings.database_url),
            "REDIS_URL": str(bot_settings.redis_url),
            "SLACK_BOT_TOKEN": bot_settings.slack_bot_token.get_secret_value(),  # type: ignore[union-attr]
            "SLACK_APP_TOKEN": bot_settings.slack_app_token.get_secret_value(),  # type: ignore[union-attr]
            "SLACK_API_URL": bot_settings.slack_api_url,
            "SLACK_PING_INTERVAL_S": "1",
            "FAULTMAVEN_DATA_DIR": str(tmp_path / "child-data"),
            "LLM_MODEL": "openai/fake-model",
            "LLM_API_BASE": openai.base_url,
            "LLM_API_KEY": "sk-fake",
            "LLM_RETRIES": "0",
            "FAULTMAVEN_JOB_TIMEOUT_S": "3",
            "FAULTMAVEN_SHUTDOWN_GRACE_S": "10",
            "FAULTMAVEN_STARTER_KNOWLEDGE": "false",  # no model to load in every child
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
    )
    yield env


def llm_answer(answer: str) -> str:
    """A structured LLM turn (the JSON object the engine asks for) answering `answer`."""
    return json.dumps(
        {
            "response_type": "answer",
            "answer": answer,
            "working_conclusion": "see the answer in the thread",
            "confidence": 0.6,
            "hypotheses": [],
            "next_steps": [],
            "commands": [],
        }
    )


async def final_reply(slack: FakeSlack, thread_ts: str, expected: str, timeout: float) -> str:
    """The one answer in a thread (text and blocks), once it replaced the placeholder; the
    case summary beside it is not an answer."""

    def shown() -> list[str]:
        texts = []
        for posted in slack.posted_messages(thread_ts=thread_ts):
            updates = [
                c
                for c in slack.calls_to("chat.update")
                if c.ok and c.params.get("ts") == posted["ts"]
            ]
            latest = updates[-1].params if updates else posted
            texts.append(latest["text"] + "\n" + json.dumps(latest.get("blocks") or []))
        return texts

    await slack.wait_for_call(
        "chat.update", lambda c: c.ok and expected in c.params.get("text", ""), timeout=timeout
    )
    [text] = [t for t in shown() if expected in t or "Looking into it" in t]
    return text


def fake_llm(openai: FakeOpenAI, **extra: object) -> dict[str, object]:
    """Settings overrides for an in-process worker that talks to the fake LLM."""
    return {
        "llm_model": "openai/fake-model",
        "llm_api_base": openai.base_url,
        "llm_api_key": SecretStr("sk-fake"),
        "llm_retries": 0,
        **extra,
    }


async def spawn(env: dict[str, str], role: str, cwd: Path) -> asyncio.subprocess.Process:
    """`faultmaven run --role ROLE` as a child process; its stderr goes to ROLE.log."""
    with (cwd / f"{role}.log").open("ab") as log:  # the child keeps its own copy of the fd
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--role",
            role,
            env=env,
            cwd=cwd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
        )


async def wait_exit(proc: asyncio.subprocess.Process, timeout: float = 30) -> int:
    return await asyncio.wait_for(proc.wait(), timeout)


async def test_worker_killed_mid_job_is_retried_with_one_reply(
    slack: FakeSlack,
    openai: FakeOpenAI,
    start_bot: StartBot,
    child_env: dict[str, str],
    tmp_path: Path,
    bot_settings: Settings,
) -> None:
    await start_bot("bot")  # listeners only: the job must go through Redis to a worker
    worker = await spawn(child_env, "worker", tmp_path)
    openai.script(
        Delay(120, then=Reply(llm_answer("too late"))),
        Reply(llm_answer("*Most likely:* the ledger DB is down.")),
    )
    event = slack.mention_event("ledger writes failing", channel=CHANNEL)
    try:
        await slack.send_event(event)
        await openai.wait_for_request(timeout=30)  # the worker is inside the job now
        worker.kill()  # SIGKILL: no cleanup, the job is left "in progress"
        await wait_exit(worker)

        # A fresh worker takes the job once the dead one's in-progress mark expires.
        await start_bot("worker", **fake_llm(openai))
        text = await final_reply(slack, event["ts"], "the ledger DB is down", timeout=40)
    finally:
        if worker.returncode is None:
            worker.kill()
    assert "Answered by openai/fake-model" in text
    assert len(openai.requests) == 2


async def sigterm_mid_job(
    slack: FakeSlack, openai: FakeOpenAI, env: dict[str, str], cwd: Path, *answers: Delay | Reply
) -> str:
    """Start `faultmaven run`, ask a question whose LLM call is under way, send SIGTERM, and
    check the process exits 0. Returns the question's thread ts."""
    process = await spawn(env, "all", cwd)
    try:
        await slack.wait_for_connections(n=1, timeout=30)
        openai.script(*answers)
        event = slack.mention_event("api latency", channel=CHANNEL)
        await slack.send_event(event)
        await openai.wait_for_request(timeout=30)  # the job is inside the LLM call

        process.send_signal(signal.SIGTERM)

        assert await wait_exit(process) == 0
    finally:
        if process.returncode is None:
            process.kill()
    return str(event["ts"])


async def test_sigterm_finishes_the_running_job_and_closes_the_socket(
    slack: FakeSlack, openai: FakeOpenAI, child_env: dict[str, str], tmp_path: Path
) -> None:
    child_env["FAULTMAVEN_JOB_TIMEOUT_S"] = "30"
    thread = await sigterm_mid_job(
        slack,
        openai,
        child_env,
        tmp_path,
        Delay(2, then=Reply(llm_answer("answer finished during shutdown"))),
    )
    await final_reply(slack, thread, "answer finished during shutdown", timeout=5)
    await slack.wait_for_no_connections(timeout=10)


async def test_sigterm_returns_a_long_job_to_the_queue(
    slack: FakeSlack,
    openai: FakeOpenAI,
    child_env: dict[str, str],
    tmp_path: Path,
    start_bot: StartBot,
) -> None:
    child_env["FAULTMAVEN_SHUTDOWN_GRACE_S"] = "1"
    child_env["FAULTMAVEN_JOB_TIMEOUT_S"] = "30"
    thread = await sigterm_mid_job(
        slack,
        openai,
        child_env,
        tmp_path,
        Delay(120, then=Reply(llm_answer("never"))),
        Reply(llm_answer("picked up by the next worker")),
    )
    posted = slack.posted_messages(thread_ts=thread)
    assert len([m for m in posted if "Looking into it" in m["text"]]) == 1

    await start_bot("worker", **fake_llm(openai))
    await final_reply(slack, thread, "picked up by the next worker", timeout=20)
