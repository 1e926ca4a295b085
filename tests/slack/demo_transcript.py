"""Try FaultMaven in Slack without Slack: `faultmaven run` against the fake workspace.

Starts the fake Slack, launches `faultmaven run` as a child process on embedded defaults
(no DATABASE_URL or REDIS_URL), plays an incident as users would, and prints the thread as
people would read it. For trying changes by hand; not collected by pytest.

Run: .venv/bin/python tests/slack/demo_transcript.py
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.samples import checkout_log  # noqa: E402

CHANNEL = "C0INCIDENT"


async def main() -> None:
    async with FakeSlack() as slack:
        with tempfile.TemporaryDirectory(prefix="fm-demo-") as tmp:
            env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
            for var in ("DATABASE_URL", "REDIS_URL", "LLM_MODEL"):
                env.pop(var, None)
            env.update(
                SLACK_BOT_TOKEN=slack.bot_token,
                SLACK_APP_TOKEN=slack.app_token,
                SLACK_API_URL=slack.api_url,
                FAULTMAVEN_DATA_DIR=tmp,
            )
            log = Path(tmp) / "faultmaven.log"
            with log.open("wb") as err:
                child = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "run", env=env, cwd=tmp, stderr=err
                )
                try:
                    await slack.wait_for_connections(1, timeout=60)
                    await play(slack)
                finally:
                    child.send_signal(signal.SIGTERM)
                    print(f"\n[faultmaven run exited with {await child.wait()} after SIGTERM]")


async def play(slack: FakeSlack) -> None:
    def say(who: str, text: str) -> None:
        print(f"\n{who}: {text}")

    mention = slack.mention_event(
        "checkout is throwing 502s since 14:00", channel=CHANNEL, user="U0ALICE"
    )
    say("alice", mention["text"])
    await slack.send_event(mention)
    thread = mention["ts"]
    reply = await slack.wait_for_call(
        "chat.postMessage", lambda c: c.ok and c.params.get("thread_ts") == thread, timeout=30
    )
    say("FaultMaven", reply.params["text"])

    say("bob", "we deployed checkout v142 at 13:58")
    await slack.send_event(
        slack.message_event(
            "we deployed checkout v142 at 13:58", channel=CHANNEL, user="U0BOB", thread_ts=thread
        )
    )

    file = slack.add_file(
        "checkout.log", checkout_log(), channel=CHANNEL, thread_ts=thread, user="U0ALICE"
    )
    say("alice", "[uploads checkout.log]")
    await slack.send_event(
        slack.file_share_event([file], channel=CHANNEL, user="U0ALICE", thread_ts=thread)
    )
    reply = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and "checkout.log:" in c.params.get("text", ""),
        timeout=30,
    )
    say("FaultMaven", reply.params["text"])

    ask = slack.mention_event("what broke?", channel=CHANNEL, user="U0ALICE", thread_ts=thread)
    say("alice", ask["text"])
    await slack.send_event(ask)
    reply = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and c.at > reply.at and c.params.get("thread_ts") == thread,
        timeout=30,
    )
    say(
        "FaultMaven",
        reply.params["text"] + "\n" + reply.params["blocks"][-1]["elements"][0]["text"],
    )

    say("bob", "/faultmaven close raised the payments-db pool to 50")
    envelope = await slack.send_slash_command(
        text="close raised the payments-db pool to 50", channel_id=CHANNEL, user_id="U0BOB"
    )
    ack = await slack.wait_for_ack(envelope, timeout=10)
    say("FaultMaven (only visible to bob)", str((ack.payload or {}).get("text")))
    reply = await slack.wait_for_call(
        "chat.postMessage", lambda c: c.ok and "resolved" in c.params.get("text", ""), timeout=30
    )
    say("FaultMaven", reply.params["text"])


if __name__ == "__main__":
    asyncio.run(main())
