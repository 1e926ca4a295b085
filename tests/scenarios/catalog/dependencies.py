# ruff: noqa: E501
"""A dependency says no: the provider's rate limit, deadlocks in the database, a password
the running pods no longer have."""

from __future__ import annotations

import random

from tests.scenarios import chatter
from tests.scenarios.catalog.shared import hikari_timeouts, pg_syslog, session
from tests.scenarios.evidence import (
    grafana_csv,
    logstash,
    otlp,
    postgres_stderr,
    postgres_syslog,
    prometheus_range,
    spring,
    zap,
)
from tests.scenarios.lines import Line, every, fmt, poisson, randint
from tests.scenarios.metrics import STEP, Source, bucket, measured, rounded, served
from tests.scenarios.sim import PROVIDER, Sim
from tests.scenarios.spec import Answer, Breaks, Scenario, Traffic, pods_of
from tests.scenarios.stage import INCIDENT, At, Ramp, Rise, Stage

# -- provider-rate-limited ------------------------------------------------------------------

RATE_LIMITED = (
    '{"error":{"type":"rate_limit_error","code":"rate_limited","message":"Request rate '
    'limit exceeded for account acct_1Mf3QpL2 (25 requests/s). Retry after 1s."}}'
)


def retrying(attempt: int) -> Line:
    """payments' PayStream client backs off after a 429."""
    return Line(
        "WARN",
        f"PayStream returned 429 Too Many Requests for POST /v1/payment_intents, retrying in {1000 * attempt} ms (attempt {attempt}/3)",
        logger="com.shopfast.payments.provider.PayStreamClient",
        thread=fmt("http-nio-8080-exec-{}", randint(1, 40)),
    )


RETRIES = (retrying(1), retrying(2))


def retried_twice(sim: Sim, t: float, op: str) -> None:
    """A charge throttled three times: two retries, then the error."""
    RETRIES[0].write(sim, "payments", t + 0.06)
    RETRIES[1].write(sim, "payments", t + 1.12)


def throttled(stage: Stage) -> None:
    """From the surge on, PayStream answers 429 to more and more calls; payments retries
    (a second each); a charge fails when its third attempt is throttled too."""
    sim = stage.sim
    Breaks(
        PROVIDER,
        "status",
        caller="payments",
        prob=Ramp(INCIDENT, At(150), 0.55, 0.2),
        status=429,
        message=RATE_LIMITED,
        latency_ms=lambda r, t: 3180 + r.uniform(0, 60),
        on_hit=retried_twice,
    )(stage)

    def retried_once(r: random.Random, t: float) -> float:
        RETRIES[0].write(sim, "payments", t + 0.06)
        return 1060 + r.uniform(0, 40)

    Breaks(PROVIDER, "slow", caller="payments", prob=0.3, latency_ms=retried_once)(stage)


def paystream_calls(throttled: bool) -> Source:
    """Calls to PayStream per second that were (three attempts each) or were not throttled."""

    def source(stage: Stage) -> list[float]:
        rate = [0.0 for _ in stage.times]
        for trace in stage.sim.traces:
            for s in trace.spans:
                i = bucket(stage.times, s.start) if s.peer == PROVIDER else None
                if i is not None and (s.status == 429) == throttled:
                    rate[i] += (3 if throttled else 1) / STEP
        return rounded(rate, 3)

    return source


PROVIDER_RATE_LIMITED = Scenario(
    name="provider-rate-limited",
    when="2026-11-02 08:00:12",
    baseline_min=30,
    after_min=16,
    answer=Answer(
        title="A campaign traffic surge hits the payment provider's per-account rate limit",
        question="Checkout success rate dropped right when the sale email went out (08:00 UTC). Did we run out of capacity somewhere?",
        component=PROVIDER,
        signature="rate-limit",
        acceptable=(PROVIDER, "paystream", "PayStream", "acct_1Mf3QpL2"),
        forbidden=("checkout", "api-gateway", "payments-db", "ingress-nginx", "cart"),
        notes="our own services have headroom; the provider's 429s are retried (WARNs) and only "
        "the third failure becomes an error, so errors lag the surge and latency rises first",
    ),
    traffic=Traffic(
        rates={"checkout": 0.04, "product": 0.04, "cart_view": 0.02, "cart_add": 0.02},
        surge=Rise(1, 1.6, At(-100), At(100)),
    ),
    story=(throttled,),
    everyday=("payments", "checkout"),
    metrics=(
        ({"client": "paystream", "code": "200"}, paystream_calls(throttled=False)),
        ({"client": "paystream", "code": "429"}, paystream_calls(throttled=True)),
        (
            {"app": "checkout", "__name__": "http_server_requests_per_second"},
            served("checkout", "rps", 3),
        ),
        (
            {"app": "payments", "quantile": "0.99", "__name__": "http_server_requests_seconds"},
            served("payments", "p99", 3, unit=1000),
        ),
    ),
    evidence={
        "payments.log": logstash("payments"),
        "checkout.log": spring("checkout", 60),
        "query_range.json": prometheus_range(),
        "traces.json": otlp(20),
    },
)

# -- inventory-db-deadlocks -----------------------------------------------------------------

STOCK_DB = "inventory-db-0"
RESERVE = "UPDATE stock SET reserved = reserved + $1 WHERE sku = $2"


def deadlocking(stage: Stage) -> None:
    """From the sale on, two reservations lock the same stock rows in opposite order: one
    of them is chosen as the victim after deadlock_timeout (1 s)."""
    rng, sim = stage.rng, stage.sim
    chatter.postgres(sim, STOCK_DB, "inventory", ("inventory", "inventory_ro"), syslog=False)
    deadlocks: list[float] = stage.marks.setdefault("deadlocks", [])

    def deadlock(s: Sim, t: float, op: str) -> None:
        deadlocks.append(t)
        a, b = rng.randint(20000, 40000), rng.randint(20000, 40000)
        xa, xb = rng.randint(9_180_000, 9_400_000), rng.randint(9_180_000, 9_400_000)
        tup = f"({rng.randint(100, 2400)},{rng.randint(1, 60)})"
        where = f'CONTEXT:  while updating tuple {tup} in relation "stock"'
        who = "inventory@inventory"
        s.log(
            STOCK_DB,
            t + 1.0,
            "INFO",
            f"LOG:  process {a} detected deadlock while waiting for ShareLock on transaction {xb} after 1000.{rng.randint(10, 99)} ms",
            pod=STOCK_DB,
            pid=a,
            who=who,
            stack=(
                f"DETAIL:  Process holding the lock: {b}. Wait queue: .",
                where,
                f"STATEMENT:  {RESERVE}",
            ),
        )
        s.log(
            STOCK_DB,
            t + 1.0002,
            "ERROR",
            "ERROR:  deadlock detected",
            pod=STOCK_DB,
            pid=a,
            who=who,
            stack=(
                f"DETAIL:  Process {a} waits for ShareLock on transaction {xb}; blocked by process {b}.",
                f"\tProcess {b} waits for ShareLock on transaction {xa}; blocked by process {a}.",
                f"\tProcess {a}: {RESERVE}",
                f"\tProcess {b}: {RESERVE}",
                "HINT:  See server log for query details.",
                where,
                f"STATEMENT:  {RESERVE}",
            ),
        )

    Breaks(
        "inventory-db",
        "error",
        caller="inventory",
        op="UPDATE stock",
        prob=0.3,
        message="ERROR: deadlock detected (SQLSTATE 40P01)",
        latency_ms=lambda r, t: 1000 + r.uniform(1, 25),
        on_hit=deadlock,
    )(stage)


def deadlocks_per_minute(stage: Stage) -> list[float]:
    found = stage.marks["deadlocks"]
    return [float(sum(1 for d in found if t <= d < t + STEP)) for t in stage.times]


INVENTORY_DB_DEADLOCKS = Scenario(
    name="inventory-db-deadlocks",
    when="2026-10-06 12:14:33",
    baseline_min=28,
    after_min=16,
    answer=Answer(
        title="Stock reservations deadlock in inventory-db during a flash sale",
        question="Since the flash sale started at 12:14 UTC about a third of orders fail at 'reserve'. What's wrong?",
        component="inventory-db",
        signature="deadlock",
        acceptable=("inventory-db", STOCK_DB, "postgres", "inventory", "stock"),
        forbidden=("checkout", "api-gateway", "cart", "ingress-nginx", "payments"),
        forbidden_signatures=("rate-limit", "timeout"),
        notes="traffic rises at the same time (the sale) which invites a capacity answer; the "
        "database log shows the two UPDATE stock transactions locking rows in opposite order",
    ),
    traffic=Traffic(
        rates={"checkout": 0.045, "cart_add": 0.035, "product": 0.05},
        surge=Rise(1, 0.8, At(-30), At(30)),
    ),
    story=(
        deadlocking,
        Breaks(
            "inventory-db",
            "slow",
            caller="inventory",
            op="UPDATE stock",
            prob=0.4,
            latency_ms=lambda r, t: r.uniform(40, 900),
        ),
    ),
    everyday=("inventory", "checkout"),
    metrics=(
        (
            'increase(pg_stat_database_deadlocks{instance="inventory-db-0",datname="inventory"}[1m])',
            deadlocks_per_minute,
        ),
        (
            'pg_locks_count{instance="inventory-db-0",datname="inventory",mode="sharelock"}',
            measured(Rise(0.4, 5, At(-30), At(30)), 0.35, digits=0),
        ),
        ("inventory /v1/reservations 5xx %", served("inventory", "err_pct", route="reservations")),
        ("inventory /v1/reservations p99 ms", served("inventory", "p99", route="reservations")),
        ("checkout 5xx %", served("checkout", "err_pct")),
    ),
    evidence={
        "pod-logs-1.log": postgres_stderr(STOCK_DB),
        "pod-logs-2.log": zap("inventory"),
        "checkout.log": spring("checkout", 120),
        "grafana.csv": grafana_csv("epoch_ms"),
    },
)

# -- payments-db-password-rotated -----------------------------------------------------------

DB_HOST = "payments-db-1"
AUTH_FAILED = 'password authentication failed for user "payments_app"'
HBA = 'DETAIL:  Connection matched file "/etc/postgresql/16/main/pg_hba.conf" line 98: "hostssl payments payments_app 10.244.0.0/16 scram-sha-256"'
HEALTH_CHECK_FAILED = Line(
    "WARN",
    "DataSource health check failed",
    logger="org.springframework.boot.actuate.jdbc.DataSourceHealthIndicator",
    thread="http-nio-8081-exec-3",
    stack=(
        "org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to obtain JDBC Connection",
        "\tat org.springframework.jdbc.datasource.DataSourceUtils.getConnection(DataSourceUtils.java:84)",
        f"Caused by: org.postgresql.util.PSQLException: FATAL: {AUTH_FAILED}",
        "\tat org.postgresql.core.v3.ConnectionFactoryImpl.doAuthentication(ConnectionFactoryImpl.java:693)",
    ),
)


def login_refused(sim: Sim, t: float, op: str = "") -> None:
    """A payments pod tries to open a connection with the old password."""
    rng = sim.rng
    client = f"10.244.{rng.choice((1, 2))}.{rng.choice((31, 77))}"
    pg_syslog(
        sim,
        DB_HOST,
        t + rng.uniform(0.001, 0.02),
        f"FATAL:  {AUTH_FAILED}",
        rng.randint(40000, 65000),
        session("payments_app", "payments", "[unknown]", client),
        (HBA,),
    )


def password_rotated(stage: Stage) -> None:
    """Vault rotates the password 41 s before the incident; the pods keep their open
    connections, and as those expire (within 7 minutes) every new one is refused."""
    rng, sim, inc, end = stage.rng, stage.sim, stage.inc, stage.win.end
    chatter.postgres(sim, DB_HOST, "payments", ("payments_app", "payments_ro"), syslog=True)
    pg_syslog(
        sim,
        DB_HOST,
        inc - 41,
        "LOG:  statement: ALTER ROLE \"payments_app\" WITH PASSWORD 'Zq3v8Lr2Xw9tHk4m' VALID UNTIL '2026-11-18 06:00:00+00'",
        rng.randint(40000, 65000),
        session("vault-admin", "postgres", "vault", "10.40.1.12"),
    )
    Breaks(
        "payments-db",
        "client",
        caller="payments",
        prob=Ramp(INCIDENT, At(420), 0.92, 0.12),
        message=hikari_timeouts(
            2, 1, 30, total=lambda t: max(0, round(10 * (1 - min(1.0, (t - inc) / 420))))
        ),
        latency_ms=lambda r, t: 3000 + r.uniform(0, 9),
        on_hit=login_refused,
    )(stage)
    for pod in stage.pods["payments"]:
        for t in poisson(rng, inc, end, 12):
            login_refused(sim, t)
        for t in every(rng, inc + rng.uniform(5, 30), end, 30, 0.02):
            HEALTH_CHECK_FAILED.write(sim, "payments", t, pod=pod)


def caused_by_auth(stage: Stage) -> None:
    """The pool timeouts' stack traces end with the authentication failure."""
    for e in stage.sim.logs["payments"]:
        if "HikariPool-1 - Connection is not available" in e.msg:
            e.stack = (
                *e.stack,
                f"Caused by: org.postgresql.util.PSQLException: FATAL: {AUTH_FAILED}",
                "\t... 12 common frames omitted",
            )


PAYMENTS_DB_PASSWORD_ROTATED = Scenario(
    name="payments-db-password-rotated",
    when="2026-10-19 06:00:41",
    baseline_min=30,
    after_min=15,
    answer=Answer(
        title="Vault rotated the payments DB password; running pods keep the old one",
        question="Payments errors started around 06:01 UTC, nothing was deployed. What changed?",
        component="payments",
        signature="auth",
        acceptable=("payments", pods_of("payments"), "payments-db", "payments_app", DB_HOST),
        forbidden=("checkout", "api-gateway", "ingress-nginx", PROVIDER),
        forbidden_signatures=("db-pool-exhausted",),
        notes="the app-side message is a Hikari pool timeout (matches db-pool first) that fills up "
        "as old connections expire; the cause is the FATAL password failure after ALTER ROLE",
    ),
    traffic=Traffic(rates={"checkout": 0.05, "product": 0.05}),
    story=(password_rotated,),
    everyday=("payments", "checkout"),
    aftermath=(caused_by_auth,),
    evidence={
        "app-logs.jsonl": logstash("payments"),
        "messages": postgres_syslog(DB_HOST),
        "checkout.log": spring("checkout", 120),
        "otlp.json": otlp(18),
    },
)

SCENARIOS = (PROVIDER_RATE_LIMITED, INVENTORY_DB_DEADLOCKS, PAYMENTS_DB_PASSWORD_ROTATED)
