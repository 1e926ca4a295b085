"""Does a case's related knowledge show the runbook for its failure? Over the scenario suite.

Run: .venv/bin/python tests/bench/bench_related_runbooks.py [-v] [--only NAME...]

Each scenario of tests/scenarios/cases becomes a case with the starter runbooks loaded: a
title that says nothing specific ("something is off since this morning, can you look?"),
then its files uploaded, as people do. The runbooks shown in its thread are read back from
the related-knowledge messages, with the reason each gives.

A runbook section fits when it is about the scenario's root-cause failure signature
(RIGHT_SECTIONS below: which starter section answers which signature, decided before any
run). Scenarios whose signature no starter section covers are reported apart, with what they
were shown. Reported: the first runbook shown fits (R@1), one of those shown fits, and how
many runbooks were shown. Generated scenarios: a regression guard, not a measure of quality.
Real Postgres + pgvector (embedded), the real MiniLM model, offline.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.cases.service import CaseService  # noqa: E402
from engine.core.config import Settings  # noqa: E402
from engine.core.models import FilesRequest, MentionRequest, ThreadRef  # noqa: E402
from engine.core.replies import KnowledgeReply  # noqa: E402
from engine.ops.embedded import EmbeddedServices  # noqa: E402
from engine.store.db import open_pool  # noqa: E402
from engine.store.migrate import apply_migrations  # noqa: E402
from tests.fakes.memory import MemoryFiles, MemoryReplier  # noqa: E402
from tests.scenarios.suite import Scenario, load_scenarios  # noqa: E402

VAGUE_TITLE = "something is off since this morning, can you look?"

# The starter sections (engine/knowledge/starter/) that answer each failure signature.
RIGHT_SECTIONS: dict[str, set[str]] = {
    "tls": {
        "Certificate expired",
        "Unknown authority or incomplete chain",
        "Hostname mismatch",
        "Handshake failure or protocol mismatch",
    },
    "oom": {
        "Process killed by the OOM killer",
        "Container OOMKilled",
        "Memory leak",
        "Java heap exhausted or long GC pauses",
    },
    "disk-full": {"Disk full", "Inodes exhausted", "Disk full or WAL growing"},
    "dns": {
        "Name does not resolve (NXDOMAIN)",
        "Resolution timeouts or slow DNS",
        "Stale records after a change",
    },
    "db-pool-exhausted": {"Connection pool exhausted"},
    "deadlock": {"Lock contention and deadlocks"},
    "crash-loop": {"Pod in CrashLoopBackOff"},
    "http-5xx": {
        "502 Bad Gateway",
        "503 Service Unavailable, no healthy upstream",
        "504 Gateway Timeout",
    },
    "timeout": {"Slow queries after a deploy or data growth", "504 Gateway Timeout"},
    "conn-refused": {
        "Service has no endpoints",
        "502 Bad Gateway",
        "Too many connections or connection timeouts",
    },
}


@dataclass
class Shown:
    name: str
    signature: str | None
    runbooks: list[str]  # "Title › Section — why", in the order shown

    @property
    def sections(self) -> list[str]:
        return [r.split(" › ", 1)[-1].split(" — ", 1)[0] for r in self.runbooks]

    @property
    def covered(self) -> bool:
        return self.signature in RIGHT_SECTIONS

    @property
    def first(self) -> bool:
        right = RIGHT_SECTIONS.get(self.signature or "", set())
        return bool(self.sections) and self.sections[0] in right

    @property
    def any(self) -> bool:
        right = RIGHT_SECTIONS.get(self.signature or "", set())
        return any(s in right for s in self.sections)


def runbooks_shown(replier: MemoryReplier, thread: ThreadRef) -> list[str]:
    shown: list[str] = []
    for posted in replier.in_thread(thread.thread_ts):
        reply = posted.latest
        if not isinstance(reply, KnowledgeReply):
            continue
        for line in reply.lines:
            if line.kind != "runbook":
                continue
            name = line.text.removeprefix("Runbook: ")
            why = line.snippet.removeprefix("Why: ")
            shown.append(f"{name} — {why}" if why else name)
    return shown


async def run(scenarios: list[Scenario], verbose: bool) -> list[Shown]:
    with tempfile.TemporaryDirectory(prefix="fm-bench-related-") as tmp:
        embedded = EmbeddedServices(Path(tmp))
        pool = await open_pool(embedded.postgres_url())
        try:
            async with pool.connection() as conn:
                await apply_migrations(conn)
            settings = Settings(
                _env_file=None,
                FAULTMAVEN_DATA_DIR=Path(tmp),
                FAULTMAVEN_STARTER_KNOWLEDGE=True,
                llm_model=None,
            )
            replier, files = MemoryReplier(), MemoryFiles()
            service = CaseService(pool, settings, replier=replier, files=files)
            await service.prepare_knowledge()
            results = []
            started = time.perf_counter()
            for n, scenario in enumerate(scenarios):
                ts = f"1700000{n:03d}.000100"
                thread = ThreadRef(team_id="T1", channel_id=f"C{n:03d}", thread_ts=ts)
                await service.answer_mention(
                    MentionRequest(thread=thread, ts=ts, user="U1", text=VAGUE_TITLE),
                    key=f"m:{n}",
                )
                refs = [files.add(f"{n}:{p.name}", p.name, p.read_bytes()) for p in scenario.files]
                await service.add_files(
                    FilesRequest(thread=thread, ts=f"{ts}1", user="U1", text="", files=refs),
                    key=f"f:{n}",
                )
                shown = Shown(
                    scenario.name,
                    scenario.answer.root_cause.signature,
                    runbooks_shown(replier, thread),
                )
                results.append(shown)
                if verbose:
                    print(f"{scenario.name} ({shown.signature}):")
                    for line in shown.runbooks or ["(none)"]:
                        print(f"    {line}")
            print(f"{len(scenarios)} cases in {time.perf_counter() - started:.0f} s")
            return results
        finally:
            await pool.close()
            embedded.close()


def report(results: list[Shown]) -> None:
    covered = [r for r in results if r.covered]
    n = len(covered)
    print(f"scenarios whose failure a starter runbook covers: {n}")
    print(f"  right runbook first (R@1): {sum(r.first for r in covered)}/{n}")
    print(f"  right runbook shown:       {sum(r.any for r in covered)}/{n}")
    print(f"  runbooks shown: {sum(len(r.runbooks) for r in covered)} in all")
    for r in covered:
        if not r.first:
            print(f"    {r.name} ({r.signature}): {r.sections or 'none'}")
    print("not covered by a starter runbook (shown):")
    for r in results:
        if not r.covered:
            print(f"  {r.name} ({r.signature}): {r.sections or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--only", nargs="*", help="scenario names")
    args = parser.parse_args()
    scenarios = [s for s in load_scenarios() if not args.only or s.name in args.only]
    report(asyncio.run(run(scenarios, args.verbose)))


if __name__ == "__main__":
    main()
