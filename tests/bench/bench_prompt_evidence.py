"""What the model sees: are the facts a right answer needs in the prompt, and at what cost?

For each generated scenario (tests/scenarios/cases/) and each real case with facts in its
files (../shared/data/k8s-troubleshooting: the cases with a root-cause key; real-incidents'
k8s-faults: the manifest of each fault with its error), the case's files are read as uploads
are, the offline turn runs, and the prompt of one turn is built exactly as a turn builds it
(same budget, same token counter). Each fact of `prompt_evidence_facts.yaml` (written per
case before the first run) is looked up in the prompt: recall = facts found / facts listed.

Tokens per turn are the prompt's tokens plus the schema instruction sent with it: the whole
JSON schema where the provider does not enforce one (`prompt` / `json_object` mode), what
llm.py sends where it does (`json_schema`). Counted with litellm's gpt-4o-mini tokenizer.

The figures of the code before the change that made the prompt quote evidence parts are in
`prompt_evidence_before.json`: this script, run on that code (report detail lines only, 10 %
of the budget, the whole JSON schema in every mode), with the same facts file; they are printed
beside today's. The suspect matcher was widened after that run to the names each scenario's
answer key accepts (its pod, `dns` for coredns); the prompt before listed no suspects at all.

    .venv/bin/python tests/bench/bench_prompt_evidence.py [-v] [--only SET] [--budget N]
        [--show CASE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price-map fetch at import

import litellm  # noqa: E402

from engine.cases.local_files import analyse_local_files  # noqa: E402
from engine.core.models import Case, Message  # noqa: E402
from engine.core.redact import Redactor  # noqa: E402
from engine.evidence.analyze import summarize_report  # noqa: E402
from engine.evidence.reports import Evidence  # noqa: E402
from engine.investigate import llm as llm_module  # noqa: E402
from engine.investigate import memory  # noqa: E402
from engine.investigate.excerpts import PromptSources  # noqa: E402
from engine.investigate.reasoner import investigate_offline  # noqa: E402
from engine.investigate.reply_schema import reply_schema  # noqa: E402
from engine.investigate.result import LLMTurn  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SCENARIOS = ROOT / "tests" / "scenarios" / "cases"
K8S = DATA / "k8s-troubleshooting"
FAULTS = DATA / "real-incidents" / "k8s-faults"
FACTS = Path(__file__).with_name("prompt_evidence_facts.yaml")
BEFORE = Path(__file__).with_name("prompt_evidence_before.json")
MODEL = "gpt-4o-mini"
MAX_FILE_BYTES = 200 * 1024 * 1024
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SETS = ("scenarios", "k8s-troubleshooting", "k8s-faults")
REAL_SETS = ("k8s-troubleshooting", "k8s-faults")


@dataclass
class BenchCase:
    set: str
    name: str
    question: str
    files: list[Path]
    facts: list[dict[str, str]]
    aliases: list[str] = field(default_factory=list)  # names the answer key accepts


def count_tokens(messages: list[dict[str, str]]) -> int:
    return int(litellm.token_counter(model=MODEL, messages=messages))


# --- the cases ---------------------------------------------------------------------------


def _k8s_question(case: Path) -> str:
    raw = yaml.safe_load((case / "test_case.yaml").read_text()).get("user_prompt") or ""
    return " ".join(raw) if isinstance(raw, list) else str(raw)


def _fault_upload(fault: Path, into: Path) -> tuple[str, Path]:
    """The question (the prompt's first line and its Error line) and its manifest as a file."""
    text = (fault / "prompt.txt").read_text()
    manifest = re.search(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert manifest is not None, fault
    first = text.splitlines()[0]
    error = next((line for line in text.splitlines() if line.startswith("Error:")), "")
    kind = re.search(r"^kind: (\w+)", manifest.group(1), re.MULTILINE)
    name = re.search(r"^  name: (\S+)", manifest.group(1), re.MULTILINE)
    path = into / f"{(kind.group(1) if kind else 'manifest').lower()}-"
    path = Path(f"{path}{name.group(1) if name else fault.name}.yaml")
    path.write_text(manifest.group(1))
    return f"{first.split('.')[0]}. {error}", path


def cases(only: str | None) -> Iterator[BenchCase]:
    facts = yaml.safe_load(FACTS.read_text())
    if only in (None, "scenarios"):
        for name, listed in facts["scenarios"].items():
            folder = SCENARIOS / name
            answer = yaml.safe_load((folder / "answer.yaml").read_text())
            files = sorted(p for p in folder.iterdir() if p.name != "answer.yaml")
            aliases = [str(a) for a in answer.get("acceptable_components") or []]
            yield BenchCase("scenarios", name, answer["question"], files, listed, aliases)
    if only in (None, "k8s-troubleshooting") and K8S.exists():
        for name, listed in facts["k8s-troubleshooting"].items():
            folder = K8S / name
            files = sorted(p for p in folder.iterdir() if p.name != "test_case.yaml")
            yield BenchCase("k8s-troubleshooting", name, _k8s_question(folder), files, listed)
    if only in (None, "k8s-faults") and FAULTS.exists():
        tmp = Path(tempfile.mkdtemp(prefix="fm-faults-"))
        for name, listed in facts["k8s-faults"].items():
            into = tmp / name
            into.mkdir()
            question, path = _fault_upload(FAULTS / "faults" / name, into)
            yield BenchCase("k8s-faults", name, question, [path], listed)


# --- one turn's prompt -------------------------------------------------------------------


def evidence_of(case: BenchCase, redactor: Redactor) -> tuple[list[Evidence], dict[int, bytes]]:
    """The files as a case holds them (reports, summaries), and each upload's bytes."""
    out: list[Evidence] = []
    raw: dict[int, bytes] = {}
    reads = analyse_local_files(case.files, max_file_bytes=MAX_FILE_BYTES, redactor=redactor)
    for i, (path, read) in enumerate(zip(case.files, reads, strict=True), 1):
        report = read.report
        out.append(
            Evidence(
                id=i,
                case_id=1,
                source_id=path.name,
                name=path.name,
                kind=report.kind if report is not None else "unknown",
                size_bytes=path.stat().st_size,
                sha256=None,
                status="analysed" if report is not None else "rejected",
                summary=summarize_report(report) if report is not None else read.problem,
                report=report,
                created_at=NOW,
            )
        )
        raw[i] = path.read_bytes()
    return out, raw


def build_turn_prompt(
    case: BenchCase, budget: int, redactor: Redactor
) -> tuple[memory.Prompt, list[Evidence]]:
    evidence, raw = evidence_of(case, redactor)
    reports = [e.report for e in evidence if e.report is not None]
    offline = investigate_offline(case.question, [case.question], reports)
    asked = Message(
        id=1, case_id=1, ts="1", author="U1", role="user", text=case.question, created_at=NOW
    )
    kase = Case(
        id=1,
        team_id="T1",
        channel_id="C1",
        thread_ts="1",
        title=case.question[:80],
        status="open",
        phase="diagnosing",
        opened_by="U1",
        created_at=NOW,
        updated_at=NOW,
    )
    state = memory.CaseState(
        working_conclusion=offline.working_conclusion, hypotheses=offline.hypotheses
    )
    prompt = memory.build_prompt(
        kase,
        [asked],
        evidence,
        state,
        case.question,
        "U1",
        redactor,
        count_tokens=count_tokens,
        budget_tokens=budget,
        sources=PromptSources.of(evidence, raw, redactor, now=NOW),
    )
    return prompt, evidence


def schema_tokens(mode: str) -> int:
    """Tokens of the schema instruction llm.py adds to a prompt in this JSON mode."""
    bare = [{"role": "user", "content": "x"}]
    sent = llm_module.with_schema(bare, reply_schema(LLMTurn), mode)  # type: ignore[arg-type]
    return count_tokens(sent) - count_tokens(bare)


# --- facts ---------------------------------------------------------------------------------


def _flat(text: str) -> str:
    return " ".join(text.split()).casefold()


def found(fact: dict[str, str], prompt_text: str, aliases: list[str]) -> bool:
    """Whether the prompt holds the fact. A suspect is listed with its score under its name
    or any name the scenario's answer key accepts for it (its pod, `dns` for coredns)."""
    flat = _flat(prompt_text)
    if "text" in fact:
        return _flat(fact["text"]) in flat
    if "re" in fact:
        return re.search(fact["re"], " ".join(prompt_text.split()), re.IGNORECASE) is not None
    for name in [fact["suspect"], *aliases]:
        component = re.escape(name.casefold())
        if re.search(rf"(?<![\w.-]){component} \((?:0\.\d\d|1\.00)\)", flat):
            return True
    return False


@dataclass
class Row:
    set: str
    name: str
    facts: int
    hits: int
    tokens: int
    missed: list[str]


def measure(case: BenchCase, budget: int, redactor: Redactor) -> tuple[Row, memory.Prompt]:
    prompt, _ = build_turn_prompt(case, budget, redactor)
    text = "\n".join(m["content"] for m in prompt.messages)
    hits = [found(f, text, case.aliases) for f in case.facts]
    missed = [
        f"{f['what']}: {f.get('text') or f.get('re') or f.get('suspect')}"
        for f, ok in zip(case.facts, hits, strict=True)
        if not ok
    ]
    row = Row(case.set, case.name, len(case.facts), sum(hits), prompt.prompt_tokens, missed)
    return row, prompt


def _recall(rows: list[Row]) -> str:
    facts = sum(r.facts for r in rows)
    hits = sum(r.hits for r in rows)
    return f"{hits}/{facts} ({hits / facts:.0%})" if facts else "-"


def _tokens(rows: list[Row], extra: int = 0) -> str:
    """Mean (and max) tokens per turn, plus `extra` (the schema instruction) each."""
    if not rows:
        return "-"
    values = sorted(r.tokens + extra for r in rows)
    return f"{sum(values) / len(values):,.0f} (max {values[-1]:,})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="every case, every miss")
    parser.add_argument("--only", choices=SETS)
    parser.add_argument("--budget", type=int, default=memory.DEFAULT_BUDGET_TOKENS)
    parser.add_argument("--show", help="print the prompt of this case")
    args = parser.parse_args()
    redactor = Redactor()
    rows: list[Row] = []
    for case in cases(args.only):
        if args.show and case.name != args.show:
            continue
        row, prompt = measure(case, args.budget, redactor)
        rows.append(row)
        if args.show:
            for message in prompt.messages:
                print(f"----- {message['role']}\n{message['content']}")
        if args.verbose or args.show:
            print(f"{row.hits}/{row.facts} {row.tokens:>5} tok  {row.set}/{row.name}", flush=True)
            for miss in row.missed:
                print(f"      missed {miss}")
    modes = {m: schema_tokens(m) for m in ("prompt", "json_schema")}
    saved = json.loads(BEFORE.read_text())
    before = [Row(**r) for r in saved["rows"]]
    old_schema = saved["schema_tokens"]["prompt"]  # the whole JSON schema, in every mode
    print(
        f"\nbudget {args.budget} tokens (before: the same), tokenizer {MODEL}. Sent per turn ="
        f" prompt + the schema instruction: before {old_schema} tokens in every JSON mode;"
        f" now {modes['prompt']} where the provider does not enforce the schema,"
        f" {modes['json_schema']} where it does (json_schema mode)."
    )
    print(
        "| Set | Cases | Facts in prompt (before → now) | Prompt tokens/turn (before → now)"
        " | Sent/turn, schema unenforced (before → now) | Sent/turn, json_schema mode (now) |"
    )
    print("|---|---|---|---|---|---|")
    for name in [*SETS, "real (both)"]:
        pick = REAL_SETS if name == "real (both)" else (name,)
        now = [r for r in rows if r.set in pick]
        then = [r for r in before if r.set in pick and any(n.name == r.name for n in now)]
        if not now:
            continue
        print(
            f"| {name} | {len(now)} | {_recall(then)} → {_recall(now)} "
            f"| {_tokens(then)} → {_tokens(now)} "
            f"| {_tokens(then, old_schema)} → {_tokens(now, modes['prompt'])} "
            f"| {_tokens(now, modes['json_schema'])} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
