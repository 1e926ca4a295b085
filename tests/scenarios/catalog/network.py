# ruff: noqa: E501
"""Network failures: DNS, TLS, refused connections, a slow dependency."""

from __future__ import annotations

import random

from tests.scenarios import chatter
from tests.scenarios.catalog.shared import JDBC, pg_syslog, session
from tests.scenarios.chatter import dns_timeout
from tests.scenarios.evidence import (
    grafana_csv,
    jaeger,
    k8s_events,
    kubectl_logs,
    logstash,
    nginx,
    otlp,
    pino,
    postgres_syslog,
    redis,
    span_csv,
    spring,
)
from tests.scenarios.lines import Line, Poisson, every, k8s_event, poisson
from tests.scenarios.metrics import MIB, at_edge, exact, measured, served, while_up
from tests.scenarios.sim import PROVIDER, Fault, Sim, lognormal
from tests.scenarios.spec import Answer, Breaks, Repeat, Scenario, Traffic
from tests.scenarios.stage import INCIDENT, At, Rise, Stage, Switch

# -- coredns-upstream-timeouts --------------------------------------------------------------

DNS_PODS = ("coredns-5d78c9869d-7xk2q", "coredns-5d78c9869d-h9wzp")
VENDOR_NAMES = ("api.segment.io", "hooks.slack.com", "sentry.io", "o4504.ingest.sentry.io")


def resolver_timeout(sim: Sim, t: float, op: str) -> None:
    """A lookup of the provider's name: CoreDNS waits 2 s for its upstream, for A and AAAA."""
    rng = sim.rng
    for qtype in ("A", "AAAA"):
        pod = rng.choice(DNS_PODS)
        sim.log(pod, t + rng.uniform(2, 2.1), "ERROR", dns_timeout(PROVIDER, qtype, rng), pod=pod)


def upstream_unreachable(stage: Stage) -> None:
    """CoreDNS has its usual chatter; from the incident every external name times out."""
    rng, sim = stage.rng, stage.sim
    for pod in DNS_PODS:
        chatter.coredns(sim, pod)
    for t in poisson(rng, stage.inc, stage.win.end, 45):
        host = rng.choice(VENDOR_NAMES)
        pod = rng.choice(DNS_PODS)
        sim.log(pod, t, "ERROR", dns_timeout(host, "A", rng), pod=pod)


COREDNS_UPSTREAM_TIMEOUTS = Scenario(
    name="coredns-upstream-timeouts",
    when="2026-10-14 16:21:30",
    baseline_min=30,
    after_min=15,
    answer=Answer(
        title="Cluster DNS cannot reach its upstream resolver: external names fail",
        question="Payments can't reach PayStream since ~16:21 UTC, is PayStream down?",
        component="coredns",
        signature="dns",
        acceptable=("coredns", "kube-dns", "dns", *DNS_PODS, "169.254.169.253"),
        forbidden=(PROVIDER, "payments", "checkout", "api-gateway"),
        notes="the question blames the provider; payments logs UnknownHostException, and CoreDNS "
        "shows upstream i/o timeouts for every external name, not only the provider's",
    ),
    traffic=Traffic(rates={"product": 0.05}),
    story=(
        upstream_unreachable,
        Breaks(
            PROVIDER,
            "client",
            caller="payments",
            prob=0.96,
            message=f"java.net.UnknownHostException: {PROVIDER}: Temporary failure in name resolution",
            latency_ms=lambda r, t: (
                5004 + r.uniform(0, 30) if r.random() < 0.5 else r.uniform(0.2, 1.5)
            ),
            on_hit=resolver_timeout,
        ),
        Repeat(
            "payments",
            Poisson(150),
            Line(
                "WARN",
                "Sentry event dropped: java.net.UnknownHostException: o4504.ingest.sentry.io",
                logger="io.sentry.transport.AsyncHttpTransport",
                thread="SentryAsyncConnection-0",
            ),
            since=INCIDENT,
        ),
    ),
    everyday=("payments", "checkout"),
    evidence={
        "payments.jsonl": logstash("payments"),
        "pod-2.log": kubectl_logs(DNS_PODS[0]),
        "pod-1.log": spring("checkout", 120),
        "otel-traces.json": otlp(20),
    },
)


# -- provider-cert-expired ------------------------------------------------------------------


def certificate_expired(stage: Stage) -> None:
    """The PKIX failure's stack trace names the expired certificate."""
    for e in stage.sim.logs["payments"]:
        if "SSLHandshakeException" in e.msg:
            e.stack = (
                *e.stack[:1],
                "Caused by: java.security.cert.CertificateExpiredException: NotAfter: Thu Oct 01 00:00:00 UTC 2026",
                "\tat java.base/sun.security.x509.CertificateValidity.valid(CertificateValidity.java:182)",
                *e.stack[1:],
            )


PROVIDER_CERT_EXPIRED = Scenario(
    name="provider-cert-expired",
    when="2026-10-01 00:00:00",
    baseline_min=26,
    after_min=14,
    answer=Answer(
        title="The payment provider's TLS certificate expired at midnight",
        question="Every checkout fails since just after midnight UTC. Nothing was deployed. What happened?",
        component=PROVIDER,
        signature="tls",
        acceptable=(PROVIDER, "paystream", "PayStream"),
        forbidden=("payments", "checkout", "api-gateway", "payments-db", "ingress-nginx"),
        notes="checkout and the ingress show 502s; only payments' stack traces carry the PKIX / "
        "CertificateExpiredException of the external provider",
    ),
    traffic=Traffic(
        rates={"product": 0.045, "static": 0.02, "cart_view": 0.025}, gateway_info_every=2
    ),
    story=(
        Breaks(
            PROVIDER,
            "client",
            caller="payments",
            message="javax.net.ssl.SSLHandshakeException: PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed",
            latency_ms=lambda r, t: lognormal(r, 45.0),
        ),
    ),
    everyday=("payments", "checkout"),
    aftermath=(certificate_expired,),
    evidence={
        "access.log": nginx(),
        "payments-export.json": logstash("payments"),
        "checkout.txt": spring("checkout", 120),
        "jaeger.json": jaeger(18),
    },
)

# -- cart-cache-down ------------------------------------------------------------------------

REDIS_POD = "cart-cache-0"
REFUSED = "connect ECONNREFUSED 10.96.112.40:6379"
PVC = "pvc-3f9c1e2a-7b4d-4c1e-9f0a-5d2b8e6c4a71"
OLD_NODE, NEW_NODE = "gke-shop-prod-pool-1-3c8e0a7d-q4nf", "gke-shop-prod-pool-1-3c8e0a7d-z9tb"
REDIS_SHUTDOWN = (  # (seconds after SIGTERM, level, message)
    (0.0, "WARN", "Received SIGTERM scheduling shutdown..."),
    (0.1, "WARN", "User requested shutdown..."),
    (0.1, "INFO", "Saving the final RDB snapshot before exiting."),
    (0.5, "INFO", "DB saved on disk"),
    (0.5, "INFO", "Removing the pid file."),
    (0.6, "WARN", "Redis is now ready to exit, bye bye..."),
)


def redis_evicted(stage: Stage) -> None:
    """Redis saves its snapshots, then a node scale-down stops it cleanly (`gone`), a few
    seconds before the incident."""
    rng, sim, inc = stage.rng, stage.sim, stage.inc
    chatter.redis(sim, REDIS_POD)
    sim.logs[REDIS_POD] = [e for e in sim.logs[REDIS_POD] if e.t < inc - 60]
    gone = stage.marks["gone"] = inc - rng.uniform(3, 6)
    for after, level, msg in REDIS_SHUTDOWN:
        sim.log(REDIS_POD, gone + after, level, msg, pod=REDIS_POD, pid=1)


def cart_reconnects(stage: Stage) -> None:
    """ioredis in cart retries with a growing delay, for ever."""
    rng, sim = stage.rng, stage.sim
    t, attempt = stage.inc + 0.2, 1
    while t < stage.win.end:
        sim.log(
            "cart",
            t,
            "WARN",
            "redis reconnecting",
            host="cart-cache",
            attempt=attempt,
            delay=min(2000, 50 * attempt),
            err={"type": "Error", "message": REFUSED, "code": "ECONNREFUSED"},
        )
        attempt += 1
        t += min(2.0, 0.05 * attempt) + rng.uniform(9, 16)


def volume_stuck(stage: Stage) -> None:
    """The autoscaler drains the node; the new pod cannot attach the volume, still attached
    to the old node, every two minutes."""
    rng, sim, gone = stage.rng, stage.sim, stage.marks["gone"]
    pod = f"pod/{REDIS_POD}"
    for at, reason, obj, msg, source in (
        (
            gone - 40,
            "ScaleDown",
            f"node/{OLD_NODE}",
            f"node removed by cluster autoscaler: {OLD_NODE} utilization 0.21 below threshold",
            "cluster-autoscaler",
        ),
        (gone - 38, "ScaleDown", pod, "deleting pod for node scale down", "cluster-autoscaler"),
        (gone - 0.5, "Killing", pod, "Stopping container redis", "kubelet"),
        (
            gone + 2,
            "Scheduled",
            pod,
            f"Successfully assigned shop/{REDIS_POD} to {NEW_NODE}",
            "default-scheduler",
        ),
    ):
        k8s_event(sim, at, reason, obj, msg, source=source)
    for n, t in enumerate(every(rng, gone + 3, stage.win.end, 125, 0.05), start=1):
        k8s_event(
            sim,
            t,
            "FailedAttachVolume",
            pod,
            f'Multi-Attach error for volume "{PVC}" Volume is already exclusively attached to one node and can\'t be attached to another',
            warning=True,
            count=n,
            source="attachdetach-controller",
        )
        if n % 2 == 0:
            k8s_event(
                sim,
                t + 1,
                "FailedMount",
                pod,
                "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data kube-api-access-7kq2m]: timed out waiting for the condition",
                warning=True,
                count=n // 2,
            )


def volume_failures_since(stage: Stage) -> None:
    """The event exporter shows when the repeated volume events were first seen."""
    for e in stage.sim.logs["k8s"]:
        if e.fields.get("reason") in ("FailedAttachVolume", "FailedMount"):
            e.fields["first"] = stage.marks["gone"] + 3


CART_CACHE_DOWN = Scenario(
    name="cart-cache-down",
    when="2026-11-12 11:03:52",
    baseline_min=27,
    after_min=15,
    answer=Answer(
        title="The cart's Redis was evicted by a node scale-down and cannot come back",
        question="Carts are broken for everyone since 11:04 UTC, cart pods are up and healthy. Ideas?",
        component="cart-cache",
        signature="conn-refused",
        acceptable=("cart-cache", REDIS_POD, "redis", PVC),
        forbidden=("cart", "api-gateway", "checkout", "ingress-nginx"),
        notes="cart logs all the errors (ECONNREFUSED); Redis' own log just ends after a clean "
        "SIGTERM shutdown; events (JSON) show the volume stuck attached to the old node",
    ),
    traffic=Traffic(rates={"cart_view": 0.06, "cart_add": 0.05, "checkout": 0.04}),
    story=(
        redis_evicted,
        Breaks("cart-cache", "refused", caller="cart", message=REFUSED),
        cart_reconnects,
        volume_stuck,
    ),
    cluster_noise=True,
    everyday=("cart",),
    aftermath=(volume_failures_since,),
    metrics=(
        ('redis_up{instance="cart-cache-0"}', exact(Switch(1.0, 0.0, At(0, "gone")))),
        (
            'redis_connected_clients{instance="cart-cache-0"}',
            while_up(lambda r: float(r.randint(38, 46)), "gone"),
        ),
        (
            'redis_memory_used_bytes{instance="cart-cache-0"}',
            while_up(lambda r: round(r.uniform(182, 186) * MIB), "gone"),
        ),
        ("cart 5xx (%)", served("cart", "err_pct")),
        ("cart p99 (ms)", served("cart", "p99")),
        ("ingress 5xx/s", at_edge("5xx_rps")),
    ),
    evidence={
        "pod-a.jsonl": pino("cart"),
        "pod-b.log": redis(REDIS_POD),
        "event-exporter.jsonl": k8s_events("shop-prod"),
        "grafana.csv": grafana_csv("space"),
    },
)

# -- payments-db-slow-queries ---------------------------------------------------------------

DB_HOST = "payments-db-1"
APP_CLIENT = "10.244.2.31"
UPDATE = "UPDATE payments SET status = $1, provider_ref = $2 WHERE order_id = $3"
NEW_INDEX = "CREATE INDEX CONCURRENTLY payments_order_id_status_idx ON payments (order_id, status)"
MIGRATION = (  # (seconds after the incident start, what the migrator's session logs)
    (-42, "LOG:  statement: DROP INDEX CONCURRENTLY IF EXISTS payments_order_id_idx"),
    (
        -41,
        "LOG:  duration: 812.455 ms  statement: DROP INDEX CONCURRENTLY IF EXISTS payments_order_id_idx",
    ),
    (-40, f"LOG:  statement: {NEW_INDEX}"),
)


def payments_db_log(
    sim: Sim, t: float, msg: str, pid: int, user: str, stack: tuple[str, ...] = ()
) -> None:
    pg_syslog(sim, DB_HOST, t, msg, pid, session(user, "payments", JDBC, APP_CLIENT), stack)


def index_dropped(stage: Stage) -> None:
    """A migration drops the index on order_id (and builds a new one, slowly): from then on
    payments' UPDATE scans the table, taking seconds, now and then past the 8 s timeout."""
    rng, sim, inc = stage.rng, stage.sim, stage.inc
    chatter.postgres(sim, DB_HOST, "payments", ("payments_app", "payments_ro"), syslog=True)
    migrator = rng.randint(20000, 30000)
    for after, msg in MIGRATION:
        payments_db_log(sim, inc + after, msg, migrator, "migrator")

    def slow_update(r: random.Random, t: float) -> float:
        ms = min(7900.0, lognormal(r, 3900.0, 0.45))
        pid = r.randint(30000, 60000)
        params = f"DETAIL:  parameters: $1 = 'authorized', $2 = 'pi_{r.getrandbits(48):012x}', $3 = '{sim.order_seq}'"
        payments_db_log(
            sim,
            t + ms / 1000,
            f"LOG:  duration: {ms:.3f} ms  execute S_3: {UPDATE}",
            pid,
            "payments_app",
            (params,),
        )
        return ms

    def canceled(s: Sim, t: float, op: str) -> None:
        pid = s.rng.randint(30000, 60000)
        msg = "ERROR:  canceling statement due to statement timeout"
        payments_db_log(s, t + 8.0, msg, pid, "payments_app", (f"STATEMENT:  {UPDATE}",))

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
            latency_ms=slow_update,
        ),
    ]
    done = f"LOG:  duration: 1184233.118 ms  statement: {NEW_INDEX}"
    payments_db_log(sim, stage.win.end - 30, done, migrator, "migrator")


PAYMENTS_DB_SLOW_QUERIES = Scenario(
    name="payments-db-slow-queries",
    when="2026-10-27 10:48:05",
    baseline_min=34,
    after_min=14,
    answer=Answer(
        title="A dropped index makes payment updates scan the table; callers time out",
        question="Checkout requests time out (504) since ~10:48 UTC. Payments pods look fine. Where's the problem?",
        component="payments-db",
        signature="timeout",
        acceptable=("payments-db", DB_HOST, "postgres", "payments_order_id_idx"),
        forbidden=("checkout", "api-gateway", "payments", PROVIDER),
        notes="checkout times out at 5 s while payments mostly succeeds slowly; the database log "
        "shows the index dropped 40 s before and 4 s UPDATEs (seq scans) from then on",
    ),
    traffic=Traffic(rates={"product": 0.05, "checkout": 0.055}),
    story=(index_dropped,),
    everyday=("payments", "checkout"),
    metrics=(
        (
            "pg_stat_statements mean_exec_time UPDATE payments (ms)",
            measured(Rise(1.6, 4300, INCIDENT, At(45)), 0.15, digits=1),
        ),
        (
            "payments-db cpu (%)",
            measured(Rise(24, 58, INCIDENT, At(45)), 0.06, ceiling=100, digits=1),
        ),
        (
            "payments-db disk read (MB/s)",
            measured(Rise(3, 180, INCIDENT, At(45)), 0.1, digits=1),
        ),
        ("payments p99 (ms)", served("payments", "p99")),
        ("checkout 5xx (%)", served("checkout", "err_pct")),
    ),
    evidence={
        "syslog": postgres_syslog(DB_HOST),
        "payments-pods.jsonl": logstash("payments"),
        "checkout-pods.log": spring("checkout", 60),
        "dashboard.csv": grafana_csv(),
        "spans.csv": span_csv(30),
    },
)

SCENARIOS = (
    COREDNS_UPSTREAM_TIMEOUTS,
    PROVIDER_CERT_EXPIRED,
    CART_CACHE_DOWN,
    PAYMENTS_DB_SLOW_QUERIES,
)
