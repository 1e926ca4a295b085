"""The LLM path of investigation turns over the scenario suite: plumbing, not accuracy.

Run: .venv/bin/python tests/bench/bench_llm_scenarios.py [--budget TOKENS]

Each scenario becomes a case in an embedded PostgreSQL, run through `CaseService` with the
real litellm client against the fake OpenAI server (tests/fakes/openai.py): the engineer's
question with every evidence file attached (turn 1), then teammates' messages and a follow-up
question (turn 2), then a last question (turn 3).
The fake is scripted per turn so that every way a reply can arrive is exercised, in turn:

  json      valid JSON on the first call
  fenced    the JSON inside a ```json fence, with prose around it
  repaired  prose first (not JSON): one repair request, then valid JSON
  fallback  the first model answers HTTP 500; the backup model answers
  offline   the first model twice gives prose, the backup is rate-limited: offline turn

The scripted content only echoes the offline reasoner's top hypothesis for the scenario's
evidence, so the figures say nothing about how good an LLM would be: they show that each
reply reaches the thread, the case state and the turn row, and what each turn costs in
tokens. `prompt` and `compl` are the turn row's figures: the usage the fake server reported
(about 4 characters a token of what was really sent), every call of the turn summed; they are
checked against what the fake billed. `sent` is the first call of the turn (JSON schema
included) and `full` the same turn with the whole thread and every evidence detail, both by
litellm's tokenizer. `rep` says a repair request was sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore")
for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(var, None)
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import psycopg  # noqa: E402
from psycopg_pool import AsyncConnectionPool  # noqa: E402

from engine.cases.service import CaseService  # noqa: E402
from engine.cases.turns import answer_key  # noqa: E402
from engine.core.config import Settings  # noqa: E402
from engine.core.errors import FaultMavenError  # noqa: E402
from engine.core.models import MentionRequest, MessageRequest, ThreadRef  # noqa: E402
from engine.core.replies import AnswerReply  # noqa: E402
from engine.evidence.analyze import analyze  # noqa: E402
from engine.evidence.reports import AnyReport  # noqa: E402
from engine.investigate.llm import LLM, with_schema  # noqa: E402
from engine.investigate.reasoner import investigate_offline  # noqa: E402
from engine.investigate.result import LLMTurn  # noqa: E402
from engine.ops.embedded import EmbeddedServices  # noqa: E402
from engine.store import investigation, replies  # noqa: E402
from engine.store.db import open_pool  # noqa: E402
from engine.store.migrate import apply_migrations  # noqa: E402
from tests.fakes.memory import MemoryFiles, MemoryReplier  # noqa: E402
from tests.fakes.openai import (  # noqa: E402
    FakeOpenAI,
    RecordedRequest,
    Reply,
    Status,
    Step,
    estimate_tokens,
)
from tests.scenarios.suite import Scenario, load_scenarios  # noqa: E402

MODELS = ["openai/primary", "openai/backup"]
MODES = ("json", "fenced", "repaired", "fallback", "offline")
# (engine, model, chat completion calls) each mode should give.
EXPECTED: dict[str, tuple[str, str | None, int]] = {
    "json": ("llm", "openai/primary", 1),
    "fenced": ("llm", "openai/primary", 1),
    "repaired": ("llm", "openai/primary", 2),
    "fallback": ("llm", "openai/backup", 2),
    "offline": ("offline", None, 3),
}
FOLLOW_UPS = [
    "What should we check next to confirm it?",
    "Summarise for the incident channel: what happened and what is left to do?",
]
CHATTER = [
    "Paged the on-call of the gateway team; they see the same errors on their dashboards.",
    "Support says customers in several regions report failed orders since the alert fired.",
    "I'm pulling the deploy history for the last 24 hours and will post it here.",
]
REPAIR_MARK = "Your reply could not be used"


@dataclass
class TurnFigures:
    scenario: str
    number: int
    mode: str
    engine: str
    model: str | None
    calls: int
    repaired: bool
    prompt: int
    completion: int
    billed: int  # prompt tokens the fake reported for the turn's calls
    sent: int
    full_history: int
    seconds: float
    problems: list[str]


def scripted_turn(scenario: Scenario, reports: list[AnyReport], number: int) -> dict[str, Any]:
    """An LLMTurn that repeats what the offline reasoner already concludes from the files."""
    offline = investigate_offline(scenario.answer.question, [], reports)
    lead = offline.hypotheses[0] if offline.hypotheses else None
    hypotheses = []
    if lead is not None:
        hypotheses.append(
            {
                "id": lead.id,
                "statement": lead.statement,
                "component": lead.component,
                "category": lead.category,
                "confidence": min(1.0, lead.confidence + 0.05 * number),
                "status": "proposed",
                "supporting": [c.model_dump(mode="json") for c in lead.supporting[:2]],
                "checks": lead.checks[:3],
            }
        )
    conclusion = lead.statement if lead else "no failure in the evidence"
    return {
        "response_type": "answer" if number == 1 else "plan",
        "answer": f"[turn {number}] *Most likely:* {conclusion}",
        "working_conclusion": f"{conclusion} (turn {number})",
        "confidence": 0.5 + 0.1 * number,
        "hypotheses": hypotheses,
        "next_steps": (lead.checks[:3] if lead else []) or ["keep watching the error rate"],
        "commands": [],
    }


def script(fake: FakeOpenAI, mode: str, good: str) -> None:
    prose = "I looked at the logs and I think it is the database. Restart it?"
    steps: dict[str, list[Step]] = {
        "json": [Reply(good)],
        "fenced": [Reply(f"Here is my analysis:\n```json\n{good}\n```\nHope this helps!")],
        "repaired": [Reply(prose), Reply(good)],
        "fallback": [Status(500)],
        "offline": [Reply(prose), Reply("Really, restart the database.")],
    }
    fake.script(*steps[mode], model="primary")
    if mode == "fallback":
        fake.script(Reply(good), model="backup")
    if mode == "offline":
        fake.script(Status(429, retry_after=0), model="backup")


async def run_scenario(
    index: int,
    scenario: Scenario,
    pool: AsyncConnectionPool,
    settings: Settings,
    fake: FakeOpenAI,
) -> list[TurnFigures]:
    files, replier = MemoryFiles(), MemoryReplier()
    llm = LLM(MODELS, api_base=fake.base_url, api_key="sk-fake", timeout_s=10, retries=0)
    service = CaseService(pool, settings, replier=replier, files=files, llm=llm)
    thread = ThreadRef(team_id="T1", channel_id="CBENCH", thread_ts=f"1700000000.{index:06d}")
    refs = [files.add(f"{scenario.name}/{p.name}", p.name, p.read_bytes()) for p in scenario.files]
    reports: list[AnyReport] = []
    for path in scenario.files:
        try:
            reports.append(analyze(path.name, path.read_bytes()))
        except FaultMavenError:
            continue
    figures: list[TurnFigures] = []
    questions = [scenario.answer.question, *FOLLOW_UPS]
    for number, question in enumerate(questions, 1):
        if number == 2:
            for i, text in enumerate(CHATTER):
                said = f"17000002{i:02d}.{index:06d}"
                await service.record_message(
                    MessageRequest(thread=thread, ts=said, user=f"U{2 + i}", text=text)
                )
        mode = MODES[(index * len(questions) + number - 1) % len(MODES)]
        wanted = scripted_turn(scenario, reports, number)
        script(fake, mode, json.dumps(wanted))
        before = len(fake.requests)
        ts = f"17000001{number:02d}.{index:06d}"
        request = MentionRequest(
            thread=thread,
            ts=ts,
            user="U1",
            text=question,
            files=refs if number == 1 else [],
        )
        started = time.perf_counter()
        await service.answer_mention(request, key=f"{scenario.name}:{number}")
        seconds = time.perf_counter() - started
        sent = fake.requests[before:]
        figures.append(
            await check_turn(
                service, replier, fake, thread, scenario, mode, wanted, number, ts, sent
            )
        )
        figures[-1].seconds = seconds
    return figures


async def check_turn(
    service: CaseService,
    replier: MemoryReplier,
    fake: FakeOpenAI,
    thread: ThreadRef,
    scenario: Scenario,
    mode: str,
    wanted: dict[str, Any],
    number: int,
    ts: str,
    sent: list[RecordedRequest],
) -> TurnFigures:
    """What the turn stored and posted, against what its scripted replies should give."""
    problems: list[str] = []
    engine, model, calls = EXPECTED[mode]
    case = await service.case_for_thread(thread.channel_id, thread.thread_ts)
    assert case is not None
    rows = await investigation.turns(service.pool, case.id)
    row = rows[-1] if rows else None
    if row is None or row.number != number:
        problems.append(f"no turn row {number}")
    if fake.pending_steps:
        problems.append(f"{fake.pending_steps} scripted replies unused")
    if len(sent) != calls:
        problems.append(f"{len(sent)} calls, expected {calls}")
    posted = await replies.find(service.pool, answer_key(case.id, ts))
    shown = next((p.latest for p in replier.posted if posted and p.ts == posted[1]), None)
    if not isinstance(shown, AnswerReply):
        problems.append("no answer in the thread")
    elif shown.engine != engine or shown.model != model:
        problems.append(f"answered by {shown.engine}/{shown.model}")
    elif engine == "llm" and shown.text != wanted["answer"]:
        problems.append("posted text differs from the LLM's answer")
    if row is not None:
        if (row.engine, row.model) != (engine, model):
            problems.append(f"row says {row.engine}/{row.model}")
        if engine == "llm":
            if row.result.working_conclusion != wanted["working_conclusion"]:
                problems.append("stored conclusion differs")
            lead = wanted["hypotheses"][0]["id"] if wanted["hypotheses"] else None
            if lead and (not row.result.hypotheses or row.result.hypotheses[0].id != lead):
                problems.append("stored lead hypothesis differs")
            answered = sum(1 for r in sent if isinstance(r.step, Reply))
            if len(row.result.usage) != answered:
                problems.append(f"{len(row.result.usage)} usage entries for {answered} replies")
        stored = {h.id for h in await investigation.hypotheses(service.pool, case.id)}
        if any(h.id not in stored for h in row.result.hypotheses):
            problems.append("hypotheses table out of step")
    billed = sum(billed_prompt(r) for r in sent)
    if engine == "llm" and row is not None and row.prompt_tokens != billed:
        problems.append(f"row says {row.prompt_tokens} prompt tokens, the LLM billed {billed}")
    repaired = any(str(r.messages[-1].get("content", "")).startswith(REPAIR_MARK) for r in sent)
    return TurnFigures(
        scenario=scenario.name,
        number=number,
        mode=mode,
        engine=row.engine if row else "-",
        model=row.model if row else None,
        calls=len(sent),
        repaired=repaired,
        prompt=row.prompt_tokens if row else 0,
        completion=row.completion_tokens if row else 0,
        billed=billed,
        sent=service.llm.count_tokens(sent[0].messages) if sent else 0,
        full_history=row.full_history_tokens if row else 0,
        seconds=0.0,
        problems=problems,
    )


def billed_prompt(request: RecordedRequest) -> int:
    """The prompt tokens the fake reported for a request it answered (its own estimate)."""
    step = request.step
    if not isinstance(step, Reply):
        return 0  # an HTTP error: no completion, no usage
    if step.prompt_tokens is not None:
        return step.prompt_tokens
    return sum(estimate_tokens(str(m.get("content") or "")) + 3 for m in request.messages) + 3


async def migrated_pool(url: str) -> AsyncConnectionPool:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await apply_migrations(conn)
    return await open_pool(url, max_size=4)


def print_table(figures: list[TurnFigures], scenarios: int, wall_s: float) -> None:
    header = (
        f"{'scenario':28} {'t':>1} {'mode':8} {'engine':7} {'model':14} {'calls':>5} {'rep':>3} "
        f"{'prompt':>6} {'compl':>5} {'sent':>5} {'full':>5} {'s':>5}  stored"
    )
    print(header)
    print("-" * len(header))
    for f in figures:
        stored = "ok" if not f.problems else "FAIL: " + "; ".join(f.problems)
        print(
            f"{f.scenario[:28]:28} {f.number:>1} {f.mode:8} {f.engine:7} {f.model or '-':14} "
            f"{f.calls:>5} {'yes' if f.repaired else '-':>3} {f.prompt:>6} {f.completion:>5} "
            f"{f.sent:>5} {f.full_history:>5} {f.seconds:>5.2f}  {stored}"
        )
    llm = [f for f in figures if f.engine == "llm"]
    offline = [f for f in figures if f.engine == "offline"]
    ok = sum(1 for f in figures if not f.problems)
    print(
        f"\n{len(figures)} turns over {scenarios} scenarios in {wall_s:.1f} s; "
        f"turn results stored as expected: {ok}/{len(figures)}"
    )
    by_mode = ", ".join(
        f"{m} {sum(1 for f in llm if f.mode == m)}/{sum(1 for f in figures if f.mode == m)}"
        for m in MODES
    )
    print(f"answered by the LLM, per mode: {by_mode}")
    print(
        f"LLM turns {len(llm)} ({sum(1 for f in llm if f.model == MODELS[1])} on the backup "
        f"model, {sum(1 for f in llm if f.repaired)} after a repair), offline {len(offline)}; "
        f"chat completion calls {sum(f.calls for f in figures)}"
    )
    print(
        f"tokens stored in turn rows: prompt {sum(f.prompt for f in figures)}, "
        f"completion {sum(f.completion for f in figures)}; prompt tokens billed by the failed "
        f"attempts of offline turns: {sum(f.billed for f in offline)} "
        f"(stored: {sum(f.prompt for f in offline)})"
    )
    for number in sorted({f.number for f in figures}):
        these = [f for f in figures if f.number == number]
        single = [f for f in these if f.engine == "llm" and f.calls == 1]
        sent = sum(f.sent for f in these) / len(these)
        full = sum(f.full_history for f in these) / len(these)
        billed = sum(f.prompt for f in single) / len(single) if single else 0.0
        print(
            f"turn {number}: mean sent {sent:.0f} vs full history {full:.0f} tokens "
            f"(sent/full {sent / full:.2f}); one-call LLM turns ({len(single)}) stored "
            f"prompt {billed:.0f}"
        )
    schema = LLM(MODELS[:1]).count_tokens(with_schema([], LLMTurn.model_json_schema()))
    print(f"(`sent` includes the JSON schema instruction, {schema} tokens; `full` does not)")
    seconds = sorted(f.seconds for f in figures)
    print(
        f"turn time: median {seconds[len(seconds) // 2]:.2f} s, max {seconds[-1]:.2f} s "
        "(the first includes litellm's import)"
    )


async def main(budget: int) -> int:
    logging.basicConfig(level=logging.ERROR)
    scenarios = load_scenarios()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fm-bench-llm-") as tmp:
        embedded = EmbeddedServices(Path(tmp))
        values: dict[str, Any] = {
            "database_url": embedded.postgres_url(),
            "data_dir": Path(tmp),
            "llm_model": None,  # the LLM is given to CaseService, whatever the environment says
            "llm_fallback_models": [],
            "prompt_budget_tokens": budget,
        }
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        assert settings.database_url is not None
        pool = await migrated_pool(settings.database_url)
        figures: list[TurnFigures] = []
        try:
            async with FakeOpenAI() as fake:
                for index, scenario in enumerate(scenarios):
                    figures += await run_scenario(index, scenario, pool, settings, fake)
        finally:
            await pool.close()
            embedded.close()
    print_table(figures, len(scenarios), time.perf_counter() - started)
    return 0 if all(not f.problems for f in figures) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--budget",
        type=int,
        default=6000,
        help="prompt token budget per turn (LLM_PROMPT_BUDGET_TOKENS); lower it to see trimming",
    )
    sys.exit(asyncio.run(main(parser.parse_args().budget)))
