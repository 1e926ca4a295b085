"""Suspects and the timeline of a whole case: every file combined, clocks reconciled."""

from __future__ import annotations

from engine.evidence.analyze import analyze
from engine.evidence.components import (
    canonical,
    dns_failure,
    from_file_name,
    from_series,
    hosts_in,
    mentioned_in,
    replica_base,
)
from engine.evidence.suspects.ranking import rank_case_suspects
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


def test_a_commands_saved_output_is_named_after_its_object_not_the_command() -> None:
    assert from_file_name("kubectl_describe_pod_checkout-7d9f8c6b5-x2k4p_shop.txt") == "checkout"
    assert from_file_name("kubectl_logs_payments-6c7d8e9f5-fghij_shop_21600.log") == "payments"
    assert from_file_name("kubectl_events_pod_frontend-service_default.txt") == "frontend"
    assert from_file_name("kubectl_get_all.txt") is None
    assert from_file_name("kubectl_memory_requests_namespace_default.txt") is None


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
        f"ts=2026-11-21T13:{minute}:30Z level=error service=checkout "
        'msg="tax lookup timed out: http://tax.svc:8080/rates"'
        for minute in (41, 47, 53)
    ]
    report = analyze("checkout.log", "\n".join([*lines.splitlines(), *few]).encode())
    suspects = rank_case_suspects([report])
    assert [s.component for s in suspects] == ["checkout", "tax"]
    assert not any("victim" in r for r in suspects[0].reasons)


def _metrics_csv(columns: dict[str, tuple[float, float]], *, change_minute: int = 40) -> bytes:
    """A wide Grafana export over 13:00-13:59: each column steps from one level to another."""
    rows = ["Time," + ",".join(f'"{c}"' for c in columns)]
    for minute in range(60):
        values = [
            after if minute >= change_minute else before for before, after in columns.values()
        ]
        rows.append(f"2026-11-21 13:{minute:02d}:00," + ",".join(f"{v:g}" for v in values))
    return ("\n".join(rows) + "\n").encode()


def test_names_of_replicas_metrics_and_resolvers() -> None:
    assert replica_base("kafka-1") == "kafka" and replica_base("payments-db-0") == "payments-db"
    assert replica_base("payments") is None and replica_base("job-29908008") is None
    known = {"payments", "payments-db-1"}
    assert from_series("payments-db cpu (%)", known) == "payments-db"  # the column's first word
    assert from_series("payments p99 (ms)", known) == "payments"
    assert from_series('up{job="kafka",instance="kafka-0:9308"}', set()) == "kafka-0"
    assert dns_failure("dial tcp: lookup payments on 10.96.0.10:53: i/o timeout")
    assert dns_failure("read udp 10.244.0.7:34981->169.254.169.253:53: i/o timeout")
    assert dns_failure("java.net.UnknownHostException: api.example.com")
    assert not dns_failure("retrying at 10:53:00 after a timeout")


def test_a_target_that_goes_down_leads_its_own_callers_errors() -> None:
    """redis_up of orders-cache-0 falls to 0; orders logs refused connections to an IP."""
    failure = "failed to load order: connect ECONNREFUSED 10.96.112.40:6379"
    orders = analyze("orders.log", _caller_log("orders", failure, every=3))
    metrics = analyze("grafana.csv", _metrics_csv({'redis_up{instance="orders-cache-0"}': (1, 0)}))
    suspects = rank_case_suspects([orders, metrics])
    assert [s.component for s in suspects] == ["orders-cache-0", "orders"]
    assert suspects[0].reasons[0].endswith("down (grafana.csv)")
    assert "depends on orders-cache-0" in suspects[1].reasons[0]  # '<service>-cache' convention


def test_a_single_replica_is_its_service_and_several_stay_apart() -> None:
    failure = "charge failed: dial tcp ledger-db:5432: i/o timeout"
    caller = analyze("billing.log", _caller_log("billing", failure))
    replica = _caller_log("ledger-db-1", "could not extend file: No space left on device", every=5)
    suspects = rank_case_suspects([caller, analyze("syslog", replica)])
    assert suspects[0].component == "ledger-db"
    assert any(r.startswith("ledger-db-1: ") for r in suspects[0].reasons)
    other = _caller_log("ledger-db-2", "could not extend file: No space left on device", every=5)
    both = rank_case_suspects([caller, analyze("syslog", replica), analyze("syslog.2", other)])
    assert {"ledger-db-1", "ledger-db-2"} <= {s.component for s in both}


def test_a_failed_lookup_blames_dns_not_the_name_looked_up() -> None:
    failure = "PayStream call failed: java.net.UnknownHostException: api.paystream.io:443"
    resolver_log = _caller_log(
        "coredns",
        "plugin/errors: 2 api.paystream.io. A: read udp 10.0.0.7:3498->10.0.0.2:53: i/o timeout",
    )
    suspects = rank_case_suspects(
        [
            analyze("payments.log", _caller_log("payments", failure)),
            analyze("coredns.log", resolver_log),
        ]
    )
    assert suspects[0].component == "coredns"
    assert "api.paystream.io" not in {s.component for s in suspects}
    alone = rank_case_suspects([analyze("payments.log", _caller_log("payments", failure))])
    assert alone[0].component == "dns"


def test_metric_wiggles_without_an_incident_in_the_logs_are_not_suspects() -> None:
    metrics = analyze("grafana.csv", _metrics_csv({"checkout p99 (ms)": (200, 900)}))
    quiet = analyze("checkout.log", _caller_log("checkout", "request ok", level="info"))
    assert rank_case_suspects([quiet, metrics]) == []
    assert [s.component for s in rank_case_suspects([metrics])] == []  # nobody known by name


def test_a_url_path_does_not_name_a_component_but_its_host_does() -> None:
    known = {"cart", "payments"}
    assert mentioned_in("HTTP 500 GET /api/cart/items", known) == set()
    assert mentioned_in("POST http://payments/v1/charges failed", known) == {"payments"}
