"""The offline reasoner's structured turn: hypotheses tied to suspects, from evidence alone."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bot.cli.main import app
from engine.evidence.analyze import analyze
from engine.evidence.reports import AnyReport
from engine.investigate.reasoner import investigate_offline
from tests.samples import healthy_log
from tests.samples.incident import json_lines, plain_log


def incident_reports() -> list[AnyReport]:
    return [
        analyze("checkout.log", plain_log("checkout", offset_hours=2)),
        analyze("payments.json", json_lines("payments")),
        analyze("search.log", plain_log("search")),
    ]


def test_the_suspects_own_failure_leads_and_the_victims_comes_later() -> None:
    result = investigate_offline("checkout is failing", [], incident_reports())
    top = result.hypotheses[0]
    assert (top.signature, top.component) == ("db-pool-exhausted", "payments")
    assert top.supporting[0].source == "payments.json"
    victim = next(h for h in result.hypotheses if h.signature == "http-5xx")
    assert victim.component == "checkout" and victim.confidence < top.confidence
    assert result.phase == "diagnosing" and result.response_type == "answer"
    assert "payments" in result.working_conclusion
    assert any("pg_stat_activity" in c for c in result.commands)


def test_a_healthy_case_says_so() -> None:
    result = investigate_offline("anything wrong?", [], [analyze("web.log", healthy_log(400))])
    assert result.suspects == []
    assert result.working_conclusion.startswith("Nothing in the evidence looks like an incident")


def test_no_evidence_asks_for_it_and_keeps_what_was_said() -> None:
    result = investigate_offline("is it DNS? we see NXDOMAIN", [], [])
    assert result.response_type == "needs_more_data" and result.phase == "consulting"
    [said] = result.hypotheses
    assert said.signature == "dns" and said.confidence <= 0.1


def test_investigate_cli_prints_the_structured_result(tmp_path: Path) -> None:
    for name, data in [
        ("checkout.log", plain_log("checkout")),
        ("payments.json", json_lines("payments")),
    ]:
        (tmp_path / name).write_bytes(data)
    files = [str(tmp_path / "checkout.log"), str(tmp_path / "payments.json")]
    result = CliRunner().invoke(app, ["investigate", *files, "-q", "why?", "--json"])
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["suspects"][0]["component"] == "payments"
    assert {"component", "score", "reasons"} <= set(out["suspects"][0])
    assert out["hypotheses"][0]["signature"] == "db-pool-exhausted"
    assert out["usage"] == []  # offline: no LLM tokens
    text = CliRunner().invoke(app, ["investigate", *files]).output
    assert text.splitlines()[0].startswith("The database connection pool is exhausted")


def _service_log(
    service: str | None, failure: str, *, level: str = "error", every: int = 5
) -> bytes:
    """Quiet until 13:40, then `failure` every few seconds; `service=None` names nobody."""
    who = f" service={service}" if service else ""
    lines = []
    for second in range(0, 3600, every):
        minute, sec = divmod(second, 60)
        broken = minute >= 40
        msg, lvl = (failure, level) if broken else ("request ok", "info")
        lines.append(f'ts=2026-11-21T13:{minute:02d}:{sec:02d}Z level={lvl}{who} msg="{msg}"')
    return "\n".join(lines).encode()


def test_a_callers_account_of_how_its_callee_fails_is_about_the_callee() -> None:
    caller = _service_log("orders", "connect to ledger-db:5432 failed: connection refused")
    ledger_db = _service_log("ledger-db", "FATAL: the database system is shutting down", every=30)
    result = investigate_offline(
        "?", [], [analyze("orders.log", caller), analyze("ledger-db.log", ledger_db)]
    )
    top = result.hypotheses[0]
    assert (top.signature, top.component) == ("conn-refused", "ledger-db")
    assert top.supporting[0].source == "orders.log"


def test_a_log_that_names_nobody_still_speaks_for_its_writer() -> None:
    caller = _service_log("orders", "publish failed: TimeoutException after 5000 ms")
    broker = _service_log(
        None, "Error appending to log: java.io.IOException: No space left on device"
    )
    result = investigate_offline(
        "?", [], [analyze("orders.log", caller), analyze("server.log", broker)]
    )
    assert result.hypotheses[0].signature == "disk-full"


def test_one_line_two_readings_the_specific_one_leads() -> None:
    line = (
        "charge failed: HikariPool-1 - Connection is not available, request timed out after 30000ms"
    )
    result = investigate_offline("?", [], [analyze("payments.log", _service_log("payments", line))])
    assert [h.signature for h in result.hypotheses[:2]] == ["db-pool-exhausted", "timeout"]


def test_a_connection_that_could_not_be_established_is_a_refusal() -> None:
    from engine.investigate.signatures import match

    text = "Connection to node 0 (broker-0/10.0.0.5:9092) could not be established."
    assert match(text)[0].id == "conn-refused"
