"""Time from the last upload to the updated case summary, for a case with 5 files of 10 MB.

The real FaultMaven process (Bolt socket mode + arq worker, role=all) runs against the fake
Slack workspace, an embedded PostgreSQL and an embedded Redis, all on this machine. Each run
opens a case with a mention, then shares the files in its thread, two ways:

- together: one message carrying all the files (dragging 5 files into Slack does this);
- one by one: five messages back to back, timed from the last one (five jobs that may run
  while a turn is going: their input is coalesced into the next turn).

The first case after the process starts is timed apart (the worker is still loading the
embedding model and the starter runbooks); the runs after it are the steady state.

The clock stops when the pinned summary is updated by a turn that read all the files (its
footer counts them) and no run is in progress.

Run: .venv/bin/python tests/bench/bench_case_summary.py [--runs N] [--files N] [--mb MB]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.logs import generate_log  # noqa: E402
from tests.bench.slack_process import faultmaven_on_fake_slack, pct  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.fakes.slack_base import Call  # noqa: E402

CHANNEL = "C0SUMMARY"


def is_final_summary(call: Call, summary_ts: str, files: int) -> bool:
    """An update of this case's summary from a turn that read every file."""
    if not call.ok or call.method != "chat.update" or call.params.get("ts") != summary_ts:
        return False
    blocks = json.dumps(call.params.get("blocks") or [], ensure_ascii=False)
    return f"· {files} files," in blocks and "⏳" not in blocks


async def one_case(slack: FakeSlack, run: int, files: int, lines: int, together: bool) -> float:
    mention = slack.mention_event(f"run {run}: checkout errors", channel=CHANNEL)
    await slack.send_event(mention)
    thread = mention["ts"]
    posted = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and c.params.get("thread_ts") == thread and "Working" in str(c.params),
        timeout=120,
    )
    summary_ts = str(posted.response["ts"])
    shared = [
        slack.add_file(
            f"svc{i}-run{run}.log",
            generate_log(lines, seed=run * 100 + i),
            channel=CHANNEL,
            thread_ts=thread,
        )
        for i in range(files)
    ]
    since = len(slack.calls)
    if together:
        t0 = time.perf_counter()
        await slack.send_event(slack.file_share_event(shared, channel=CHANNEL, thread_ts=thread))
    else:
        for file in shared:
            t0 = time.perf_counter()
            await slack.send_event(
                slack.file_share_event([file], channel=CHANNEL, thread_ts=thread)
            )
    deadline = time.perf_counter() + 600
    while time.perf_counter() < deadline:
        if any(is_final_summary(c, summary_ts, files) for c in slack.calls[since:]):
            return time.perf_counter() - t0
        await asyncio.sleep(0.02)
    raise TimeoutError(f"run {run}: no summary with {files} files within 600 s")


async def main(runs: int, files: int, megabytes: float) -> None:
    lines = int(megabytes * 1e6 / 98)  # generate_log writes ~98-byte lines
    results: dict[str, list[float]] = {"together": [], "one by one": []}
    async with faultmaven_on_fake_slack(max_file_mb=max(50.0, megabytes * 2)) as slack:
        # A worker's first minute loads the embedding model and imports the starter runbooks
        # in the background; a case then shares the cores with it. Timed apart, once.
        seconds = await one_case(slack, 1000, files, lines, True)
        print(f"first case after the process started, files together: {seconds:.2f} s")
        for run in range(runs):
            for mode, together in (("together", True), ("one by one", False)):
                seconds = await one_case(slack, run * 2 + together, files, lines, together)
                results[mode].append(seconds)
                print(f"run {run + 1} {mode}: {seconds:.2f} s", flush=True)
    size = f"{files} files of {megabytes:g} MB"
    for mode, seconds in results.items():
        print(
            f"last upload -> updated summary, {size} shared {mode} ({runs} runs): "
            f"p50 {statistics.median(seconds):.2f} s, p95 {pct(seconds, 95):.2f} s"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--mb", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.files, args.mb))
