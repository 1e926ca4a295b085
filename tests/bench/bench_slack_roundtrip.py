"""What a Slack user waits for: ack latency and upload-to-summary time, end to end.

The real FaultMaven process (Bolt socket mode + arq worker, role=all) runs against the fake
Slack workspace, an embedded PostgreSQL and an embedded Redis, all on this machine.

Run: .venv/bin/python tests/bench/bench_slack_roundtrip.py [--events N] [--uploads N] [--mb MB]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.logs import generate_log  # noqa: E402
from tests.bench.slack_process import faultmaven_on_fake_slack, pct  # noqa: E402


async def main(events: int, uploads: int, megabytes: float) -> None:
    async with faultmaven_on_fake_slack(max_file_mb=max(50.0, megabytes * 2)) as slack:
        # 1a) Acks one at a time (the usual case: a person writes, Slack delivers).
        single_ms = []
        for i in range(20):
            env = await slack.send_event(slack.mention_event(f"single {i}", channel="C0ONE"))
            ack = await slack.wait_for_ack(env, timeout=60)
            single_ms.append((ack.acked_at - ack.sent_at) * 1000)

        # 1b) Acks of a burst: mentions in separate threads, sent back to back.
        envelopes = []
        for i in range(events):
            event = slack.mention_event(f"incident {i}: checkout errors", channel="C0BENCH")
            envelopes.append((await slack.send_event(event), event["ts"]))
        acks = [await slack.wait_for_ack(env, timeout=60) for env, _ in envelopes]
        ack_ms = [(a.acked_at - a.sent_at) * 1000 for a in acks]
        started = time.perf_counter()
        for _, ts in envelopes:
            await slack.wait_for_call(
                "chat.postMessage",
                lambda c, ts=ts: c.ok and c.params.get("thread_ts") == ts,
                timeout=120,
            )
        drain_s = time.perf_counter() - started

        # 2) Uploads: a log of `megabytes` into an existing case thread, until the summary.
        thread = envelopes[0][1]
        lines = int(megabytes * 1e6 / 98)
        upload_s = []
        for i in range(uploads):
            data = generate_log(lines, seed=i)
            file = slack.add_file(f"app-{i}.log", data, channel="C0BENCH", thread_ts=thread)
            started_at = len(slack.calls)
            t0 = time.perf_counter()
            await slack.send_event(
                slack.file_share_event([file], channel="C0BENCH", thread_ts=thread)
            )
            # The summary line of the file: posted, or replacing the "Reading…" note of a
            # big upload.
            deadline = time.perf_counter() + 300
            while not any(
                c.ok
                and c.method in ("chat.postMessage", "chat.update")
                and f"app-{i}.log:" in c.params.get("text", "")
                for c in slack.calls[started_at:]
            ):
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"no summary of app-{i}.log within 300 s")
                await asyncio.sleep(0.01)
            upload_s.append(time.perf_counter() - t0)

    print(
        f"acks (20 mentions one at a time): p50 {pct(single_ms, 50):.1f} ms, "
        f"p99 {pct(single_ms, 99):.1f} ms"
    )
    print(
        f"acks ({events} mentions sent back to back): p50 {pct(ack_ms, 50):.1f} ms, "
        f"p99 {pct(ack_ms, 99):.1f} ms, max {max(ack_ms):.1f} ms"
    )
    print(f"answers: all {events} replies posted {drain_s:.2f} s after the last ack")
    print(
        f"upload of a {len(data) / 1e6:.1f} MB log -> summary in thread ({uploads} runs): "
        f"p50 {statistics.median(upload_s):.2f} s, p95 {pct(upload_s, 95):.2f} s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--uploads", type=int, default=5)
    parser.add_argument("--mb", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.uploads, args.mb))
