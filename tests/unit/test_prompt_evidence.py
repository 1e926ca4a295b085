"""What the model sees of the evidence: the lines an answer needs, within the budget, masked.

Prompts are built as a turn builds them (engine/investigate/memory.build_prompt) with the
uploads' bytes (`PromptSources`), and counted with litellm's tokenizer for gpt-4o-mini.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import litellm
import pytest

from engine.core.models import Case, Message
from engine.core.redact import Redactor
from engine.evidence.analyze import analyze, summarize_report
from engine.evidence.reports import Evidence
from engine.investigate.excerpts import KnowledgeText, PromptSources
from engine.investigate.memory import CaseState, Prompt, build_prompt

T0 = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 21, 14, 30, tzinfo=UTC)
REDACTOR = Redactor()
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios" / "cases"


def gpt_tokens(messages: list[dict[str, str]]) -> int:
    return int(litellm.token_counter(model="gpt-4o-mini", messages=messages))


def item(i: int, name: str, data: bytes) -> Evidence:
    report = analyze(name, data, redactor=REDACTOR)
    return Evidence(
        id=i,
        case_id=1,
        source_id=f"F{i}",
        name=name,
        kind=report.kind,
        size_bytes=len(data),
        sha256=None,
        status="analysed",
        summary=summarize_report(report),
        report=report,
        created_at=T0,
    )


def prompt_for(
    files: dict[str, bytes],
    question: str,
    *,
    budget: int = 6000,
    with_bytes: bool = True,
    history: list[Message] | None = None,
    knowledge: list[KnowledgeText] | None = None,
) -> Prompt:
    evidence = [item(i, name, data) for i, (name, data) in enumerate(files.items(), 1)]
    contents = {e.id: data for e, data in zip(evidence, files.values(), strict=True)}
    asked = Message(id=99, case_id=1, ts="9.9", author="U1", role="user", text=question,
                    created_at=NOW)  # fmt: skip
    sources = PromptSources.of(evidence, contents if with_bytes else {}, REDACTOR, now=NOW)
    sources.knowledge = knowledge or []
    case = Case(id=1, team_id="T1", channel_id="C1", thread_ts="1.0", title="checkout fails",
                status="open", phase="diagnosing", opened_by="U1", created_at=T0,
                updated_at=NOW)  # fmt: skip
    return build_prompt(
        case,
        [*(history or []), asked],
        evidence,
        CaseState(),
        question,
        "U1",
        REDACTOR,
        count_tokens=gpt_tokens,
        budget_tokens=budget,
        sources=sources,
    )


def flat(prompt: Prompt) -> str:
    """The user message with runs of spaces as one (a verbatim `Exit Code:    137`)."""
    return " ".join(prompt.messages[-1]["content"].split())


# --- a Java service log: an error with its stack, INFO lines around it ---------------------


def java_log() -> bytes:
    """400 INFO lines, then a stack trace at line 402 (too big to be quoted whole)."""
    lines = []
    at = T0
    for n in range(400):
        at += timedelta(seconds=0.2)
        lines.append(f"{at:%Y-%m-%d %H:%M:%S}.000  INFO 1 --- [http-{n % 4}] c.e.CartController "
                     f": GET /cart/{n} served in {10 + n % 7} ms")  # fmt: skip
    at += timedelta(seconds=1)
    lines.append(f"{at:%Y-%m-%d %H:%M:%S}.100  INFO 1 --- [pool-stats] c.e.PoolMonitor "
                 ": HikariPool-1 stats (total=10, active=10, idle=0, waiting=4)")  # fmt: skip
    at += timedelta(seconds=1)
    lines += [
        f"{at:%Y-%m-%d %H:%M:%S}.200 ERROR 1 --- [http-2] c.e.PaymentClient "
        ": Charge failed for order 991",
        "java.lang.IllegalStateException: no connection for the charge",
        "\tat com.example.pay.PaymentClient.charge(PaymentClient.java:88)",
        "\tat com.example.checkout.CheckoutService.place(CheckoutService.java:41)",
        "Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is "
        "not available, request timed out after 3000ms",
        "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)",
        f"{at:%Y-%m-%d %H:%M:%S}.300  INFO 1 --- [http-2] c.e.RetryPolicy "
        ": retrying order 991 in 200 ms",
    ]
    for n in range(30):
        at += timedelta(seconds=3)
        level = "ERROR" if n % 3 == 0 else " INFO"
        text = "Charge failed for order 99{n}" if level == "ERROR" else "GET /cart/{n} served"
        lines.append(f"{at:%Y-%m-%d %H:%M:%S}.000 {level} 1 --- [http-1] c.e.X : "
                     + text.format(n=n))  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def test_the_first_error_comes_with_its_stack_and_the_info_lines_around_it() -> None:
    text = flat(prompt_for({"checkout.log": java_log()}, "why do charges fail?"))
    # the error itself, marked, with its line number, and every frame of its stack
    assert "L402>> 2026-11-21 14:01:22.200 ERROR" in text
    assert "at com.example.pay.PaymentClient.charge(PaymentClient.java:88)" in text
    assert "Caused by: java.sql.SQLTransientConnectionException: HikariPool-1" in text
    assert "at com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)" in (
        text
    )
    # what the service logged right before and after, INFO included
    assert "HikariPool-1 stats (total=10, active=10, idle=0, waiting=4)" in text
    assert "retrying order 991 in 200 ms" in text
    assert "GET /cart/391 served in" in text  # ten records back


def test_without_the_files_bytes_the_report_alone_is_quoted() -> None:
    text = flat(prompt_for({"checkout.log": java_log()}, "why?", with_bytes=False))
    assert "Charge failed for order" in text  # the template and its example
    assert "HikariPool-1 stats" not in text  # no neighbours without the file


# --- a config value, found by the question ------------------------------------------------


def big_properties() -> bytes:
    lines = [f"FEATURE_{i}_TIMEOUT_MS = {100 + i}" for i in range(600)]
    lines.insert(300, "DB_POOL_SIZE = 5")
    return ("\n".join(lines) + "\n").encode()


def test_the_pool_size_reaches_the_prompt_when_the_question_is_about_the_pool() -> None:
    files = {"application.properties": big_properties(), "checkout.log": java_log()}
    assert len(files["application.properties"]) > 12_000  # not small enough to go whole
    text = flat(prompt_for(files, "why is the connection pool exhausted?"))
    assert "DB_POOL_SIZE = 5" in text
    other = flat(prompt_for(files, "why is the disk of the kafka broker full?"))
    assert "DB_POOL_SIZE = 5" not in other  # ranked by the question, not shown regardless


# --- Kubernetes state: an OOMKilled pod ----------------------------------------------------


def test_an_oomkilled_describe_reaches_the_prompt_with_its_finding_and_lines() -> None:
    describe = (SCENARIOS / "inventory-oomkilled" / "describe.txt").read_bytes()
    text = flat(prompt_for({"describe.txt": describe}, "why does inventory keep restarting?"))
    assert "finding: OOMKilled" in text and "512Mi" in text
    # the lines themselves, as kubectl printed them
    for line in ("Last State: Terminated", "Reason: OOMKilled", "Exit Code: 137",
                 "Restart Count: 6", "Limits: memory: 512Mi",
                 "Back-off restarting failed container inventory"):  # fmt: skip
        assert line in text, line


# --- secrets -----------------------------------------------------------------------------

KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7d9\nq8Zb1x\n-----END RSA PRIVATE KEY-----"


def test_secrets_are_masked_in_files_quoted_whole_and_in_log_windows() -> None:
    config = (
        b"DB_HOST=payments-db\nDB_USER=app\nDB_PASSWORD=hunter2pass\n"
        b"SLACK_TOKEN=xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp\n"
    )
    log = (
        "2026-11-21 14:00:00 INFO loading key\n"
        + KEY
        + "\n2026-11-21 14:00:01 ERROR dial failed: DSN=app:s3cr3tpw@tcp(db:3306)/orders\n"
        "2026-11-21 14:00:02 INFO shutting down\n"
    ).encode()
    prompt = prompt_for({"app.env": config, "app.log": log}, "why?")
    sent = "\n".join(m["content"] for m in prompt.messages)
    for secret in ("hunter2pass", "xoxb-1234567890", "MIIEowIBAAKCAQEA7d9", "q8Zb1x", "s3cr3tpw"):
        assert secret not in sent, secret
    assert "DB_HOST=payments-db" in sent  # the rest of the file is there, as written
    assert "[password:" in sent and "[token:" in sent


# --- the budget --------------------------------------------------------------------------


def scenario_files(name: str) -> dict[str, bytes]:
    folder = SCENARIOS / name
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "answer.yaml"}


@pytest.mark.parametrize("budget", [1500, 3000, 6000, 12000])
def test_the_budget_is_respected_and_what_it_leaves_goes_to_evidence(budget: int) -> None:
    files = scenario_files("payments-pool-exhausted")
    prompt = prompt_for(files, "Checkout is failing since about 14:07 UTC, what is going on?",
                        budget=budget)  # fmt: skip
    assert prompt.prompt_tokens == gpt_tokens(prompt.messages)
    assert prompt.prompt_tokens <= budget
    if budget == 6000:
        # not 10% of the budget and 4 lines a file: the evidence takes what the rest leaves
        assert prompt.prompt_tokens > 0.9 * budget
        assert prompt.kept.details_kept > 4 * len(files)


def test_an_error_past_the_records_read_is_shown_by_its_line_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A huge log is parsed for its head only; an error further on still gets its lines."""
    from engine.investigate import excerpts, log_excerpts

    monkeypatch.setattr(log_excerpts, "MAX_RECORD_SCAN_CHARS", 5_000)
    monkeypatch.setattr(excerpts, "_CACHE", {})
    text = flat(prompt_for({"checkout.log": java_log()}, "why do charges fail?"))
    assert "L402>> 2026-11-21 14:01:22.200 ERROR" in text
    assert "HikariPool-1 stats (total=10, active=10, idle=0, waiting=4)" in text
