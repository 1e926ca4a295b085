"""Suspects and the timeline of a whole case: every file combined, clocks reconciled."""

from __future__ import annotations

from engine.evidence.analyze import analyze
from engine.evidence.components import canonical, from_file_name, hosts_in, mentioned_in
from engine.evidence.suspects import rank_case_suspects
from engine.evidence.timeline import merged_timeline
from tests.samples import healthy_log
from tests.samples.incident import INCIDENT, json_lines, plain_log
from tests.samples.traces import incident, jaeger


def test_component_names_are_reconciled() -> None:
    assert canonical("Checkout-7d9f8c6b5-x2k4p") == "checkout"
    assert canonical("payments_service") == "payments"
    assert canonical("payments-db:5432") == "payments-db"
    assert from_file_name("logs.zip/app/payments-db.log.1") == "payments-db"
    assert from_file_name("checkout-7d9f8c6b5-x2k4p_default_checkout-abc.log") == "checkout"
    assert from_file_name("app.log") is None and from_file_name("metrics.csv") is None


def test_names_in_messages_are_whole_words() -> None:
    known = {"payments", "payments-db", "checkout"}
    assert mentioned_in("pool payments-db exhausted", known) == {"payments-db"}
    assert mentioned_in("upstream payments returned 503", known) == {"payments"}
    assert hosts_in("dial tcp payments-db:5432: connection refused") == {"payments-db"}


def test_the_service_whose_own_errors_start_it_leads_and_callers_are_victims() -> None:
    reports = [
        analyze("checkout.log", plain_log("checkout", offset_hours=2)),
        analyze("payments.json", json_lines("payments")),
        analyze("search.log", plain_log("search", offset_hours=-5)),
    ]
    suspects = rank_case_suspects(reports)
    assert [s.component for s in suspects] == ["payments", "checkout"]
    payments, checkout = suspects
    assert payments.first_signal == INCIDENT
    assert any("named in" in r and "checkout" in r for r in payments.reasons)
    assert "likely a victim" in checkout.reasons[0]
    assert checkout.score < payments.score / 1.5


def test_noise_that_was_always_there_is_not_a_suspect() -> None:
    suspects = rank_case_suspects([analyze("search.log", plain_log("search"))])
    assert suspects == []


def test_a_healthy_case_has_no_suspects() -> None:
    assert rank_case_suspects([analyze("web.log", healthy_log(400))]) == []


def test_traces_and_logs_agree_on_the_deepest_failing_service() -> None:
    trace = analyze("trace.json", jaeger(incident(client_spans=False, db_instrumented=True)))
    log = analyze("checkout.log", plain_log("checkout"))
    suspects = rank_case_suspects([trace, log])
    assert suspects[0].component == "payments-db"
    assert {"trace.json"} <= set(suspects[0].sources)


def test_the_timeline_merges_files_written_in_different_clocks() -> None:
    reports = [
        analyze("checkout.log", plain_log("checkout", offset_hours=2)),  # +02:00
        analyze("payments.json", json_lines("payments")),  # epoch milliseconds
        analyze("search.log", plain_log("search", offset_hours=-5)),  # -05:00
    ]
    events = merged_timeline(reports)
    assert events == sorted(events, key=lambda e: e.at)
    rises = [e for e in events if e.what.startswith("error rate")]
    assert {e.source for e in rises} == {"checkout.log", "payments.json"}
    assert {e.at for e in rises} == {INCIDENT}
    assert events[0].source == "search.log" and events[0].what.startswith("first error")
    assert any(e.what.startswith("stopped: `payment <*> authorized") for e in events)


def test_the_upstream_of_failing_requests_is_a_dependency() -> None:
    """A gateway's 'upstream returned error' with upstream=cart blames cart, not itself."""
    lines = []
    for second in range(0, 3600, 5):
        minute, sec = divmod(second, 60)
        stamp = f"2026-11-21T13:{minute:02d}:{sec:02d}Z" if minute < 60 else ""
        broken = minute >= 40
        level, msg = ("error", "upstream returned error") if broken else ("info", "request ok")
        lines.append(f'ts={stamp} level={level} service=api-gateway msg="{msg}" upstream=cart')
    gateway = analyze("gateway.log", "\n".join(lines).encode())
    [stats] = gateway.components  # type: ignore[union-attr]
    assert stats.error_peers == {"cart": 240}
    suspects = rank_case_suspects([gateway])
    assert suspects[0].component == "cart"
    assert "upstream of 240 failing requests of api-gateway" in suspects[0].reasons[0]
    assert "likely a victim" in suspects[1].reasons[0]


def test_spring_boot_names_its_application() -> None:
    line = (
        "2026-11-03T14:34:43.973+01:00 ERROR 1 --- [checkout] [nio-8080-exec-7] "
        "c.s.checkout.Api : charge failed"
    )
    report = analyze("pod-logs-b.log", line.encode())
    assert [c.name for c in report.components] == ["checkout"]  # type: ignore[union-attr]


def test_export_words_in_file_names_are_not_components() -> None:
    assert from_file_name("pod-logs-b.log") is None
    assert from_file_name("checkout-pods.log") == "checkout"
    assert from_file_name("pod-a.jsonl") is None


def _caller_log(service: str, failure: str, *, level: str = "error", every: int = 10) -> bytes:
    """A service fine until 13:40, then logging `failure` every few seconds."""
    lines = []
    for second in range(0, 3600, every):
        minute, sec = divmod(second, 60)
        stamp = f"2026-11-21T13:{minute:02d}:{sec:02d}Z"
        if minute >= 40:
            lines.append(f'ts={stamp} level={level} service={service} msg="{failure}"')
        else:
            lines.append(f'ts={stamp} level=info service={service} msg="request ok"')
    return "\n".join(lines).encode()


def test_host_names_in_java_addresses_and_not_in_durations() -> None:
    text = "Connection to node 1 (kafka-1.kafka-headless.svc/10.244.3.17:9092) failed"
    assert hosts_in(text) == {"kafka-1"}
    assert hosts_in("Expiring 1 record(s) for order-events-1:5009 ms has passed") == set()


def test_a_silent_callee_named_by_a_loud_callers_errors_leads() -> None:
    """The name is in the raw message (a URL the template masks); the caller is its victim."""
    failure = "order failed: 500 Internal Server Error from POST http://ledger.prod.svc:8080/v1"
    report = analyze("billing.log", _caller_log("billing", failure))
    suspects = rank_case_suspects([report])
    assert [s.component for s in suspects] == ["ledger", "billing"]
    assert "likely a victim" in suspects[1].reasons[0]


def test_connection_failures_logged_as_warnings_name_the_callee() -> None:
    failure = "Connection to node 0 (broker-0.brokers.svc/10.0.0.5:9092) could not be established"
    lines = _caller_log("orders", failure, level="warn", every=5).decode().splitlines()
    errors = _caller_log("orders", "publish failed: TimeoutException", every=20)
    report = analyze("orders.log", "\n".join(lines + errors.decode().splitlines()).encode())
    suspects = rank_case_suspects([report])
    assert suspects[0].component == "broker-0"
    assert "warnings of orders" in suspects[0].reasons[0]


def test_a_rejected_bad_request_is_the_callers_fault() -> None:
    failure = "order failed: 400 Bad Request from POST http://ledger.prod.svc:8080/v1"
    suspects = rank_case_suspects([analyze("billing.log", _caller_log("billing", failure))])
    assert [s.component for s in suspects] == ["billing"]


def test_blame_through_a_victim_reaches_its_culprit() -> None:
    """gateway -> billing -> ledger: the gateway's failures at billing end up at ledger."""
    gateway = _caller_log("gateway", "upstream failed: 503 from http://billing.svc:8080/pay")
    billing = _caller_log("billing", "charge failed: 503 from http://ledger.svc:8080/v1", every=20)
    suspects = rank_case_suspects(
        [analyze("gateway.log", gateway), analyze("billing.log", billing)]
    )
    assert suspects[0].component == "ledger"
    assert any("lead here" in r for r in suspects[0].reasons)


def test_a_faint_dependency_does_not_make_a_loud_caller_its_victim() -> None:
    """Many null-pointer errors and a few timeouts to tax: checkout's own defect leads."""
    lines = _caller_log("checkout", "NullPointerException in OrderMapper", every=3).decode()
    few = [
        f'ts=2026-11-21T13:{minute}:30Z level=error service=checkout '
        'msg="tax lookup timed out: http://tax.svc:8080/rates"'
        for minute in (41, 47, 53)
    ]
    report = analyze("checkout.log", "\n".join([*lines.splitlines(), *few]).encode())
    suspects = rank_case_suspects([report])
    assert [s.component for s in suspects] == ["checkout", "tax"]
    assert not any("victim" in r for r in suspects[0].reasons)
