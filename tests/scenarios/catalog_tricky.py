# ruff: noqa: E501
"""Scenarios, part 3: healthy periods and red herrings.

Healthy cases have errors too (the everyday kind) and nothing that started at the time asked
about. Red herrings put something loud and wrong next to something quiet and right: a noisy
service that always fails, callers that shout about a slow callee, an error spike that is
in the baseline as well, a deploy that happened at the same minute.
"""

from __future__ import annotations

import random

from tests.scenarios import chatter, render
from tests.scenarios.kit import (
    Case,
    Window,
    deployment,
    edge_stats,
    event,
    everyday,
    gauge,
    grid,
    rollout,
    rounded,
    sample_traces,
    server_stats,
    service,
    smooth_step,
    standard,
)
from tests.scenarios.shop import Shop
from tests.scenarios.sim import PROVIDER, Fault, LogEvent, Replica, Sim, lognormal

MIB = 1024 * 1024
EVERYONE = ["ingress-nginx", "api-gateway", "checkout", "cart", "inventory", "payments"]


def healthy_evening_peak(rng: random.Random) -> Case:
    win = Window.of("2026-11-10 19:40:00", 30, 15, healthy=True)
    peak = smooth_step(win.start, 1800)
    sim = Shop(
        rng,
        win.start,
        win.end,
        rates={
            "product": 0.04,
            "static": 0.02,
            "cart_view": 0.025,
            "cart_add": 0.02,
            "checkout": 0.04,
        },
        surge=lambda t: 1 + 0.35 * peak(t),
    )
    sim.gateway_info_every = 2
    pods = standard(sim)
    extra = f"api-gateway-{pods['api-gateway'][0].split('-')[2]}-{''.join(rng.choice('bcdfghjklmnpqrstvwxz2456789') for _ in range(5))}"
    scaled = win.minute(-6)
    event(
        sim,
        scaled,
        "SuccessfulRescale",
        "horizontalpodautoscaler/api-gateway",
        "New size: 3; reason: cpu resource utilization (percentage of request) above target",
        source="horizontal-pod-autoscaler",
    )
    ready = chatter.start_up(sim, "api-gateway", extra, scaled + 6, "1.19.3")
    sim.replicas["api-gateway"].append(Replica(extra, ready, version="1.19.3"))
    # One slow cart call times a single checkout out: the kind of error that is always there.
    sim.faults.append(
        Fault("cart", "slow", win.minute(3), win.minute(3) + 20, caller="checkout", latency_ms=2400)
    )
    everyday(sim, ("api-gateway", "checkout"))
    sim.run()
    step = 60.0
    times = grid(win, step)
    edge = edge_stats(sim, times, step)
    chk = server_stats(sim, "checkout", times, step)
    columns = {
        "ingress requests/s": rounded(edge["rps"], 3),
        "ingress 5xx/s": rounded(edge["5xx_rps"], 3),
        "checkout p99 (ms)": rounded(chk["p99"]),
        "checkout cpu (%)": gauge(rng, times, lambda t: 31 + 12 * peak(t), 0.08, digits=1),
        "api-gateway replicas": [2.0 if t < ready else 3.0 for t in times],
    }
    case = Case(
        "healthy-evening-peak",
        "Evening peak, nothing wrong",
        "Support says a few customers complained checkout felt slow around 19:40 UTC. Is anything actually wrong?",
        win,
        kind="healthy",
        forbidden=EVERYONE,
        notes="traffic rises 35% and the gateway scales out; p99 stays in its usual range and "
        "the only errors (mail relay, TLS handshake EOFs, one checkout timeout) happen all day",
    )
    case.add("access.log", "log", render.nginx_access(sim.access, 60))
    case.add("gateway.log", "log", render.logfmt(sim.events("api-gateway"), "api-gateway"))
    case.add("checkout.log", "log", render.spring(sim.events("checkout"), "checkout", 60))
    case.add("grafana.csv", "metrics", render.csv_wide(times, columns))
    return case


def healthy_benign_errors(rng: random.Random) -> Case:
    win = Window.of("2026-10-23 09:12:00", 35, 12, healthy=True)
    sim = Shop(
        rng, win.start, win.end, rates={"checkout": 0.06, "cart_view": 0.04, "cart_add": 0.03}
    )
    standard(sim)
    declined = (
        '{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds"}}'
    )
    # A handful of declines in a few minutes (pay day is tomorrow) trips the ratio alert.
    sim.faults.append(
        Fault(
            PROVIDER,
            "status",
            win.minute(-3),
            win.minute(1),
            caller="payments",
            prob=0.3,
            status=402,
            message=declined,
            latency_ms=lambda r, t: lognormal(r, 160.0),
        )
    )
    chatter.k8s_background(sim)
    everyday(sim, ("payments", "cart"))
    sim.run()
    case = Case(
        "healthy-benign-errors",
        "A decline-ratio alert on a normal morning",
        "PagerDuty fired 'payments error ratio > 1%' at 09:12 UTC. Is payments broken?",
        win,
        kind="healthy",
        forbidden=[*EVERYONE, PROVIDER, "payments-db"],
        notes="declines are answers (402), not failures; webhook signature errors, analytics "
        "ECONNRESETs and readiness blips are in the baseline at the same rate",
    )
    case.add("payments.jsonl", "log", render.logstash_json(sim.events("payments"), "payments"))
    case.add("cart.jsonl", "log", render.pino(sim.events("cart"), "cart"))
    case.add(
        "jaeger-export.json",
        "traces",
        render.jaeger(sample_traces(sim, rng, 20, root="POST /api/checkout")),
    )
    case.add("events.txt", "log", render.k8s_events_table(sim.events("k8s")))
    return case


def healthy_after_deploy(rng: random.Random) -> Case:
    win = Window.of("2026-11-05 11:20:30", 25, 20, healthy=True)
    sim = Shop(rng, win.start, win.end, rates={"product": 0.06, "cart_add": 0.04})
    standard(sim, skip=("inventory",))
    old, new = rollout(sim, "inventory", "3.8.2", "3.8.3", win.pivot)
    chatter.k8s_background(sim)
    everyday(sim, ("inventory",))
    sim.run()
    step = 60.0
    times = grid(win, step)
    inv = server_stats(sim, "inventory", times, step)
    swap = {r.pod: r for r in sim.replicas["inventory"]}
    mem = []
    for t in times:
        live = [p for p in (*old, *new) if swap[p].start <= t < swap[p].end]
        mem.append(
            sum(
                rng.uniform(170, 190) * MIB if p in old else rng.uniform(150, 185) * MIB
                for p in live
            )
        )
    columns: dict[str, list[float]] = {
        "inventory requests/s": rounded(inv["rps"], 3),
        "inventory 5xx %": rounded(inv["err_pct"]),
        "inventory p99 ms": rounded(inv["p99"]),
        "inventory memory (sum of pods)": [float(round(m)) for m in mem],
        "inventory restarts": [0.0 for _ in times],
    }
    env = [("DB_HOST", "inventory-db"), ("DB_MAX_CONNS", "20"), ("AVAIL_CACHE", "enabled")]
    v1 = deployment("inventory", "3.8.2", env=env, memory="384Mi", cpu="250m")
    v2 = deployment(
        "inventory",
        "3.8.3",
        env=env,
        memory="512Mi",
        cpu="250m",
        annotations={"deployment.kubernetes.io/revision": "2"},
    )
    case = Case(
        "healthy-after-deploy",
        "A routine inventory release, nothing broken",
        "We rolled out inventory 3.8.3 at 11:20 UTC and someone posted an error in the channel. Did the release break anything?",
        win,
        kind="healthy",
        forbidden=[*EVERYONE, "inventory-db"],
        notes="the release is visible everywhere (events, restarts in the log, a manifest diff) "
        "but error rate and latency do not move; the price-feed error is in the baseline too",
    )
    case.add("deploy-v1.yaml", "config", render.manifests([v1, service("inventory")]))
    case.add("deploy-v2.yaml", "config", render.manifests([v2, service("inventory")]))
    case.add("events.txt", "log", render.k8s_events_table(sim.events("k8s")))
    case.add("inventory.log", "log", render.zap_console(sim.events("inventory")))
    case.add("metrics.csv", "metrics", render.csv_wide(times, columns, time_format="space"))
    return case


def noisy_recommendations(rng: random.Random) -> Case:
    win = Window.of("2026-10-30 22:47:19", 33, 14)
    inc = win.pivot
    sim = Shop(
        rng,
        win.start,
        win.end,
        rates={
            "recs": 0.06,
            "product": 0.035,
            "static": 0.0,
            "checkout": 0.045,
            "cart_view": 0.02,
            "cart_add": 0.02,
        },
    )
    sim.gateway_info_every = 3
    standard(sim)
    sim.faults.append(
        Fault(
            "feature-store",
            "error",
            win.start,
            caller="recommendations",
            prob=0.38,
            message=lambda r, t: r.choice(
                (
                    "Timeout reading from socket",
                    "Error 111 connecting to feature-store:6379. Connection refused.",
                )
            ),
            latency_ms=lambda r, t: r.choice((800.0, 1.2)),
        )
    )
    for t in chatter.every(rng, win.start, win.end, 150, 0.3):
        sim.log(
            "recommendations",
            t,
            "ERROR",
            "model refresh failed",
            logger="recs.model",
            model="als-v42",
            error="403 Forbidden: gs://shop-ml/recs/als-v42/embeddings-00003-of-00008.npy",
            exc_type="google.api_core.exceptions.Forbidden",
        )
    host = "payments-db-1"
    chatter.postgres(sim, host, "payments", ("payments_app", "payments_ro"), syslog=True)
    relfile = "base/16402/18833." + str(rng.randint(3, 9))

    def enospc(s: Sim, t: float, op: str) -> None:
        s.log(
            host,
            t + 0.001,
            "INFO",
            f'ERROR:  could not extend file "{relfile}": No space left on device',
            pod=host,
            pid=rng.randint(30000, 60000),
            prefix=f"user=payments_app,db=payments,app=PostgreSQL JDBC Driver,client=10.244.2.{rng.choice((31, 77))}",
            stack=(
                "HINT:  Check free disk space.",
                "STATEMENT:  INSERT INTO payments (id, order_id, amount, status) VALUES ($1, $2, $3, 'pending')",
            ),
        )

    sim.faults.append(
        Fault(
            "payments-db",
            "error",
            inc,
            caller="payments",
            op="INSERT",
            prob=0.97,
            message=f'ERROR: could not extend file "{relfile}": No space left on device',
            latency_ms=lambda r, t: lognormal(r, 3.0),
            on_hit=enospc,
        )
    )
    everyday(sim, ("api-gateway", "checkout"))
    sim.run()
    step = 60.0
    times = grid(win, step)
    recs = server_stats(sim, "recommendations", times, step)
    chk = server_stats(sim, "checkout", times, step)
    edge = edge_stats(sim, times, step)
    fill = smooth_step(win.start - 1800, inc - win.start + 1800)
    columns = {
        "recommendations 5xx %": rounded(recs["err_pct"]),
        "checkout 5xx %": rounded(chk["err_pct"]),
        "ingress 5xx/s": rounded(edge["5xx_rps"], 3),
        'node_filesystem used % {instance="payments-db-1",mountpoint="/var/lib/postgresql"}': gauge(
            rng, times, lambda t: 93.2 + 6.8 * fill(t), 0.001, ceiling=100, digits=2
        ),
        'pg_stat_database_xact_commit rate {datname="payments"}': gauge(
            rng, times, lambda t: 4.1 if t < inc else 0.9, 0.1, digits=2
        ),
    }
    case = Case(
        "noisy-recommendations",
        "recommendations fails all day; the real problem is a full disk on payments-db",
        "Lots of errors in the gateway tonight, recommendations is spamming errors. Is that why orders fail since ~22:47 UTC?",
        win,
        "payments-db",
        "resource-exhaustion",
        "disk-full",
        acceptable=["payments-db", host, "postgres", "/var/lib/postgresql"],
        forbidden=["recommendations", "feature-store", "checkout", "api-gateway", "payments"],
        forbidden_signatures=["timeout"],
        notes="recommendations logs more errors than anything else, at the same rate before and "
        "after; the ENOSPC lines on the database host (syslog, no levels) start at the incident",
        kind="red-herring",
    )
    case.add("gateway.log", "log", render.logfmt(sim.events("api-gateway"), "api-gateway"))
    case.add(
        "recs-pods.jsonl",
        "log",
        render.structlog_json(sim.events("recommendations"), "recommendations"),
    )
    case.add("checkout.log", "log", render.spring(sim.events("checkout"), "checkout", 60))
    case.add("syslog.txt", "log", render.postgres_syslog(sim.events(host), host))
    case.add("dashboard.csv", "metrics", render.csv_wide(times, columns))
    return case


def loud_callers_slow_provider(rng: random.Random) -> Case:
    win = Window.of("2026-11-14 17:55:03", 30, 15)
    inc = win.pivot
    sim = Shop(
        rng,
        win.start,
        win.end,
        rates={
            "product": 0.035,
            "static": 0.015,
            "cart_view": 0.02,
            "cart_add": 0.02,
            "checkout": 0.055,
        },
    )
    sim.gateway_info_every = 2
    standard(sim)
    sim.faults.append(
        Fault(
            PROVIDER,
            "slow",
            inc,
            caller="payments",
            prob=0.85,
            latency_ms=lambda r, t: lognormal(r, 6200.0, 0.4),
        )
    )
    everyday(sim, ("api-gateway", "checkout"))
    sim.run()
    case = Case(
        "loud-callers-slow-provider",
        "The payment provider slows down; checkout, gateway and ingress shout about timeouts",
        "Checkout is timing out like crazy since 17:55 UTC and the gateway is full of 504s. Is checkout overloaded?",
        win,
        PROVIDER,
        "latency",
        "timeout",
        acceptable=[PROVIDER, "paystream", "PayStream"],
        forbidden=["checkout", "api-gateway", "ingress-nginx", "payments", "payments-db"],
        notes="no payments log was uploaded: only the traces show that the time is spent in "
        "payments' client span to the provider; every other file shows victims",
        kind="red-herring",
    )
    case.add("access.log", "log", render.nginx_access(sim.access))
    case.add("gateway.log", "log", render.logfmt(sim.events("api-gateway"), "api-gateway"))
    case.add("checkout.log", "log", render.spring(sim.events("checkout"), "checkout", 60))
    case.add(
        "traces.json",
        "traces",
        render.jaeger(sample_traces(sim, rng, 24, root="POST /api/checkout")),
    )
    return case


def recurring_batch_spike(rng: random.Random) -> Case:
    win = Window.of("2026-11-19 02:30:26", 40, 14)
    inc = win.pivot
    sim = Shop(
        rng, win.start, win.end, rates={"product": 0.04, "checkout": 0.05, "cart_add": 0.025}
    )
    sim.gateway_info_every = 3
    standard(sim)
    hour = win.start - win.start % 3600
    batches = [hour + m * 60 + rng.uniform(2, 8) for m in range(5, 180, 15)]
    batches = [b for b in batches if win.start < b < win.end]
    for b in batches:
        rows = rng.randint(11800, 12400)
        sim.log(
            "inventory",
            b,
            "INFO",
            "price sync started",
            logger="pricing/sync.go:52",
            rows=rows,
            source="feed-eu-1",
        )
        failed = 0
        for t in sorted(rng.uniform(b + 3, b + 70) for _ in range(rng.randint(22, 38))):
            failed += 1
            sim.log(
                "inventory",
                t,
                "ERROR",
                "price sync: update failed",
                logger="pricing/sync.go:97",
                sku=f"SKU-{rng.randint(10000, 99999)}",
                error="ERROR: canceling statement due to lock timeout (SQLSTATE 55P03)",
            )
        sim.log(
            "inventory",
            b + rng.uniform(74, 80),
            "WARN",
            "price sync finished with errors",
            logger="pricing/sync.go:131",
            updated=rows - failed,
            failed=failed,
            took=f"{rng.uniform(74, 80):.1f}s",
        )
        sim.faults.append(
            Fault(
                "inventory", "slow", b, b + 75, prob=0.5, latency_ms=lambda r, t: r.uniform(80, 600)
            )
        )

    def expiring(r: random.Random, t: float) -> str:
        return (
            f"org.apache.kafka.common.errors.TimeoutException: Expiring 1 record(s) for "
            f"order-events-{r.choice((0, 3, 6, 9))}:{r.randint(5001, 5012)} ms has passed since batch creation"
        )

    sim.timeouts[("checkout", "kafka")] = 6000.0
    sim.faults.append(
        Fault(
            "kafka",
            "error",
            inc,
            caller="checkout",
            prob=0.34,
            message=expiring,
            latency_ms=lambda r, t: 5003 + r.uniform(0, 9),
        )
    )
    for t in chatter.poisson(rng, inc + 1, win.end, 20):
        sim.log(
            "checkout",
            t,
            "WARN",
            "[Producer clientId=checkout-producer-1] Connection to node 0 (kafka-0.kafka-headless.messaging.svc.cluster.local/10.244.5.21:9092) could not be established. Node may not be available.",
            logger="org.apache.kafka.clients.NetworkClient",
            thread="kafka-producer-network-thread | checkout-producer-1",
        )
    everyday(sim, ("inventory", "checkout", "api-gateway"))
    sim.run()
    step = 60.0
    times = grid(win, step)
    chk = server_stats(sim, "checkout", times, step)
    inv_errors = [0.0 for _ in times]
    for e in sim.logs["inventory"]:
        i = int((e.t - times[0]) // step)
        if e.level == "ERROR" and 0 <= i < len(times):
            inv_errors[i] += 1
    columns = {
        "inventory errors/min": inv_errors,
        "checkout 5xx %": rounded(chk["err_pct"]),
        'up{job="kafka",instance="kafka-0:9308"}': [1.0 if t < inc else 0.0 for t in times],
        'up{job="kafka",instance="kafka-1:9308"}': [1.0 for _ in times],
        'up{job="kafka",instance="kafka-2:9308"}': [1.0 for _ in times],
        "kafka_topic_partition_under_replicated{topic=order-events}": [
            0.0 if t < inc else 4.0 for t in times
        ],
    }
    case = Case(
        "recurring-batch-spike",
        "A price-sync job spikes inventory errors every 15 min; the real issue is kafka-0 down",
        "We see a big spike of inventory errors at 02:35 UTC and orders failing since ~02:30. Is it the inventory database?",
        win,
        "kafka-0",
        "network",
        "conn-refused",
        acceptable=["kafka-0", "kafka", "broker 0"],
        forbidden=["inventory", "inventory-db", "checkout", "api-gateway"],
        forbidden_signatures=["deadlock"],
        notes="the lock-timeout burst repeats every 15 minutes in the baseline; the producer only "
        "says node 0 'could not be established' (refusals show at DEBUG) and metrics show it down",
        kind="red-herring",
    )
    case.add("inventory.log", "log", render.zap_console(sim.events("inventory")))
    case.add("checkout.log", "log", render.spring(sim.events("checkout"), "checkout", 60))
    case.add("gateway.log", "log", render.logfmt(sim.events("api-gateway"), "api-gateway"))
    case.add("grafana.csv", "metrics", render.csv_wide(times, columns, time_format="epoch_ms"))
    return case


def _go_and_std(events: list[LogEvent]) -> bytes:
    """A Go service's zap console lines, and the lines net/http writes with the std logger."""
    out = []
    for e in events:
        if e.fields.get("stdlog"):
            out.append(render.dt(e.t).strftime("%Y/%m/%d %H:%M:%S ") + e.msg)
        else:
            out.append(render.zap_console([e]).decode().rstrip("\n"))
    return render.lines(out)


def innocent_deploy(rng: random.Random) -> Case:
    win = Window.of("2026-10-26 13:00:00", 30, 15)
    inc = win.pivot
    sim = Shop(rng, win.start, win.end, rates={"product": 0.06, "cart_add": 0.04, "static": 0.04})
    sim.gateway_info_every = 3
    standard(sim)
    rollout(sim, "frontend", "7.14.0", "7.15.0", inc - 40)
    expiry = "2026-10-26T13:00:00Z"

    def go(r: random.Random, t: float) -> str:
        return (
            "tls: failed to verify certificate: x509: certificate has expired or is not yet "
            f"valid: current time {render.iso(t, digits=0)} is after {expiry}"
        )

    def handshake(s: Sim, t: float, op: str) -> None:
        if rng.random() < 0.6:
            s.log(
                "inventory",
                t + 0.002,
                "ERROR",
                f"http: TLS handshake error from 10.244.{rng.randint(1, 3)}.{rng.randint(2, 250)}:{rng.randint(32768, 60999)}: remote error: tls: bad certificate",
                stdlog=True,
            )

    java = "javax.net.ssl.SSLHandshakeException: PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed"
    for caller, message in (
        ("api-gateway", go),
        ("cart", "certificate has expired"),
        ("checkout", java),
    ):
        sim.faults.append(
            Fault(
                "inventory",
                "client",
                inc,
                caller=caller,
                message=message,
                latency_ms=lambda r, t: lognormal(r, 2.5),
                on_hit=handshake,
            )
        )
    request = "inventory-tls-7m2xq"
    for t in chatter.every(rng, win.start, win.end, 600, 0.02):
        event(
            sim,
            t,
            "Failed",
            f"certificaterequest/{request}",
            "Vault failed to sign certificate: failed to sign certificate by vault: Error making API request. URL: PUT https://vault.infra.svc:8200/v1/pki_int/sign/shop-internal Code: 403. Errors: * permission denied",
            warning=True,
            source="cert-manager-certificaterequests-issuer-vault",
        )
        event(
            sim,
            t + 0.4,
            "Issuing",
            "certificate/inventory-tls",
            f'The certificate request has failed to complete and will be retried: The CertificateRequest "{request}" failed',
            source="cert-manager-certificates-issuing",
        )
    chatter.k8s_background(sim)
    everyday(sim, ("api-gateway", "inventory"))
    sim.run()
    for e in sim.logs["cart"]:
        if isinstance(e.fields.get("err"), dict) and "certificate has expired" in str(
            e.fields["err"]
        ):
            e.fields["err"] = {
                "type": "Error",
                "message": "certificate has expired",
                "code": "CERT_HAS_EXPIRED",
            }
    env = [("API_BASE", "/api"), ("ASSET_CDN", "https://cdn.shop.example.com")]
    v1 = deployment(
        "frontend", "7.14.0", env=env, memory="128Mi", cpu="100m", liveness="/", readiness="/"
    )
    v2 = deployment(
        "frontend",
        "7.15.0",
        env=[*env, ("CSP_REPORT_URI", "https://csp.shop.example.com/report")],
        memory="128Mi",
        cpu="100m",
        liveness="/",
        readiness="/",
        annotations={"deployment.kubernetes.io/revision": "2"},
    )
    case = Case(
        "innocent-deploy-expired-cert",
        "A frontend deploy at 13:00 gets the blame; inventory's internal certificate expired",
        "Right after the frontend 7.15.0 deploy at 13:00 UTC product pages and add-to-cart fail. Should we roll back?",
        win,
        "inventory",
        "security",
        "tls",
        acceptable=["inventory", "inventory-tls", "cert-manager", request],
        forbidden=["frontend", "ingress-nginx", "api-gateway", "cart", "checkout"],
        forbidden_signatures=["auth"],
        notes="the deploy is a coincidence (its diff only adds a CSP setting); x509 'certificate "
        "has expired' at 13:00:00 sharp, and cert-manager's renewal had been failing for hours",
        kind="red-herring",
    )
    case.add("deploy-v1.yaml", "config", render.manifests([v1, service("frontend")]))
    case.add("deploy-v2.yaml", "config", render.manifests([v2, service("frontend")]))
    case.add("events.txt", "log", render.k8s_events_table(sim.events("k8s")))
    case.add("gateway.log", "log", render.logfmt(sim.events("api-gateway"), "api-gateway"))
    case.add("pod.log", "log", _go_and_std(sim.events("inventory")))
    return case


SCENARIOS = {
    "healthy-evening-peak": healthy_evening_peak,
    "healthy-benign-errors": healthy_benign_errors,
    "healthy-after-deploy": healthy_after_deploy,
    "noisy-recommendations": noisy_recommendations,
    "loud-callers-slow-provider": loud_callers_slow_provider,
    "recurring-batch-spike": recurring_batch_spike,
    "innocent-deploy-expired-cert": innocent_deploy,
}
