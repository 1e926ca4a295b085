"""Does the next incident find the past case that looks like it? Over the scenario suite.

Run: .venv/bin/python tests/bench/bench_past_cases.py [-v] [--only NAME...]

1. History: every scenario of tests/scenarios/cases becomes a case (its question as the
   title, its files uploaded), gets its turns, and is closed with the same neutral
   resolution ("mitigated and verified"), so nothing but the incident itself can match.
   Closing stores its postmortem as knowledge, as in Slack.
2. The next incident: each scenario is generated again from another seed (another day of the
   same failure: other ids, counts and times), opened in another channel with the question
   "what's going on?", and its files uploaded. The past cases shown in its thread are read
   back from the related-knowledge messages.

Reported: for scenarios with a culprit, how often their own past case is shown (and shown
first), how many other past cases are shown with it (wrong ones), and for the healthy ones
what they were shown. Real Postgres + pgvector (embedded), the real MiniLM model, offline.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.cases.service import CaseService  # noqa: E402
from engine.core.config import Settings  # noqa: E402
from engine.core.models import CloseCaseRequest, FilesRequest, MentionRequest, ThreadRef  # noqa: E402
from engine.core.replies import KnowledgeReply  # noqa: E402
from engine.ops.embedded import EmbeddedServices  # noqa: E402
from engine.store.db import open_pool  # noqa: E402
from engine.store.migrate import apply_migrations  # noqa: E402
from tests.fakes.memory import MemoryFiles, MemoryReplier  # noqa: E402
from tests.scenarios.generate import builders, seed  # noqa: E402
from tests.scenarios.suite import Scenario, load_scenarios  # noqa: E402

RESOLUTION = "mitigated and verified"
NEXT_QUESTION = "what's going on?"
CASE_REF = re.compile(r"case #(\d+)")
OTHER_DAY = 7919  # added to a scenario's seed: the same failure, generated afresh


@dataclass
class Outcome:
    name: str
    culprit: bool
    past_id: int
    shown: list[int] = field(default_factory=list)  # past case ids, in the order shown

    @property
    def found(self) -> bool:
        return self.past_id in self.shown

    @property
    def first(self) -> bool:
        return bool(self.shown) and self.shown[0] == self.past_id

    @property
    def wrong(self) -> list[int]:
        return [i for i in self.shown if i != self.past_id]


async def incident(
    service: CaseService,
    files: MemoryFiles,
    *,
    channel: str,
    ts: str,
    question: str,
    evidence: dict[str, bytes],
) -> ThreadRef:
    thread = ThreadRef(team_id="T1", channel_id=channel, thread_ts=ts)
    await service.answer_mention(
        MentionRequest(thread=thread, ts=ts, user="U1", text=question), key=f"m:{channel}:{ts}"
    )
    refs = [files.add(f"{channel}:{ts}:{n}", n, data) for n, data in sorted(evidence.items())]
    await service.add_files(
        FilesRequest(thread=thread, ts=f"{ts}1", user="U1", text="", files=refs),
        key=f"f:{channel}:{ts}",
    )
    return thread


def shown_cases(replier: MemoryReplier, thread: ThreadRef) -> list[int]:
    """Past case ids in the thread's related-knowledge messages, in the order shown."""
    found: list[int] = []
    for posted in replier.in_thread(thread.thread_ts):
        if isinstance(posted.latest, KnowledgeReply):
            for line in posted.latest.lines:
                if line.kind == "case" and (ref := CASE_REF.search(line.text)):
                    found.append(int(ref.group(1)))
    return list(dict.fromkeys(found))


def variant_files(name: str) -> dict[str, bytes]:
    case = builders()[name](random.Random(seed(name) + OTHER_DAY))
    return dict(case.files)


async def run(scenarios: list[Scenario], verbose: bool) -> list[Outcome]:
    with tempfile.TemporaryDirectory(prefix="fm-bench-past-") as tmp:
        embedded = EmbeddedServices(Path(tmp))
        pool = await open_pool(embedded.postgres_url())
        try:
            async with pool.connection() as conn:
                await apply_migrations(conn)
            settings = Settings(
                _env_file=None,
                FAULTMAVEN_DATA_DIR=Path(tmp),
                FAULTMAVEN_STARTER_KNOWLEDGE=False,
                llm_model=None,
            )
            replier, files = MemoryReplier(), MemoryFiles()
            service = CaseService(pool, settings, replier=replier, files=files)
            ids: dict[str, int] = {}
            started = time.perf_counter()
            for n, scenario in enumerate(scenarios):
                evidence = {p.name: p.read_bytes() for p in scenario.files}
                thread = await incident(
                    service,
                    files,
                    channel="C0HISTORY",
                    ts=f"1700000{n:03d}.000100",
                    question=scenario.answer.question,
                    evidence=evidence,
                )
                case = await service.case_for_thread(thread.channel_id, thread.thread_ts)
                assert case is not None
                ids[scenario.name] = case.id
                await service.close_case(
                    CloseCaseRequest(case_id=case.id, user="U1", resolution=RESOLUTION),
                    key=f"close:{case.id}",
                )
            history_s = time.perf_counter() - started
            outcomes = []
            for n, scenario in enumerate(scenarios):
                thread = await incident(
                    service,
                    files,
                    channel=f"C0NEXT{n:03d}",
                    ts=f"1800000{n:03d}.000100",
                    question=NEXT_QUESTION,
                    evidence=variant_files(scenario.name),
                )
                outcome = Outcome(
                    scenario.name,
                    scenario.answer.type != "healthy",
                    ids[scenario.name],
                    shown_cases(replier, thread),
                )
                outcomes.append(outcome)
                if verbose:
                    names = {v: k for k, v in ids.items()}
                    print(f"{scenario.name:34} shown: {[names[i] for i in outcome.shown]}")
            print(f"history of {len(scenarios)} closed cases built in {history_s:.0f} s")
            return outcomes
        finally:
            await pool.close()
            embedded.close()


def report(outcomes: list[Outcome]) -> None:
    culprit = [o for o in outcomes if o.culprit]
    healthy = [o for o in outcomes if not o.culprit]
    n = len(culprit)
    print(f"incidents with a culprit: {n}")
    print(f"  own past case shown:  {sum(o.found for o in culprit)}/{n}")
    print(f"  own past case first:  {sum(o.first for o in culprit)}/{n}")
    wrong = [len(o.wrong) for o in culprit]
    print(
        f"  other past cases shown with it: {sum(wrong)} in all "
        f"({sum(1 for w in wrong if w)}/{n} incidents; median {statistics.median(wrong):g})"
    )
    for o in culprit:
        if not o.found or o.wrong:
            print(f"    {o.name}: own {'shown' if o.found else 'missing'}, {len(o.wrong)} other")
    print(f"healthy scenarios: {len(healthy)}")
    for o in healthy:
        print(f"  {o.name}: {len(o.shown)} past case(s) shown")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--only", nargs="*", help="scenario names")
    args = parser.parse_args()
    scenarios = [s for s in load_scenarios() if not args.only or s.name in args.only]
    report(asyncio.run(run(scenarios, args.verbose)))


if __name__ == "__main__":
    main()
