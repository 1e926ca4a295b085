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
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.samples.incident import json_lines, plain_log  # noqa: E402

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


def shown(message: dict[str, Any]) -> str:
    """A message as people read it: its sections, buttons and context lines."""
    lines: list[str] = []
    for block in message.get("blocks") or []:
        if block["type"] == "section":
            lines.append(block["text"]["text"])
        elif block["type"] == "context":
            lines.extend(f"  _{e['text']}_" for e in block["elements"])
        elif block["type"] == "actions":
            lines.append("  " + "  ".join(f"[{e['text']['text']}]" for e in block["elements"]))
    return "\n".join(lines) or str(message.get("text", ""))


def is_summary(message: dict[str, Any]) -> bool:
    return "Working conclusion" in str(message.get("text", ""))


def settled(message: dict[str, Any]) -> bool:
    """A summary no run is updating now."""
    return is_summary(message) and "⏳" not in str(message.get("text", ""))


async def play(slack: FakeSlack) -> None:
    def say(who: str, text: str) -> None:
        print(f"\n{who}: {text}")

    mention = slack.mention_event(
        "checkout is throwing 502s since 14:00", channel=CHANNEL, user="U0ALICE"
    )
    say("alice", mention["text"])
    await slack.send_event(mention)
    thread = mention["ts"]
    first = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and c.params.get("thread_ts") == thread and is_summary(c.params),
        timeout=30,
    )
    summary = str(first.response["ts"])
    await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and c.params.get("thread_ts") == thread and "no LLM" in str(c.params),
        timeout=30,
    )

    say("bob", "we deployed checkout v142 at 13:58")
    await slack.send_event(
        slack.message_event(
            "we deployed checkout v142 at 13:58", channel=CHANNEL, user="U0BOB", thread_ts=thread
        )
    )
    files = [
        slack.add_file(name, data, channel=CHANNEL, thread_ts=thread, user="U0ALICE")
        for name, data in (
            ("checkout.log", plain_log("checkout")),
            ("payments.json", json_lines("payments")),
        )
    ]
    say("alice", "[uploads checkout.log and payments.json]")
    await slack.send_event(
        slack.file_share_event(files, channel=CHANNEL, user="U0ALICE", thread_ts=thread)
    )
    await slack.wait_for_message(
        CHANNEL, summary, lambda m: settled(m) and "· 2 files" in str(m), timeout=60
    )

    say("bob", "[clicks Confirm on hypothesis 1]")
    await slack.click(CHANNEL, summary, "hypothesis_confirm", user_id="U0BOB")
    await slack.wait_for_message(
        CHANNEL, summary, lambda m: settled(m) and "confirmed by" in str(m), timeout=60
    )

    ask = slack.mention_event(
        "what should we do now?", channel=CHANNEL, user="U0ALICE", thread_ts=thread
    )
    say("alice", ask["text"])
    await slack.send_event(ask)
    await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and c.params.get("thread_ts") == thread and "Confirmed" in str(c.params),
        timeout=60,
    )

    say("bob", "/faultmaven close raised the payments-db pool to 50")
    envelope = await slack.send_slash_command(
        text="close raised the payments-db pool to 50", channel_id=CHANNEL, user_id="U0BOB"
    )
    ack = await slack.wait_for_ack(envelope, timeout=10)
    say("FaultMaven (only visible to bob)", str((ack.payload or {}).get("text")))
    await slack.wait_for_message(
        CHANNEL, summary, lambda m: "resolved" in str(m.get("text")), timeout=60
    )

    print("\n======== the thread as people read it now ========")
    for posted in slack.posted_messages(CHANNEL, thread):
        message = slack.message(CHANNEL, posted["ts"])
        pin = " 📌 pinned" if posted["ts"] in slack.pinned(CHANNEL) else ""
        print(f"\n--- FaultMaven{pin} ---\n{shown(message)}")


if __name__ == "__main__":
    asyncio.run(main())
