"""Load: FaultMaven under 200 Slack events/s for 60 s, checked for lost and duplicated replies.

FaultMaven runs as `faultmaven run` in processes of its own: one `--role bot` process (socket
mode: ack, then enqueue) and `--workers` `--role worker` processes (arq jobs), or with
`--workers 0` a single `--role all` process. The fake Slack workspace runs in this process
and sends envelopes on a schedule (evenly paced, not in bursts), recording when each was sent
and when its ack came back. PostgreSQL and Redis are DATABASE_URL / REDIS_URL when set,
embedded otherwise; every run uses channels and event ids of its own.

First `--threads` case threads are opened with a mention each (not timed). Then the mix,
across those threads in `--channels` channels:

- thread messages: recorded as case history, no reply;
- mentions with a question: Slack sends an app_mention and a message event for each; the
  question gets one answer, or, when several questions of a case arrive during one turn, the
  pointer "Answered below, together with a later question" to the answer of the last one;
- `/faultmaven status`: answered in the ack (the channel's open cases);
- redeliveries: an event sent 1-3 s earlier, sent again with its event id (as Slack retries).

Checked after the drain, from the fake Slack's records and the database: every envelope
acked once; every thread message and question stored; every question answered or pointed to
a later answer; no bot message that the replies table does not account for (a duplicate).
Exits 1 when ack p99 >= 100 ms or anything is lost or duplicated.

Run: .venv/bin/python tests/bench/bench_load.py [--rate 200] [--seconds 60] [--workers 1]
     [--threads 50] [--channels 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import secrets
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import psycopg  # noqa: E402

from engine.ops.embedded import EmbeddedServices  # noqa: E402
from tests.bench.load_check import Outcome, check_run  # noqa: E402
from tests.bench.slack_process import (  # noqa: E402
    FaultMavenProcess,
    faultmaven_env,
    faultmaven_processes,
    pct,
)
from tests.fakes.slack import FakeSlack  # noqa: E402

# What people write in an incident thread: nothing that reads as a correction ("checked",
# "is fine"), which would be kept as feedback and start a turn like a question.
CHATTER = [
    "deploy 4.12 went out to checkout at 13:55",
    "seeing 502s from the edge again",
    "p99 latency on payments is up to 2.3 s",
    "restarting one checkout pod to see what happens",
    "grafana: https://grafana.example/d/checkout-overview",
    "who owns payments-db these days?",
    "error rate dropped for a minute, now climbing",
    "paging the database on-call",
]
QUESTIONS = [
    "what changed before the 502s started?",
    "which component should we look at first?",
    "is this the connection pool again?",
    "what should we check next?",
    "could the 13:55 deploy explain this?",
]
# Draw weights per envelope slot; a mention takes two slots (app_mention + its message event).
MIX = {"message": 0.58, "mention": 0.14, "status": 0.04, "redelivery": 0.10}


@dataclass
class Sent:
    """One envelope as sent: what it was, and how late against the schedule."""

    kind: str  # message, mention, mention_copy, status, redelivery
    envelope_id: str
    lag_s: float
    channel: str = ""
    ts: str = ""


@dataclass
class Workload:
    slack: FakeSlack
    rng: random.Random
    threads: list[tuple[str, str]]  # (channel, thread ts) of each case
    run_id: str
    sent: list[Sent] = field(default_factory=list)
    _companion: dict[str, Any] | None = None
    _recent: deque[tuple[float, str, dict[str, Any]]] = field(default_factory=deque)
    _events = 0

    def event_id(self) -> str:
        self._events += 1
        return f"Ev{self.run_id}{self._events:06d}"

    async def send_event(self, kind: str, event: dict[str, Any], lag_s: float) -> None:
        event_id = self.event_id()
        envelope = await self.slack.send_event(event, event_id=event_id)
        self.sent.append(Sent(kind, envelope, lag_s, event["channel"], event["ts"]))
        self._recent.append((time.monotonic(), event_id, event))

    async def send_next(self, lag_s: float) -> None:
        """Send the next envelope of the mix."""
        if self._companion is not None:  # the message event that comes with a mention
            event, self._companion = self._companion, None
            await self.send_event("mention_copy", event, lag_s)
            return
        kind = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        channel, thread_ts = self.rng.choice(self.threads)
        if kind == "redelivery" and await self.redeliver(lag_s):
            return
        if kind == "status":
            envelope = await self.slack.send_slash_command(
                "/faultmaven", "status", channel_id=channel, user_id="U0ONCALL"
            )
            self.sent.append(Sent("status", envelope, lag_s, channel))
        elif kind == "mention":
            question = self.rng.choice(QUESTIONS)
            event = self.slack.mention_event(question, channel=channel, thread_ts=thread_ts)
            await self.send_event("mention", event, lag_s)
            self._companion = {**event, "type": "message", "channel_type": "channel"}
        else:
            text = self.rng.choice(CHATTER)
            event = self.slack.message_event(text, channel=channel, thread_ts=thread_ts)
            await self.send_event("message", event, lag_s)

    async def redeliver(self, lag_s: float) -> bool:
        """Send an event of 1-3 s ago again, with its event id; False when there is none."""
        now = time.monotonic()
        while self._recent and self._recent[0][0] < now - 3:
            self._recent.popleft()
        due = [r for r in self._recent if r[0] <= now - 1]
        if not due:
            return False
        _, event_id, event = self.rng.choice(due)
        envelope = await self.slack.send_event(
            event, event_id=event_id, retry_attempt=1, retry_reason="timeout"
        )
        self.sent.append(Sent("redelivery", envelope, lag_s, event["channel"], event["ts"]))
        return True


async def until(condition: Callable[[], Any], *, timeout: float, step: float = 0.5) -> bool:
    """Poll `condition` (sync or a coroutine function) every `step` s up to `timeout` s."""
    for _ in range(int(timeout / step)):
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return True
        await asyncio.sleep(step)
    return False


async def answered(conn: psycopg.AsyncConnection[Any], channels: list[str]) -> set[str]:
    """Thread ts of the questions with a reply recorded (an answer or a pointer)."""
    cur = await conn.execute(
        "SELECT split_part(r.key, ':', 3) FROM replies r JOIN cases c ON c.id = r.case_id"
        " WHERE c.channel_id = ANY(%s) AND r.key LIKE 'answer:%%'",
        (channels,),
    )
    return {row[0] for row in await cur.fetchall()}


async def stored(conn: psycopg.AsyncConnection[Any], channels: list[str]) -> set[str]:
    """Ts of the people's messages stored as case history."""
    cur = await conn.execute(
        "SELECT m.ts FROM messages m JOIN cases c ON c.id = m.case_id"
        " WHERE c.channel_id = ANY(%s) AND m.role = 'user'",
        (channels,),
    )
    return {row[0] for row in await cur.fetchall()}


async def open_threads(
    slack: FakeSlack, conn: psycopg.AsyncConnection[Any], channels: list[str], threads: int
) -> list[tuple[str, str]]:
    """One case per thread, opened by a mention, answered before the load starts."""
    opened = []
    for k in range(threads):
        channel = channels[k % len(channels)]
        event = slack.mention_event(f"incident {k}: checkout 502s since 14:00", channel=channel)
        await slack.send_event(event)
        opened.append((channel, event["ts"]))
        await asyncio.sleep(0.05)
    wanted = {ts for _, ts in opened}
    if not await until(lambda: _covers(conn, channels, wanted), timeout=300):
        raise SystemExit("the case threads were not all answered within 300 s")
    return opened


async def _covers(conn: psycopg.AsyncConnection[Any], channels: list[str], ts: set[str]) -> bool:
    return ts <= await answered(conn, channels)


async def run_load(args: argparse.Namespace, db_url: str, redis_url: str, tmp: Path) -> int:
    run_id = secrets.token_hex(3).upper()
    channels = [f"C{run_id}{k:02d}" for k in range(args.channels)]
    roles = ["all"] if args.workers == 0 else ["bot"] + ["worker"] * args.workers
    rng = random.Random(args.seed)
    async with (
        FakeSlack() as slack,
        await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn,
    ):
        env = faultmaven_env(slack, database_url=db_url, redis_url=redis_url, data_dir=tmp)
        async with faultmaven_processes(slack, roles, env, tmp) as procs:
            threads = await open_threads(slack, conn, channels, args.threads)
            work = Workload(slack, rng, threads, run_id)
            total = int(args.rate * args.seconds)
            cpu0 = [p.cpu_s() for p in procs], _self_cpu_s()
            loop = asyncio.get_running_loop()
            start = loop.time() + 0.1
            wall0 = time.monotonic()
            for i in range(total):  # paced: envelope i leaves at start + i / rate
                delay = start + i / args.rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                await work.send_next(lag_s=loop.time() - (start + i / args.rate))
            last_sent = time.monotonic()
            cpu1 = [p.cpu_s() for p in procs], _self_cpu_s()
            load_s = last_sent - wall0
            await until(lambda: len(slack.acks) >= len(work.sent), timeout=30, step=0.1)
            mentions = {s.ts for s in work.sent if s.kind == "mention"}
            kept = {s.ts for s in work.sent if s.kind in ("message", "mention")}

            async def drained() -> bool:
                return mentions <= await answered(conn, channels) and kept <= await stored(
                    conn, channels
                )

            drained_in_time = await until(drained, timeout=args.drain_timeout)
            rss = [(p.role, p.rss_mb(), p.peak_rss_mb()) for p in procs]
            inside_bot = await bot_ack_buckets(procs)
            # Let queued follow-ups (a drain, a summary update) finish before the clean stop.
            await until(lambda: _quiet(slack), timeout=30)
        outcome = await check_run(slack, conn, channels, work.sent)
    outcome.drained = drained_in_time
    report(args, roles, work.sent, outcome, last_sent, load_s, cpu0, cpu1, rss)
    by_kind: dict[str, list[float]] = {}
    for kind, _, ms in outcome.ack_rows:
        by_kind.setdefault(kind, []).append(ms)
    print(
        "ack p50 / p99 by kind: "
        + ", ".join(f"{k} {pct(v, 50):.0f} / {pct(v, 99):.0f} ms" for k, v in by_kind.items())
    )
    if args.csv:
        t0 = outcome.ack_rows[0][1] if outcome.ack_rows else 0.0
        rows = [f"{k},{at - t0:.4f},{ms:.2f}\n" for k, at, ms in outcome.ack_rows]
        await asyncio.to_thread(Path(args.csv).write_text, "kind,sent_s,ack_ms\n" + "".join(rows))
    print(
        f"acks inside the bot (its own histogram, socket to ack written): p50 "
        f"{bucket_pct(inside_bot, 50)}, p99 {bucket_pct(inside_bot, 99)}"
    )
    print_failures(outcome)
    ack_p99 = pct(outcome.ack_ms, 99) if outcome.ack_ms else float("inf")
    return 1 if ack_p99 >= 100 or not outcome.ok else 0


async def bot_ack_buckets(procs: list[FaultMavenProcess]) -> dict[float, float]:
    """The bot processes' own ack histogram (faultmaven_ack_latency_seconds, every kind):
    cumulative count per bucket bound. Time inside the bot, without the socket and this
    process: tells the bot's share of the latency measured here."""
    buckets: Counter[float] = Counter()
    async with aiohttp.ClientSession() as http:
        for p in procs:
            if p.role == "worker":
                continue
            async with http.get(f"http://127.0.0.1:{p.http_port}/metrics") as resp:
                text = await resp.text()
            for line in text.splitlines():
                if line.startswith("faultmaven_ack_latency_seconds_bucket{"):
                    bound = line.split('le="', 1)[1].split('"', 1)[0]
                    buckets[float(bound)] += float(line.rsplit(" ", 1)[1])
    return dict(sorted(buckets.items()))


def bucket_pct(buckets: dict[float, float], p: float) -> str:
    """The histogram bound under which `p` % of the acks fall ("<= 10 ms")."""
    total = max(buckets.values(), default=0)
    for bound, count in buckets.items():
        if count >= total * p / 100:
            return f"<= {bound * 1000:g} ms" if bound != float("inf") else "> 5 s"
    return "n/a"


def _quiet(slack: FakeSlack) -> bool:
    # No Web API call for a second: a stand-in for "no job running" that needs no Redis
    # client here (the clean stop still gives running jobs their grace period).
    return not slack.calls or time.monotonic() - slack.calls[-1].at > 1.0


def _self_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def report(
    args: argparse.Namespace,
    roles: list[str],
    sent: list[Sent],
    outcome: Outcome,
    last_sent: float,
    load_s: float,
    cpu0: tuple[list[float], float],
    cpu1: tuple[list[float], float],
    rss: list[tuple[str, float, float]],
) -> None:
    kinds = Counter(s.kind for s in sent)
    ack = outcome.ack_ms
    lags = [s.lag_s * 1000 for s in sent]
    print(
        f"setup: {' + '.join(roles)} process(es); {args.threads} case threads in "
        f"{args.channels} channels; {len(sent)} envelopes in {load_s:.1f} s "
        f"({len(sent) / load_s:.0f}/s; sender behind schedule p99 {pct(lags, 99):.1f} ms, "
        f"max {max(lags):.1f} ms)"
    )
    print("mix: " + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()))
    print(
        f"acks: {len(ack)} of {len(sent)}; p50 {pct(ack, 50):.1f} ms, p95 {pct(ack, 95):.1f} ms, "
        f"p99 {pct(ack, 99):.1f} ms, max {max(ack):.1f} ms"
    )
    drain = outcome.last_answer_at - last_sent if outcome.last_answer_at else float("nan")
    print(
        f"answers: {outcome.questions} questions, {outcome.answered_directly} answered, "
        f"{outcome.pointed} pointed to a later answer; the last posted {drain:.1f} s after the "
        f"last event" + ("" if outcome.drained else " (drain timed out)")
    )
    print(
        f"lost: {outcome.lost_messages} thread messages, {outcome.lost_questions} questions, "
        f"{outcome.unanswered_status} status commands, {outcome.unacked} acks · duplicated "
        f"replies: {outcome.duplicates} · error notices: {outcome.errors}"
    )
    cpu = [(b - a) / load_s for a, b in zip(cpu0[0], cpu1[0], strict=True)]
    mine = (cpu1[1] - cpu0[1]) / load_s
    print(
        "processes during the load (CPU share of one core, RSS now / peak): "
        + "; ".join(
            f"{role} {c:.0%}, {now:.0f} / {peak:.0f} MB"
            for (role, now, peak), c in zip(rss, cpu, strict=True)
        )
        + f"; this bench process (fake Slack) {mine:.0%}"
    )


def print_failures(outcome: Outcome) -> None:
    for line in outcome.details[:20]:
        print(f"  ! {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="envelopes per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1, help="worker processes; 0: role all")
    parser.add_argument("--threads", type=int, default=50, help="case threads")
    parser.add_argument("--channels", type=int, default=5)
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--csv", help="write kind, send time and ack ms of each envelope here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fm-load-") as tmp_dir:
        tmp = Path(tmp_dir)
        embedded = EmbeddedServices(tmp / "embedded")
        try:
            db_url = os.environ.get("DATABASE_URL") or embedded.postgres_url()
            redis_url = os.environ.get("REDIS_URL") or embedded.redis_url()
            return asyncio.run(run_load(args, db_url, redis_url, tmp))
        finally:
            embedded.close()


if __name__ == "__main__":
    sys.exit(main())
