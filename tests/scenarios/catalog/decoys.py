# ruff: noqa: E501
"""Red herrings: something loud and wrong next to something quiet and right. A noisy service
that always fails, callers that shout about a slow callee, an error spike that is in the
baseline as well, a deploy that happened at the same minute."""

from __future__ import annotations

from dataclasses import replace

from tests.scenarios import chatter, formats
from tests.scenarios.catalog.shared import (
    JDBC,
    broker_unreachable,
    kafka_expiring,
    pg_syslog,
    session,
)
from tests.scenarios.evidence import (
    grafana_csv,
    jaeger,
    k8s_events,
    logfmt,
    manifests,
    nginx,
    postgres_syslog,
    spring,
    structlog,
    text,
    zap,
)
from tests.scenarios.k8s import Deployment
from tests.scenarios.lines import Every, Line, Poisson, fmt, k8s_event, randint
from tests.scenarios.metrics import at_edge, bucket, exact, measured, served
from tests.scenarios.sim import PROVIDER, Fault, Sim, lognormal
from tests.scenarios.spec import Answer, Breaks, Release, Repeat, Scenario, Traffic
from tests.scenarios.stage import INCIDENT, START, At, Rise, Stage, Switch

# -- noisy-recommendations ------------------------------------------------------------------

DB_HOST = "payments-db-1"


def disk_full(stage: Stage) -> None:
    """payments-db's data disk is full from the incident on: every INSERT fails, the host's
    syslog says why (without levels)."""
    rng, sim = stage.rng, stage.sim
    chatter.postgres(sim, DB_HOST, "payments", ("payments_app", "payments_ro"), syslog=True)
    relfile = "base/16402/18833." + str(rng.randint(3, 9))
    no_space = f'could not extend file "{relfile}": No space left on device'

    def enospc(s: Sim, t: float, op: str) -> None:
        pg_syslog(
            s,
            DB_HOST,
            t + 0.001,
            f"ERROR:  {no_space}",
            rng.randint(30000, 60000),
            session("payments_app", "payments", JDBC, f"10.244.2.{rng.choice((31, 77))}"),
            (
                "HINT:  Check free disk space.",
                "STATEMENT:  INSERT INTO payments (id, order_id, amount, status) VALUES ($1, $2, $3, 'pending')",
            ),
        )

    sim.faults.append(
        Fault(
            "payments-db",
            "error",
            stage.inc,
            caller="payments",
            op="INSERT",
            prob=0.97,
            message=f"ERROR: {no_space}",
            latency_ms=lambda r, t: lognormal(r, 3.0),
            on_hit=enospc,
        )
    )


NOISY_RECOMMENDATIONS = Scenario(
    name="noisy-recommendations",
    when="2026-10-30 22:47:19",
    baseline_min=33,
    after_min=14,
    answer=Answer(
        title="recommendations fails all day; the real problem is a full disk on payments-db",
        question="Lots of errors in the gateway tonight, recommendations is spamming errors. Is that why orders fail since ~22:47 UTC?",
        kind="red-herring",
        component="payments-db",
        signature="disk-full",
        acceptable=("payments-db", DB_HOST, "postgres", "/var/lib/postgresql"),
        forbidden=("recommendations", "feature-store", "checkout", "api-gateway", "payments"),
        forbidden_signatures=("timeout",),
        notes="recommendations logs more errors than anything else, at the same rate before and "
        "after; the ENOSPC lines on the database host (syslog, no levels) start at the incident",
    ),
    traffic=Traffic(
        rates={
            "recs": 0.06,
            "product": 0.035,
            "static": 0.0,
            "checkout": 0.045,
            "cart_view": 0.02,
            "cart_add": 0.02,
        },
        gateway_info_every=3,
    ),
    story=(
        Breaks(  # all day long
            "feature-store",
            "error",
            caller="recommendations",
            start=START,
            prob=0.38,
            message=lambda r, t: r.choice(
                (
                    "Timeout reading from socket",
                    "Error 111 connecting to feature-store:6379. Connection refused.",
                )
            ),
            latency_ms=lambda r, t: r.choice((800.0, 1.2)),
        ),
        Repeat(
            "recommendations",
            Every(150, 0.3),
            Line(
                "ERROR",
                "model refresh failed",
                logger="recs.model",
                fields={
                    "model": "als-v42",
                    "error": "403 Forbidden: gs://shop-ml/recs/als-v42/embeddings-00003-of-00008.npy",
                    "exc_type": "google.api_core.exceptions.Forbidden",
                },
            ),
        ),
        disk_full,
    ),
    everyday=("api-gateway", "checkout"),
    metrics=(
        ("recommendations 5xx %", served("recommendations", "err_pct")),
        ("checkout 5xx %", served("checkout", "err_pct")),
        ("ingress 5xx/s", at_edge("5xx_rps")),
        (
            'node_filesystem used % {instance="payments-db-1",mountpoint="/var/lib/postgresql"}',
            measured(Rise(93.2, 6.8, At(-1800, "start"), INCIDENT), 0.001, ceiling=100, digits=2),
        ),
        (
            'pg_stat_database_xact_commit rate {datname="payments"}',
            measured(Switch(4.1, 0.9), 0.1, digits=2),
        ),
    ),
    evidence={
        "gateway.log": logfmt("api-gateway"),
        "recs-pods.jsonl": structlog("recommendations"),
        "checkout.log": spring("checkout", 60),
        "syslog.txt": postgres_syslog(DB_HOST),
        "dashboard.csv": grafana_csv(),
    },
)

# -- loud-callers-slow-provider -------------------------------------------------------------

LOUD_CALLERS_SLOW_PROVIDER = Scenario(
    name="loud-callers-slow-provider",
    when="2026-11-14 17:55:03",
    baseline_min=30,
    after_min=15,
    answer=Answer(
        title="The payment provider slows down; checkout, gateway and ingress shout about timeouts",
        question="Checkout is timing out like crazy since 17:55 UTC and the gateway is full of 504s. Is checkout overloaded?",
        kind="red-herring",
        component=PROVIDER,
        signature="timeout",
        acceptable=(PROVIDER, "paystream", "PayStream"),
        forbidden=("checkout", "api-gateway", "ingress-nginx", "payments", "payments-db"),
        notes="no payments log was uploaded: only the traces show that the time is spent in "
        "payments' client span to the provider; every other file shows victims",
    ),
    traffic=Traffic(
        rates={
            "product": 0.035,
            "static": 0.015,
            "cart_view": 0.02,
            "cart_add": 0.02,
            "checkout": 0.055,
        },
        gateway_info_every=2,
    ),
    story=(
        Breaks(
            PROVIDER,
            "slow",
            caller="payments",
            prob=0.85,
            latency_ms=lambda r, t: lognormal(r, 6200.0, 0.4),
        ),
    ),
    everyday=("api-gateway", "checkout"),
    evidence={
        "access.log": nginx(),
        "gateway.log": logfmt("api-gateway"),
        "checkout.log": spring("checkout", 60),
        "traces.json": jaeger(24),
    },
)

# -- recurring-batch-spike ------------------------------------------------------------------

SYNC_ROW_FAILED = Line(
    "ERROR",
    "price sync: update failed",
    logger="pricing/sync.go:97",
    fields={
        "sku": fmt("SKU-{}", randint(10000, 99999)),
        "error": "ERROR: canceling statement due to lock timeout (SQLSTATE 55P03)",
    },
)


def price_sync(stage: Stage) -> None:
    """A job at 5, 20, 35 and 50 past the hour: some of its row updates wait for locks
    and time out, and inventory is slower while it runs."""
    rng, sim, win = stage.rng, stage.sim, stage.win
    hour = win.start - win.start % 3600
    batches = [hour + m * 60 + rng.uniform(2, 8) for m in range(5, 180, 15)]
    for b in [b for b in batches if win.start < b < win.end]:
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
        failures = sorted(rng.uniform(b + 3, b + 70) for _ in range(rng.randint(22, 38)))
        for t in failures:
            SYNC_ROW_FAILED.write(sim, "inventory", t)
        sim.log(
            "inventory",
            b + rng.uniform(74, 80),
            "WARN",
            "price sync finished with errors",
            logger="pricing/sync.go:131",
            updated=rows - len(failures),
            failed=len(failures),
            took=f"{rng.uniform(74, 80):.1f}s",
        )
        sim.faults.append(
            Fault(
                "inventory", "slow", b, b + 75, prob=0.5, latency_ms=lambda r, t: r.uniform(80, 600)
            )
        )


def inventory_errors_per_minute(stage: Stage) -> list[float]:
    errors = [0.0 for _ in stage.times]
    for e in stage.sim.logs["inventory"]:
        i = bucket(stage.times, e.t)
        if e.level == "ERROR" and i is not None:
            errors[i] += 1
    return errors


RECURRING_BATCH_SPIKE = Scenario(
    name="recurring-batch-spike",
    when="2026-11-19 02:30:26",
    baseline_min=40,
    after_min=14,
    answer=Answer(
        title="A price-sync job spikes inventory errors every 15 min; the real issue is kafka-0 down",
        question="We see a big spike of inventory errors at 02:35 UTC and orders failing since ~02:30. Is it the inventory database?",
        kind="red-herring",
        component="kafka-0",
        signature="conn-refused",
        acceptable=("kafka-0", "kafka", "broker 0"),
        forbidden=("inventory", "inventory-db", "checkout", "api-gateway"),
        forbidden_signatures=("deadlock",),
        notes="the lock-timeout burst repeats every 15 minutes in the baseline; the producer only "
        "says node 0 'could not be established' (refusals show at DEBUG) and metrics show it down",
    ),
    traffic=Traffic(
        rates={"product": 0.04, "checkout": 0.05, "cart_add": 0.025},
        gateway_info_every=3,
        timeouts={("checkout", "kafka"): 6000.0},
    ),
    story=(
        price_sync,
        Breaks(
            "kafka",
            "error",
            caller="checkout",
            prob=0.34,
            message=kafka_expiring((0, 3, 6, 9)),
            latency_ms=lambda r, t: 5003 + r.uniform(0, 9),
        ),
        Repeat("checkout", Poisson(20), broker_unreachable(0, "10.244.5.21"), since=At(1)),
    ),
    everyday=("inventory", "checkout", "api-gateway"),
    metrics=(
        ("inventory errors/min", inventory_errors_per_minute),
        ("checkout 5xx %", served("checkout", "err_pct")),
        ('up{job="kafka",instance="kafka-0:9308"}', exact(Switch(1.0, 0.0))),
        ('up{job="kafka",instance="kafka-1:9308"}', exact(1.0)),
        ('up{job="kafka",instance="kafka-2:9308"}', exact(1.0)),
        ("kafka_topic_partition_under_replicated{topic=order-events}", exact(Switch(0.0, 4.0))),
    ),
    evidence={
        "inventory.log": zap("inventory"),
        "checkout.log": spring("checkout", 60),
        "gateway.log": logfmt("api-gateway"),
        "grafana.csv": grafana_csv("epoch_ms"),
    },
)

# -- innocent-deploy-expired-cert -----------------------------------------------------------

CERT_REQUEST = "inventory-tls-7m2xq"
EXPIRY = "2026-10-26T13:00:00Z"
JAVA_PKIX = "javax.net.ssl.SSLHandshakeException: PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed"


def go_x509(r: object, t: float) -> str:
    return (
        "tls: failed to verify certificate: x509: certificate has expired or is not yet "
        f"valid: current time {formats.iso(t, digits=0)} is after {EXPIRY}"
    )


def bad_certificate(sim: Sim, t: float, op: str) -> None:
    """inventory's net/http logs (std logger, not zap) most handshakes its clients abort."""
    rng = sim.rng
    if rng.random() < 0.6:
        sim.log(
            "inventory",
            t + 0.002,
            "ERROR",
            f"http: TLS handshake error from 10.244.{rng.randint(1, 3)}.{rng.randint(2, 250)}:{rng.randint(32768, 60999)}: remote error: tls: bad certificate",
            stdlog=True,
        )


def renewal_failing(sim: Sim, t: float) -> None:
    """cert-manager retries the certificate's renewal; Vault refuses to sign."""
    k8s_event(
        sim,
        t,
        "Failed",
        f"certificaterequest/{CERT_REQUEST}",
        "Vault failed to sign certificate: failed to sign certificate by vault: Error making API request. URL: PUT https://vault.infra.svc:8200/v1/pki_int/sign/shop-internal Code: 403. Errors: * permission denied",
        warning=True,
        source="cert-manager-certificaterequests-issuer-vault",
    )
    k8s_event(
        sim,
        t + 0.4,
        "Issuing",
        "certificate/inventory-tls",
        f'The certificate request has failed to complete and will be retried: The CertificateRequest "{CERT_REQUEST}" failed',
        source="cert-manager-certificates-issuing",
    )


def node_words_it_differently(stage: Stage) -> None:
    """cart (Node) names the failure by its code."""
    for e in stage.sim.logs["cart"]:
        err = e.fields.get("err")
        if isinstance(err, dict) and "certificate has expired" in str(err):
            e.fields["err"] = {
                "type": "Error",
                "message": "certificate has expired",
                "code": "CERT_HAS_EXPIRED",
            }


def inventory_and_std_log(stage: Stage) -> bytes:
    """inventory's container log: zap console lines, and the lines net/http writes with the
    std logger ('2026/10/26 13:00:01 http: TLS handshake error ...')."""
    out = []
    for e in stage.sim.events("inventory"):
        if e.fields.get("stdlog"):
            out.append(formats.dt(e.t).strftime("%Y/%m/%d %H:%M:%S ") + e.msg)
        else:
            out.append(formats.zap_console([e]).decode().rstrip("\n"))
    return formats.lines(out)


FRONTEND_ENV = (("API_BASE", "/api"), ("ASSET_CDN", "https://cdn.shop.example.com"))
FRONTEND_V1 = Deployment(
    "frontend", "7.14.0", env=FRONTEND_ENV, memory="128Mi", cpu="100m", liveness="/", readiness="/"
)
FRONTEND_V2 = replace(
    FRONTEND_V1,
    version="7.15.0",
    env=(*FRONTEND_ENV, ("CSP_REPORT_URI", "https://csp.shop.example.com/report")),
    annotations={"deployment.kubernetes.io/revision": "2"},
)

INNOCENT_DEPLOY = Scenario(
    name="innocent-deploy-expired-cert",
    when="2026-10-26 13:00:00",
    baseline_min=30,
    after_min=15,
    answer=Answer(
        title="A frontend deploy at 13:00 gets the blame; inventory's internal certificate expired",
        question="Right after the frontend 7.15.0 deploy at 13:00 UTC product pages and add-to-cart fail. Should we roll back?",
        kind="red-herring",
        component="inventory",
        signature="tls",
        acceptable=("inventory", "inventory-tls", "cert-manager", CERT_REQUEST),
        forbidden=("frontend", "ingress-nginx", "api-gateway", "cart", "checkout"),
        forbidden_signatures=("auth",),
        notes="the deploy is a coincidence (its diff only adds a CSP setting); x509 'certificate "
        "has expired' at 13:00:00 sharp, and cert-manager's renewal had been failing for hours",
    ),
    traffic=Traffic(
        rates={"product": 0.06, "cart_add": 0.04, "static": 0.04}, gateway_info_every=3
    ),
    release=Release("frontend", "7.14.0", "7.15.0", at=-40),
    story=(
        *(
            Breaks(
                "inventory",
                "client",
                caller=caller,
                message=message,
                latency_ms=lambda r, t: lognormal(r, 2.5),
                on_hit=bad_certificate,
            )
            for caller, message in (
                ("api-gateway", go_x509),
                ("cart", "certificate has expired"),
                ("checkout", JAVA_PKIX),
            )
        ),
        Repeat("k8s", Every(600, 0.02), renewal_failing),
    ),
    cluster_noise=True,
    everyday=("api-gateway", "inventory"),
    aftermath=(node_words_it_differently,),
    evidence={
        "deploy-v1.yaml": manifests(FRONTEND_V1),
        "deploy-v2.yaml": manifests(FRONTEND_V2),
        "events.txt": k8s_events(),
        "gateway.log": logfmt("api-gateway"),
        "pod.log": text(inventory_and_std_log),
    },
)

SCENARIOS = (
    NOISY_RECOMMENDATIONS,
    LOUD_CALLERS_SLOW_PROVIDER,
    RECURRING_BATCH_SPIKE,
    INNOCENT_DEPLOY,
)
