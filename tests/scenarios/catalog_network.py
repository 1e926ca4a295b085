# ruff: noqa: E501
"""Scenarios, part 1b: network failures (DNS, TLS, refused connections, slow dependencies)."""

from __future__ import annotations

import random

from tests.scenarios import chatter, render
from tests.scenarios.kit import (
    Case,
    Window,
    edge_stats,
    event,
    everyday,
    gauge,
    grid,
    rounded,
    sample_traces,
    server_stats,
    smooth_step,
    standard,
)
from tests.scenarios.shop import Shop
from tests.scenarios.sim import PROVIDER, Fault, lognormal

MIB = 1024 * 1024


def coredns_upstream_timeouts(rng: random.Random) -> Case:
    win = Window.of("2026-10-14 16:21:30", 30, 15)
    inc = win.pivot
    sim = Shop(rng, win.start, win.end, rates={"product": 0.05})
    standard(sim)
    dns_pods = ["coredns-5d78c9869d-7xk2q", "coredns-5d78c9869d-h9wzp"]
    for pod in dns_pods:
        chatter.coredns(sim, pod)

    def resolver_timeout(_: object, t: float, op: str) -> None:
        for qtype in ("A", "AAAA"):
            pod = rng.choice(dns_pods)
            sim.log(
                pod,
                t + rng.uniform(2, 2.1),
                "ERROR",
                f"[ERROR] plugin/errors: 2 {PROVIDER}. {qtype}: read udp 10.244.0.7:{rng.randint(30000, 60000)}->169.254.169.253:53: i/o timeout",
                pod=pod,
            )

    sim.faults.append(
        Fault(
            PROVIDER,
            "client",
            inc,
            caller="payments",
            prob=0.96,
            message=f"java.net.UnknownHostException: {PROVIDER}: Temporary failure in name resolution",
            latency_ms=lambda r, t: (
                5004 + r.uniform(0, 30) if r.random() < 0.5 else r.uniform(0.2, 1.5)
            ),
            on_hit=resolver_timeout,
        )
    )
    # Other external names fail the same way (cluster names still resolve).
    for t in chatter.poisson(rng, inc, win.end, 45):
        host = rng.choice(
            ("api.segment.io", "hooks.slack.com", "sentry.io", "o4504.ingest.sentry.io")
        )
        pod = rng.choice(dns_pods)
        sim.log(
            pod,
            t,
            "ERROR",
            f"[ERROR] plugin/errors: 2 {host}. A: read udp 10.244.0.7:{rng.randint(30000, 60000)}->169.254.169.253:53: i/o timeout",
            pod=pod,
        )
    for t in chatter.poisson(rng, inc, win.end, 150):
        sim.log(
            "payments",
            t,
            "WARN",
            "Sentry event dropped: java.net.UnknownHostException: o4504.ingest.sentry.io",
            logger="io.sentry.transport.AsyncHttpTransport",
            thread="SentryAsyncConnection-0",
        )
    everyday(sim, ("payments", "checkout"))
    sim.run()
    dns_events = sim.events(dns_pods[0])
    case = Case(
        "coredns-upstream-timeouts",
        "Cluster DNS cannot reach its upstream resolver: external names fail",
        "Payments can't reach PayStream since ~16:21 UTC, is PayStream down?",
        win,
        "coredns",
        "network",
        "dns",
        acceptable=["coredns", "kube-dns", "dns", *dns_pods, "169.254.169.253"],
        forbidden=[PROVIDER, "payments", "checkout", "api-gateway"],
        notes="the question blames the provider; payments logs UnknownHostException, and CoreDNS "
        "shows upstream i/o timeouts for every external name, not only the provider's",
    )
    case.add("payments.jsonl", "log", render.logstash_json(sim.events("payments"), "payments"))
    case.add("pod-2.log", "log", render.kubectl_timestamps(dns_events))
    case.add("pod-1.log", "log", render.spring(sim.events("checkout"), "checkout", 120))
    traces = sample_traces(sim, rng, 20, root="POST /api/checkout")
    case.add("otel-traces.json", "traces", render.otlp(traces))
    return case


def provider_cert_expired(rng: random.Random) -> Case:
    win = Window.of("2026-10-01 00:00:00", 26, 14)
    inc = win.pivot
    sim = Shop(
        rng, win.start, win.end, rates={"product": 0.045, "static": 0.02, "cart_view": 0.025}
    )
    sim.gateway_info_every = 2
    standard(sim)
    sim.faults.append(
        Fault(
            PROVIDER,
            "client",
            inc,
            caller="payments",
            message="javax.net.ssl.SSLHandshakeException: PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed",
            latency_ms=lambda r, t: lognormal(r, 45.0),
        )
    )
    everyday(sim, ("payments", "checkout"))
    sim.run()
    for e in sim.logs["payments"]:
        if "SSLHandshakeException" in e.msg:
            e.stack = (
                *e.stack[:1],
                "Caused by: java.security.cert.CertificateExpiredException: NotAfter: Thu Oct 01 00:00:00 UTC 2026",
                "\tat java.base/sun.security.x509.CertificateValidity.valid(CertificateValidity.java:182)",
                *e.stack[1:],
            )
    case = Case(
        "provider-cert-expired",
        "The payment provider's TLS certificate expired at midnight",
        "Every checkout fails since just after midnight UTC. Nothing was deployed. What happened?",
        win,
        PROVIDER,
        "security",
        "tls",
        acceptable=[PROVIDER, "paystream", "PayStream"],
        forbidden=["payments", "checkout", "api-gateway", "payments-db", "ingress-nginx"],
        notes="checkout and the ingress show 502s; only payments' stack traces carry the PKIX / "
        "CertificateExpiredException of the external provider",
    )
    case.add("access.log", "log", render.nginx_access(sim.access))
    case.add(
        "payments-export.json", "log", render.logstash_json(sim.events("payments"), "payments")
    )
    case.add("checkout.txt", "log", render.spring(sim.events("checkout"), "checkout", 120))
    traces = sample_traces(sim, rng, 18, root="POST /api/checkout")
    case.add("jaeger.json", "traces", render.jaeger(traces))
    return case


def cart_cache_down(rng: random.Random) -> Case:
    win = Window.of("2026-11-12 11:03:52", 27, 15)
    inc = win.pivot
    sim = Shop(
        rng, win.start, win.end, rates={"cart_view": 0.06, "cart_add": 0.05, "checkout": 0.04}
    )
    standard(sim)
    key = "cart-cache-0"
    chatter.redis(sim, key)
    sim.logs[key] = [e for e in sim.logs[key] if e.t < inc - 60]
    gone = inc - rng.uniform(3, 6)
    for dt_, level, msg in (
        (0.0, "WARN", "Received SIGTERM scheduling shutdown..."),
        (0.1, "WARN", "User requested shutdown..."),
        (0.1, "INFO", "Saving the final RDB snapshot before exiting."),
        (0.5, "INFO", "DB saved on disk"),
        (0.5, "INFO", "Removing the pid file."),
        (0.6, "WARN", "Redis is now ready to exit, bye bye..."),
    ):
        sim.log(key, gone + dt_, level, msg, pod=key, pid=1)
    sim.faults.append(
        Fault(
            "cart-cache",
            "refused",
            inc,
            caller="cart",
            message="connect ECONNREFUSED 10.96.112.40:6379",
        )
    )
    t, attempt = inc + 0.2, 1
    while t < win.end:
        sim.log(
            "cart",
            t,
            "WARN",
            "redis reconnecting",
            host="cart-cache",
            attempt=attempt,
            delay=min(2000, 50 * attempt),
            err={
                "type": "Error",
                "message": "connect ECONNREFUSED 10.96.112.40:6379",
                "code": "ECONNREFUSED",
            },
        )
        attempt += 1
        t += min(2.0, 0.05 * attempt) + rng.uniform(9, 16)
    node_old, node_new = "gke-shop-prod-pool-1-3c8e0a7d-q4nf", "gke-shop-prod-pool-1-3c8e0a7d-z9tb"
    event(
        sim,
        gone - 40,
        "ScaleDown",
        f"node/{node_old}",
        f"node removed by cluster autoscaler: {node_old} utilization 0.21 below threshold",
        source="cluster-autoscaler",
    )
    event(
        sim,
        gone - 38,
        "ScaleDown",
        f"pod/{key}",
        "deleting pod for node scale down",
        source="cluster-autoscaler",
    )
    event(sim, gone - 0.5, "Killing", f"pod/{key}", "Stopping container redis")
    event(
        sim,
        gone + 2,
        "Scheduled",
        f"pod/{key}",
        f"Successfully assigned shop/{key} to {node_new}",
        source="default-scheduler",
    )
    for n, t in enumerate(chatter.every(rng, gone + 3, win.end, 125, 0.05), start=1):
        event(
            sim,
            t,
            "FailedAttachVolume",
            f"pod/{key}",
            'Multi-Attach error for volume "pvc-3f9c1e2a-7b4d-4c1e-9f0a-5d2b8e6c4a71" Volume is already exclusively attached to one node and can\'t be attached to another',
            warning=True,
            count=n,
            source="attachdetach-controller",
        )
        if n % 2 == 0:
            event(
                sim,
                t + 1,
                "FailedMount",
                f"pod/{key}",
                "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data kube-api-access-7kq2m]: timed out waiting for the condition",
                warning=True,
                count=n // 2,
            )
    chatter.k8s_background(sim)
    everyday(sim, ("cart",))
    sim.run()
    for e in sim.logs["k8s"]:
        if e.fields.get("reason") in ("FailedAttachVolume", "FailedMount"):
            e.fields["first"] = gone + 3
    step = 60.0
    times = grid(win, step)
    cart = server_stats(sim, "cart", times, step)
    edge = edge_stats(sim, times, step)
    up = [1.0 if t < gone else 0.0 for t in times]
    columns = {
        'redis_up{instance="cart-cache-0"}': up,
        'redis_connected_clients{instance="cart-cache-0"}': [
            float(rng.randint(38, 46)) if u else float("nan") for u in up
        ],
        'redis_memory_used_bytes{instance="cart-cache-0"}': [
            round(rng.uniform(182, 186) * MIB) if u else float("nan") for u in up
        ],
        "cart 5xx (%)": rounded(cart["err_pct"]),
        "cart p99 (ms)": rounded(cart["p99"]),
        "ingress 5xx/s": rounded(edge["5xx_rps"], 3),
    }
    case = Case(
        "cart-cache-down",
        "The cart's Redis was evicted by a node scale-down and cannot come back",
        "Carts are broken for everyone since 11:04 UTC, cart pods are up and healthy. Ideas?",
        win,
        "cart-cache",
        "network",
        "conn-refused",
        acceptable=["cart-cache", key, "redis", "pvc-3f9c1e2a-7b4d-4c1e-9f0a-5d2b8e6c4a71"],
        forbidden=["cart", "api-gateway", "checkout", "ingress-nginx"],
        notes="cart logs all the errors (ECONNREFUSED); Redis' own log just ends after a clean "
        "SIGTERM shutdown; events (JSON) show the volume stuck attached to the old node",
    )
    case.add("pod-a.jsonl", "log", render.pino(sim.events("cart"), "cart"))
    case.add("pod-b.log", "log", render.redis_log(sim.events(key)))
    case.add("event-exporter.jsonl", "log", render.k8s_events_json(sim.events("k8s"), "shop-prod"))
    case.add("grafana.csv", "metrics", render.csv_wide(times, columns, time_format="space"))
    return case


def payments_db_slow_queries(rng: random.Random) -> Case:
    win = Window.of("2026-10-27 10:48:05", 34, 14)
    inc = win.pivot
    sim = Shop(rng, win.start, win.end, rates={"product": 0.05, "checkout": 0.055})
    standard(sim)
    host = "payments-db-1"
    chatter.postgres(sim, host, "payments", ("payments_app", "payments_ro"), syslog=True)
    client = "10.244.2.31"

    def pg(
        t: float, msg: str, pid: int, user: str = "payments_app", stack: tuple[str, ...] = ()
    ) -> None:
        prefix = (
            f"user={user},db=payments,app=PostgreSQL JDBC Driver,client={client}" if user else ""
        )
        sim.log(host, t, "INFO", msg, pod=host, pid=pid, prefix=prefix, stack=stack)

    mig = rng.randint(20000, 30000)
    pg(
        inc - 42,
        "LOG:  statement: DROP INDEX CONCURRENTLY IF EXISTS payments_order_id_idx",
        mig,
        "migrator",
    )
    pg(
        inc - 41,
        "LOG:  duration: 812.455 ms  statement: DROP INDEX CONCURRENTLY IF EXISTS payments_order_id_idx",
        mig,
        "migrator",
    )
    pg(
        inc - 40,
        "LOG:  statement: CREATE INDEX CONCURRENTLY payments_order_id_status_idx ON payments (order_id, status)",
        mig,
        "migrator",
    )
    update = "UPDATE payments SET status = $1, provider_ref = $2 WHERE order_id = $3"

    def slow(r: random.Random, t: float) -> float:
        ms = min(7900.0, lognormal(r, 3900.0, 0.45))
        pid = r.randint(30000, 60000)
        pg(
            t + ms / 1000,
            f"LOG:  duration: {ms:.3f} ms  execute S_3: {update}",
            pid,
            stack=(
                f"DETAIL:  parameters: $1 = 'authorized', $2 = 'pi_{r.getrandbits(48):012x}', $3 = '{sim.order_seq}'",
            ),
        )
        return ms

    def canceled(s: object, t: float, op: str) -> None:
        pid = rng.randint(30000, 60000)
        pg(
            t + 8.0,
            "ERROR:  canceling statement due to statement timeout",
            pid,
            stack=(f"STATEMENT:  {update}",),
        )

    sim.faults += [
        Fault(
            "payments-db",
            "error",
            inc,
            caller="payments",
            op="UPDATE payments",
            prob=0.16,
            message="ERROR: canceling statement due to statement timeout",
            latency_ms=8000.4,
            on_hit=canceled,
        ),
        Fault(
            "payments-db",
            "slow",
            inc,
            caller="payments",
            op="UPDATE payments",
            prob=0.93,
            latency_ms=slow,
        ),
    ]
    pg(
        win.end - 30,
        "LOG:  duration: 1184233.118 ms  statement: CREATE INDEX CONCURRENTLY payments_order_id_status_idx ON payments (order_id, status)",
        mig,
        "migrator",
    )
    everyday(sim, ("payments", "checkout"))
    sim.run()
    step = 60.0
    times = grid(win, step)
    pay = server_stats(sim, "payments", times, step)
    chk = server_stats(sim, "checkout", times, step)
    bad = smooth_step(inc, 45)
    columns = {
        "pg_stat_statements mean_exec_time UPDATE payments (ms)": gauge(
            rng, times, lambda t: 1.6 + 4300 * bad(t), 0.15, digits=1
        ),
        "payments-db cpu (%)": gauge(
            rng, times, lambda t: 24 + 58 * bad(t), 0.06, ceiling=100, digits=1
        ),
        "payments-db disk read (MB/s)": gauge(
            rng, times, lambda t: 3 + 180 * bad(t), 0.1, digits=1
        ),
        "payments p99 (ms)": rounded(pay["p99"]),
        "checkout 5xx (%)": rounded(chk["err_pct"]),
    }
    case = Case(
        "payments-db-slow-queries",
        "A dropped index makes payment updates scan the table; callers time out",
        "Checkout requests time out (504) since ~10:48 UTC. Payments pods look fine. Where's the problem?",
        win,
        "payments-db",
        "latency",
        "timeout",
        acceptable=["payments-db", host, "postgres", "payments_order_id_idx"],
        forbidden=["checkout", "api-gateway", "payments", PROVIDER],
        notes="checkout times out at 5 s while payments mostly succeeds slowly; the database log "
        "shows the index dropped 40 s before and 4 s UPDATEs (seq scans) from then on",
    )
    case.add("syslog", "log", render.postgres_syslog(sim.events(host), host))
    case.add("payments-pods.jsonl", "log", render.logstash_json(sim.events("payments"), "payments"))
    case.add("checkout-pods.log", "log", render.spring(sim.events("checkout"), "checkout", 60))
    case.add("dashboard.csv", "metrics", render.csv_wide(times, columns))
    traces = sample_traces(sim, rng, 30, root="POST /api/checkout")
    case.add("spans.csv", "traces", render.span_csv(traces))
    return case


SCENARIOS = {
    "coredns-upstream-timeouts": coredns_upstream_timeouts,
    "provider-cert-expired": provider_cert_expired,
    "cart-cache-down": cart_cache_down,
    "payments-db-slow-queries": payments_db_slow_queries,
}
