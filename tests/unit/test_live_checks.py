"""Which live check tests which hypothesis, and how its answer is read."""

from __future__ import annotations

from engine.cases.live_checks import plan_check, with_check_labels
from engine.core.tool_runs import CheckResult, ToolRun
from engine.investigate.checks import apply_checks
from engine.investigate.result import Citation, Hypothesis, Investigation
from engine.tools.sources import parse_sources

ALL_TOOLS = {"postgres_diagnose", "http_probe", "dns_lookup", "tcp_connect"}
SOURCES = parse_sources(
    [
        {"name": "orders-db", "kind": "postgres", "channels": ["*"]},
        {"name": "payments-db", "kind": "postgres", "channels": ["*"]},
    ]
)


def _hypothesis(key: str, cited: str = "", signature: str | None = None) -> Hypothesis:
    return Hypothesis(
        id=key,
        statement="something failed",
        signature=signature,
        component=key.partition(":")[2] or None,
        confidence=0.6,
        supporting=[Citation(source="app.log", text=cited)] if cited else [],
    )


def _run(tool: str, facts: dict[str, object], ok: bool = True) -> ToolRun:
    return ToolRun(tool=tool, call=f"{tool}(…)", ok=ok, output="first line\nmore", facts=facts)


def test_pool_exhaustion_is_checked_on_the_database_named_like_its_component() -> None:
    planned = plan_check(_hypothesis("db-pool-exhausted:payments-db"), SOURCES, ALL_TOOLS)
    assert planned is not None
    assert (planned.tool, planned.arguments) == (
        "postgres_diagnose",
        {"source": "payments-db", "check": "connections"},
    )
    assert planned.judge(_run("postgres_diagnose", {"used": 97, "max": 100})) == (
        "supports",
        "97 of 100 connections in use (97%)",
    )
    assert planned.judge(_run("postgres_diagnose", {"used": 12, "max": 100}))[0] == "contradicts"
    assert planned.judge(_run("postgres_diagnose", {}))[0] == "unclear"


def test_without_a_source_or_a_host_no_check_is_offered() -> None:
    assert plan_check(_hypothesis("db-pool-exhausted:x"), parse_sources([]), ALL_TOOLS) is None
    assert plan_check(_hypothesis("tls:x", "handshake failed"), SOURCES, ALL_TOOLS) is None
    assert plan_check(_hypothesis("oom:x"), SOURCES, ALL_TOOLS) is None


def test_network_checks_take_their_target_from_the_cited_lines() -> None:
    tls = plan_check(
        _hypothesis("tls:api", "x509: certificate has expired for api.example.com:443"),
        SOURCES,
        ALL_TOOLS,
    )
    assert tls is not None and tls.arguments == {"url": "https://api.example.com:443"}
    assert tls.judge(_run("http_probe", {"days_left": -3}))[0] == "supports"
    assert tls.judge(_run("http_probe", {"days_left": 200, "verified": True}))[0] == "contradicts"
    refused = plan_check(
        _hypothesis("conn-refused:cart", "dial tcp redis-cart:6379: connect: connection refused"),
        SOURCES,
        ALL_TOOLS,
    )
    assert refused is not None and refused.arguments == {"host": "redis-cart", "port": 6379}
    assert refused.judge(_run("tcp_connect", {"connected": False, "error": "refused"}))[0] == (
        "supports"
    )
    dns = plan_check(
        _hypothesis("dns:web", "lookup db.internal.example.org: no such host"), SOURCES, ALL_TOOLS
    )
    assert dns is not None and dns.arguments == {"name": "db.internal.example.org"}
    assert dns.judge(_run("dns_lookup", {"rcode": "NXDOMAIN", "answers": 0}))[0] == "supports"


def test_a_check_confirms_or_weakens_and_names_itself() -> None:
    pool = _hypothesis("db-pool-exhausted:payments-db")
    tls = _hypothesis("tls:api")
    checks = [
        CheckResult(
            hypothesis_key=pool.id,
            tool="postgres_diagnose",
            call="postgres_diagnose(check='connections')",
            ok=True,
            verdict="supports",
            summary="97 of 100 connections in use (97%)",
            requested_by="U1",
        ),
        CheckResult(
            hypothesis_key=tls.id,
            tool="http_probe",
            call="http_probe(url='https://api')",
            ok=True,
            verdict="contradicts",
            summary="valid for 200 more days",
            requested_by="U1",
        ),
    ]
    confirmed, weakened = apply_checks([pool, tls], checks)
    assert confirmed.status == "confirmed" and confirmed.confidence >= 0.9
    assert confirmed.decided_by == "check `postgres_diagnose(check='connections')`"
    assert "97 of 100" in confirmed.supporting[0].text
    assert weakened.status == "proposed" and weakened.confidence == 0.3
    assert "200 more days" in weakened.contradicting[0].text


def test_only_open_hypotheses_carry_a_check_to_run() -> None:
    open_one = _hypothesis("db-pool-exhausted:orders-db")
    decided = _hypothesis("db-pool-exhausted:payments-db").model_copy(
        update={"status": "ruled_out"}
    )
    result = Investigation(
        response_type="answer",
        phase="diagnosing",
        working_conclusion="",
        confidence=0.5,
        hypotheses=[open_one, decided],
    )
    labelled = with_check_labels(result, lambda h: plan_check(h, SOURCES, ALL_TOOLS))
    assert labelled.hypotheses[0].live_check == (
        "postgres_diagnose(source='orders-db', check='connections')"
    )
    assert labelled.hypotheses[1].live_check is None
