# ruff: noqa: E501
"""Scenarios, part 2: bad releases, capacity, concurrency, credentials, code and config."""

from __future__ import annotations

import random

from tests.scenarios import chatter, render
from tests.scenarios.kit import (
    Case,
    Window,
    crash_cycles,
    deployment,
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
from tests.scenarios.sim import PROVIDER, Fault, Sim, ramp

NODE_STACK = (
    "    at decodeItem (/app/dist/cart/codec.js:41:11)",
    "    at Array.map (<anonymous>)",
    "    at CartRepository.load (/app/dist/cart/repository.js:88:27)",
    "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
)


def first_start(sim: Sim, service_name: str, version: str) -> float:
    return min(r.start for r in sim.replicas[service_name] if r.version == version)


def cart_bad_release(rng: random.Random) -> Case:
    win = Window.of("2026-11-17 15:30:20", 30, 15)
    sim = Shop(
        rng,
        win.start,
        win.end,
        rates={
            "product": 0.03,
            "static": 0.02,
            "cart_view": 0.05,
            "cart_add": 0.035,
            "checkout": 0.04,
        },
    )
    sim.gateway_info_every = 2
    standard(sim, skip=("cart",))
    _, new = rollout(sim, "cart", "4.2.7", "4.3.0", win.pivot - 12, replicas=3, gap=40)
    win.incident = round(first_start(sim, "cart", "4.3.0"))
    sim.faults.append(
        Fault(
            "cart",
            "crash",
            win.start,
            op="/v1/carts/",
            prob=0.7,
            pod_version="4.3.0",
            status=500,
            message="unsupported cart item schema v3",
            stack=NODE_STACK,
        )
    )
    chatter.k8s_background(sim)
    everyday(sim, ("cart", "api-gateway"))
    sim.run()
    case = Case(
        "cart-bad-release-5xx",
        "cart 4.3.0 answers 500 for carts holding items of the old schema",
        "Lots of 500s on the cart page since ~15:30 UTC. Is the gateway broken again?",
        win,
        "cart",
        "availability",
        "http-5xx",
        acceptable=["cart", *new, "cart:4.3.0"],
        forbidden=["api-gateway", "ingress-nginx", "checkout", "cart-cache"],
        notes="the 500s ramp up as the rolling update replaces pods; the gateway and ingress only "
        "relay them; checkout fails too because it reads the cart",
    )
    case.add("access.log", "log", render.nginx_access(sim.access))
    case.add("gateway.log", "log", render.logfmt(sim.events("api-gateway"), "api-gateway"))
    case.add("app.jsonl", "log", render.pino(sim.events("cart"), "cart"))
    case.add("events.txt", "log", render.k8s_events_table(sim.events("k8s")))
    return case


def provider_rate_limited(rng: random.Random) -> Case:
    win = Window.of("2026-11-02 08:00:12", 30, 16)
    inc = win.pivot
    surge = smooth_step(inc - 100, 200)
    sim = Shop(
        rng,
        win.start,
        win.end,
        rates={"checkout": 0.04, "product": 0.04, "cart_view": 0.02, "cart_add": 0.02},
        surge=lambda t: 1 + 1.6 * surge(t),
    )
    standard(sim)
    body = (
        '{"error":{"type":"rate_limit_error","code":"rate_limited","message":"Request rate '
        'limit exceeded for account acct_1Mf3QpL2 (25 requests/s). Retry after 1s."}}'
    )
    throttled: list[float] = []

    def warn(s: Sim, t: float, attempt: int) -> None:
        wait = 1000 * attempt
        s.log(
            "payments",
            t,
            "WARN",
            f"PayStream returned 429 Too Many Requests for POST /v1/payment_intents, retrying in {wait} ms (attempt {attempt}/3)",
            logger="com.shopfast.payments.provider.PayStreamClient",
            thread=f"http-nio-8080-exec-{rng.randint(1, 40)}",
        )

    def retries(s: Sim, t: float, op: str) -> None:
        throttled.append(t)
        warn(s, t + 0.06, 1)
        warn(s, t + 1.12, 2)

    def retried_ok(r: random.Random, t: float) -> float:
        warn(sim, t + 0.06, 1)
        return 1060 + r.uniform(0, 40)

    sim.faults += [
        Fault(
            PROVIDER,
            "status",
            inc,
            caller="payments",
            prob=ramp(inc, inc + 150, 0.55, 0.2),
            status=429,
            message=body,
            latency_ms=lambda r, t: 3180 + r.uniform(0, 60),
            on_hit=retries,
        ),
        Fault(PROVIDER, "slow", inc, caller="payments", prob=0.3, latency_ms=retried_ok),
    ]
    everyday(sim, ("payments", "checkout"))
    sim.run()
    step = 60.0
    times = grid(win, step)
    ok_rate, limited = [0.0 for _ in times], [0.0 for _ in times]
    for trace in sim.traces:
        for s in trace.spans:
            if s.peer == PROVIDER:
                i = int((s.start - times[0]) // step)
                if 0 <= i < len(times):
                    if s.status == 429:
                        limited[i] += 3 / step
                    else:
                        ok_rate[i] += 1 / step
    chk = server_stats(sim, "checkout", times, step)
    pay = server_stats(sim, "payments", times, step)
    series = [
        (
            {"client": "paystream", "code": "200"},
            list(zip(times, rounded(ok_rate, 3), strict=True)),
        ),
        (
            {"client": "paystream", "code": "429"},
            list(zip(times, rounded(limited, 3), strict=True)),
        ),
        (
            {"app": "checkout", "__name__": "http_server_requests_per_second"},
            list(zip(times, rounded(chk["rps"], 3), strict=True)),
        ),
        (
            {"app": "payments", "quantile": "0.99", "__name__": "http_server_requests_seconds"},
            [(t, round(v / 1000, 3)) for t, v in zip(times, pay["p99"], strict=True) if v == v],
        ),
    ]
    case = Case(
        "provider-rate-limited",
        "A campaign traffic surge hits the payment provider's per-account rate limit",
        "Checkout success rate dropped right when the sale email went out (08:00 UTC). Did we run out of capacity somewhere?",
        win,
        PROVIDER,
        "capacity",
        "rate-limit",
        acceptable=[PROVIDER, "paystream", "PayStream", "acct_1Mf3QpL2"],
        forbidden=["checkout", "api-gateway", "payments-db", "ingress-nginx", "cart"],
        notes="our own services have headroom; the provider's 429s are retried (WARNs) and only "
        "the third failure becomes an error, so errors lag the surge and latency rises first",
    )
    case.add("payments.log", "log", render.logstash_json(sim.events("payments"), "payments"))
    case.add("checkout.log", "log", render.spring(sim.events("checkout"), "checkout", 60))
    case.add("query_range.json", "metrics", render.prom_matrix(series))
    case.add(
        "traces.json", "traces", render.otlp(sample_traces(sim, rng, 20, root="POST /api/checkout"))
    )
    return case


def inventory_db_deadlocks(rng: random.Random) -> Case:
    win = Window.of("2026-10-06 12:14:33", 28, 16)
    inc = win.pivot
    sale = smooth_step(inc - 30, 60)
    sim = Shop(
        rng,
        win.start,
        win.end,
        rates={"checkout": 0.045, "cart_add": 0.035, "product": 0.05},
        surge=lambda t: 1 + 0.8 * sale(t),
    )
    standard(sim)
    key = "inventory-db-0"
    chatter.postgres(sim, key, "inventory", ("inventory", "inventory_ro"), syslog=False)
    update = "UPDATE stock SET reserved = reserved + $1 WHERE sku = $2"
    deadlocks: list[float] = []

    def deadlock(s: Sim, t: float, op: str) -> None:
        deadlocks.append(t)
        a, b = rng.randint(20000, 40000), rng.randint(20000, 40000)
        xa, xb = rng.randint(9_180_000, 9_400_000), rng.randint(9_180_000, 9_400_000)
        tup = f"({rng.randint(100, 2400)},{rng.randint(1, 60)})"
        who = "inventory@inventory"
        s.log(
            key,
            t + 1.0,
            "INFO",
            f"LOG:  process {a} detected deadlock while waiting for ShareLock on transaction {xb} after 1000.{rng.randint(10, 99)} ms",
            pod=key,
            pid=a,
            who=who,
            stack=(
                f"DETAIL:  Process holding the lock: {b}. Wait queue: .",
                f'CONTEXT:  while updating tuple {tup} in relation "stock"',
                f"STATEMENT:  {update}",
            ),
        )
        s.log(
            key,
            t + 1.0002,
            "ERROR",
            "ERROR:  deadlock detected",
            pod=key,
            pid=a,
            who=who,
            stack=(
                f"DETAIL:  Process {a} waits for ShareLock on transaction {xb}; blocked by process {b}.",
                f"\tProcess {b} waits for ShareLock on transaction {xa}; blocked by process {a}.",
                f"\tProcess {a}: {update}",
                f"\tProcess {b}: {update}",
                "HINT:  See server log for query details.",
                f'CONTEXT:  while updating tuple {tup} in relation "stock"',
                f"STATEMENT:  {update}",
            ),
        )

    sim.faults += [
        Fault(
            "inventory-db",
            "error",
            inc,
            caller="inventory",
            op="UPDATE stock",
            prob=0.3,
            message="ERROR: deadlock detected (SQLSTATE 40P01)",
            latency_ms=lambda r, t: 1000 + r.uniform(1, 25),
            on_hit=deadlock,
        ),
        Fault(
            "inventory-db",
            "slow",
            inc,
            caller="inventory",
            op="UPDATE stock",
            prob=0.4,
            latency_ms=lambda r, t: r.uniform(40, 900),
        ),
    ]
    everyday(sim, ("inventory", "checkout"))
    sim.run()
    step = 60.0
    times = grid(win, step)
    inv = server_stats(sim, "inventory", times, step, route="reservations")
    chk = server_stats(sim, "checkout", times, step)
    per_min = [float(sum(1 for d in deadlocks if t <= d < t + step)) for t in times]
    waiting = gauge(rng, times, lambda t: 0.4 + 5 * sale(t), 0.35, digits=0)
    columns = {
        'increase(pg_stat_database_deadlocks{instance="inventory-db-0",datname="inventory"}[1m])': per_min,
        'pg_locks_count{instance="inventory-db-0",datname="inventory",mode="sharelock"}': waiting,
        "inventory /v1/reservations 5xx %": rounded(inv["err_pct"]),
        "inventory /v1/reservations p99 ms": rounded(inv["p99"]),
        "checkout 5xx %": rounded(chk["err_pct"]),
    }
    case = Case(
        "inventory-db-deadlocks",
        "Stock reservations deadlock in inventory-db during a flash sale",
        "Since the flash sale started at 12:14 UTC about a third of orders fail at 'reserve'. What's wrong?",
        win,
        "inventory-db",
        "concurrency",
        "deadlock",
        acceptable=["inventory-db", key, "postgres", "inventory", "stock"],
        forbidden=["checkout", "api-gateway", "cart", "ingress-nginx", "payments"],
        forbidden_signatures=["rate-limit", "timeout"],
        notes="traffic rises at the same time (the sale) which invites a capacity answer; the "
        "database log shows the two UPDATE stock transactions locking rows in opposite order",
    )
    case.add("pod-logs-1.log", "log", render.postgres_stderr(sim.events(key)))
    case.add("pod-logs-2.log", "log", render.zap_console(sim.events("inventory")))
    case.add("checkout.log", "log", render.spring(sim.events("checkout"), "checkout", 120))
    case.add("grafana.csv", "metrics", render.csv_wide(times, columns, time_format="epoch_ms"))
    return case


def _probe_cycles(
    rng: random.Random, sim: Sim, pods: list[str], end: float
) -> list[list[tuple[float, float, int]]]:
    out = []
    for pod in pods:
        born = next(r.start for r in sim.replicas["cart"] if r.pod == pod) - 2
        first = born + 10 + 15 + rng.uniform(0.2, 4)
        out.append(
            crash_cycles(rng, first, end, lambda r, n: 25 + r.uniform(0.2, 4), boot=(1.8, 3.2))
        )
    return out


def cart_crashloop_probe(rng: random.Random) -> Case:
    win = Window.of("2026-09-17 19:26:02", 26, 18)
    sim = Shop(
        rng, win.start, win.end, rates={"cart_view": 0.045, "cart_add": 0.035, "product": 0.04}
    )
    sim.gateway_info_every = 2
    standard(sim, skip=("cart",))
    _, new = rollout(sim, "cart", "4.2.7", "4.3.0", win.pivot - 27, replicas=2, gap=4)
    cycles = _probe_cycles(rng, sim, new, win.end + 60)
    win.incident = round(min(c[0][0] for c in cycles))

    def refused(t: float) -> float:
        down = sum(1 for pod in cycles if any(a <= t < b for a, b, _ in pod))
        return 1.0 if down == len(cycles) else 0.12 * down

    sim.faults.append(Fault("cart", "refused", win.incident, prob=refused))
    for pod, pod_cycles in zip(new, cycles, strict=True):
        for down, up, n in pod_cycles:
            for k, probe in enumerate((down - 10, down - 5, down)):
                sim.log(
                    "cart",
                    probe - 0.2,
                    "WARN",
                    "request completed",
                    pod=pod,
                    req={
                        "id": f"{rng.getrandbits(48):012x}",
                        "method": "GET",
                        "url": "/healthz/live",
                    },
                    res={"statusCode": 404},
                    responseTime=round(rng.uniform(0.2, 0.9), 2),
                )
                event(
                    sim,
                    probe,
                    "Unhealthy",
                    f"pod/{pod}",
                    "Liveness probe failed: HTTP probe failed with statuscode: 404",
                    warning=True,
                    count=3 * (n - 1) + k + 1,
                )
            event(
                sim,
                down + 0.1,
                "Killing",
                f"pod/{pod}",
                "Container cart failed liveness probe, will be restarted",
                count=n,
            )
            chatter.shut_down(sim, "cart", pod, down + 0.2)
            if n > 1:
                event(
                    sim,
                    down + 1,
                    "BackOff",
                    f"pod/{pod}",
                    f"Back-off restarting failed container cart in pod {pod}_shop(0b6e2f41-9d3c-4a7e-8f15-3c2a9d7e1b04)",
                    warning=True,
                    count=2 * n - 2,
                )
            if up < win.end:
                event(
                    sim,
                    up - 1.5,
                    "Pulled",
                    f"pod/{pod}",
                    'Container image "registry.shop.example.com/cart:4.3.0" already present on machine',
                    count=n + 1,
                )
                event(sim, up - 1.4, "Created", f"pod/{pod}", "Created container cart", count=n + 1)
                event(sim, up - 1.3, "Started", f"pod/{pod}", "Started container cart", count=n + 1)
                chatter.start_up(sim, "cart", pod, up - 1.2, "4.3.0")
    chatter.k8s_background(sim)
    everyday(sim, ("cart", "api-gateway"))
    sim.run()
    env = [
        ("PORT", "8080"),
        ("REDIS_URL", "redis://cart-cache:6379/0"),
        ("INVENTORY_URL", "http://inventory.shop.svc.cluster.local:8080"),
        ("LOG_LEVEL", "info"),
    ]
    v1 = deployment("cart", "4.2.7", env=env, memory="256Mi", cpu="200m")
    v2 = deployment(
        "cart",
        "4.3.0",
        env=[*env, ("FEATURE_SAVED_CARTS", "true")],
        memory="256Mi",
        cpu="200m",
        liveness="/healthz/live",
        annotations={"deployment.kubernetes.io/revision": "2"},
    )
    case = Case(
        "cart-crashloop-probe",
        "cart 4.3.0's liveness probe points at a path the app does not serve",
        "Cart keeps flapping since the 19:25 UTC deploy, pods restart constantly. Why?",
        win,
        "cart",
        "availability",
        "crash-loop",
        acceptable=["cart", *new, "livenessProbe", "/healthz/live"],
        forbidden=["api-gateway", "cart-cache", "checkout", "ingress-nginx"],
        forbidden_signatures=["oom"],
        notes="the app never crashes by itself: it logs a clean SIGTERM shutdown each cycle; the "
        "404s on /healthz/live and the probe path changed in the manifest diff explain the restarts",
    )
    case.add("events.txt", "log", render.k8s_events_table(sim.events("k8s")))
    case.add("pods.jsonl", "log", render.pino(sim.events("cart"), "cart"))
    case.add("gateway.log", "log", render.logfmt(sim.events("api-gateway"), "api-gateway"))
    case.add("deploy-v1.yaml", "config", render.manifests([v1, service("cart")]))
    case.add("deploy-v2.yaml", "config", render.manifests([v2, service("cart")]))
    return case


def payments_db_password_rotated(rng: random.Random) -> Case:
    win = Window.of("2026-10-19 06:00:41", 30, 15)
    inc = win.pivot
    sim = Shop(rng, win.start, win.end, rates={"checkout": 0.05, "product": 0.05})
    pods = standard(sim)
    host = "payments-db-1"
    chatter.postgres(sim, host, "payments", ("payments_app", "payments_ro"), syslog=True)
    hba = 'DETAIL:  Connection matched file "/etc/postgresql/16/main/pg_hba.conf" line 98: "hostssl payments payments_app 10.244.0.0/16 scram-sha-256"'

    def fatal(s: Sim, t: float, op: str = "") -> None:
        client = f"10.244.{rng.choice((1, 2))}.{rng.choice((31, 77))}"
        s.log(
            host,
            t + rng.uniform(0.001, 0.02),
            "INFO",
            'FATAL:  password authentication failed for user "payments_app"',
            pod=host,
            pid=rng.randint(40000, 65000),
            stack=(hba,),
            prefix=f"user=payments_app,db=payments,app=[unknown],client={client}",
        )

    rotated = inc - 41
    sim.log(
        host,
        rotated,
        "INFO",
        "LOG:  statement: ALTER ROLE \"payments_app\" WITH PASSWORD 'Zq3v8Lr2Xw9tHk4m' VALID UNTIL '2026-11-18 06:00:00+00'",
        pod=host,
        pid=rng.randint(40000, 65000),
        prefix="user=vault-admin,db=postgres,app=vault,client=10.40.1.12",
    )
    waiting = [2]

    def pool(r: random.Random, t: float) -> str:
        waiting[0] = min(30, max(1, waiting[0] + r.randint(-2, 3)))
        total = max(0, round(10 * (1 - min(1.0, (t - inc) / 420))))
        return (
            f"HikariPool-1 - Connection is not available, request timed out after 3000ms "
            f"(total={total}, active={total}, idle=0, waiting={waiting[0]})"
        )

    sim.faults.append(
        Fault(
            "payments-db",
            "client",
            inc,
            caller="payments",
            prob=ramp(inc, inc + 420, 0.92, 0.12),
            message=pool,
            latency_ms=lambda r, t: 3000 + r.uniform(0, 9),
            on_hit=fatal,
        )
    )
    for pod in pods["payments"]:
        for t in chatter.poisson(rng, inc, win.end, 12):
            fatal(sim, t)
        for t in chatter.every(rng, inc + rng.uniform(5, 30), win.end, 30, 0.02):
            sim.log(
                "payments",
                t,
                "WARN",
                "DataSource health check failed",
                pod=pod,
                logger="org.springframework.boot.actuate.jdbc.DataSourceHealthIndicator",
                thread="http-nio-8081-exec-3",
                stack=(
                    "org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to obtain JDBC Connection",
                    "\tat org.springframework.jdbc.datasource.DataSourceUtils.getConnection(DataSourceUtils.java:84)",
                    'Caused by: org.postgresql.util.PSQLException: FATAL: password authentication failed for user "payments_app"',
                    "\tat org.postgresql.core.v3.ConnectionFactoryImpl.doAuthentication(ConnectionFactoryImpl.java:693)",
                ),
            )
    everyday(sim, ("payments", "checkout"))
    sim.run()
    for e in sim.logs["payments"]:
        if "HikariPool-1 - Connection is not available" in e.msg:
            e.stack = (
                *e.stack,
                'Caused by: org.postgresql.util.PSQLException: FATAL: password authentication failed for user "payments_app"',
                "\t... 12 common frames omitted",
            )
    case = Case(
        "payments-db-password-rotated",
        "Vault rotated the payments DB password; running pods keep the old one",
        "Payments errors started around 06:01 UTC, nothing was deployed. What changed?",
        win,
        "payments",
        "security",
        "auth",
        acceptable=["payments", *pods["payments"], "payments-db", "payments_app", host],
        forbidden=["checkout", "api-gateway", "ingress-nginx", PROVIDER],
        forbidden_signatures=["db-pool-exhausted"],
        notes="the app-side message is a Hikari pool timeout (matches db-pool first) that fills up "
        "as old connections expire; the cause is the FATAL password failure after ALTER ROLE",
    )
    case.add("app-logs.jsonl", "log", render.logstash_json(sim.events("payments"), "payments"))
    case.add("messages", "log", render.postgres_syslog(sim.events(host), host))
    case.add("checkout.log", "log", render.spring(sim.events("checkout"), "checkout", 120))
    case.add(
        "otlp.json", "traces", render.otlp(sample_traces(sim, rng, 18, root="POST /api/checkout"))
    )
    return case


NPE = (
    'java.lang.NullPointerException: Cannot invoke "com.shopfast.checkout.model.Address.getCountryCode()" '
    'because the return value of "com.shopfast.checkout.model.Order.getShippingAddress()" is null'
)
NPE_STACK = (
    NPE,
    "\tat com.shopfast.checkout.tax.TaxCalculator.rateFor(TaxCalculator.java:58)",
    "\tat com.shopfast.checkout.service.CheckoutService.placeOrder(CheckoutService.java:131)",
    "\tat com.shopfast.checkout.web.CheckoutController.checkout(CheckoutController.java:44)",
    "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)",
    "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)",
    "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
)


def checkout_npe_release(rng: random.Random) -> Case:
    win = Window.of("2026-09-08 13:12:09", 30, 14)
    sim = Shop(
        rng,
        win.start,
        win.end,
        rates={
            "product": 0.035,
            "static": 0.02,
            "cart_view": 0.025,
            "cart_add": 0.02,
            "checkout": 0.06,
        },
    )
    sim.gateway_info_every = 3
    standard(sim, skip=("checkout",))
    _, new = rollout(sim, "checkout", "2.30.4", "2.31.0", win.pivot - 15, gap=30)
    win.incident = round(first_start(sim, "checkout", "2.31.0"))
    sim.faults.append(
        Fault(
            "checkout",
            "crash",
            win.start,
            op="POST /v1/checkout",
            prob=0.32,
            pod_version="2.31.0",
            status=500,
            message=NPE,
            stack=NPE_STACK,
        )
    )
    everyday(sim, ("checkout", "api-gateway"))
    sim.run()
    case = Case(
        "checkout-npe-release",
        "checkout 2.31.0 throws a NullPointerException for orders without a shipping address",
        "About a third of checkouts fail with 500 since ~13:12 UTC. What's going on?",
        win,
        "checkout",
        "code",
        "null-deref",
        acceptable=["checkout", *new, "TaxCalculator"],
        forbidden=["api-gateway", "payments", "inventory", "cart", "ingress-nginx"],
        notes="no dependency fails: traces show checkout's own span erroring with healthy children "
        "or none; only orders without a shipping address (digital goods) hit it",
    )
    case.add("app.log", "log", render.spring(sim.events("checkout"), "checkout", 120))
    case.add("gateway.log", "log", render.logfmt(sim.events("api-gateway"), "api-gateway"))
    case.add("ingress.log", "log", render.nginx_access(sim.access, 120))
    case.add(
        "otel-export.json",
        "traces",
        render.otlp(sample_traces(sim, rng, 20, root="POST /api/checkout")),
    )
    return case


def checkout_currency_config(rng: random.Random) -> Case:
    win = Window.of("2026-10-09 10:05:50", 30, 15)
    sim = Shop(rng, win.start, win.end, rates={"product": 0.05, "checkout": 0.05})
    sim.gateway_info_every = 3
    standard(sim, skip=("checkout",))
    _, new = rollout(sim, "checkout", "2.30.4", "2.30.5", win.pivot - 15, gap=30)
    win.incident = round(first_start(sim, "checkout", "2.30.5"))
    sim.settings[("checkout", "2.30.5")] = {"currency": "EURO"}
    for r in sim.replicas["checkout"]:
        if r.version == "2.30.5":
            sim.log(
                "checkout",
                r.start - 2.2,
                "INFO",
                "Checkout settings: currency=EURO, tax-region=DE, payments-timeout=5s, reservation-ttl=15m",
                pod=r.pod,
                logger="com.shopfast.checkout.config.CheckoutSettings",
                thread="main",
            )
    everyday(sim, ("checkout", "payments", "api-gateway"))
    sim.run()
    env = [
        ("SPRING_PROFILES_ACTIVE", "prod"),
        ("CART_URL", "http://cart.shop.svc.cluster.local:8080"),
        ("INVENTORY_URL", "http://inventory.shop.svc.cluster.local:8080"),
        ("PAYMENTS_URL", "http://payments.shop.svc.cluster.local:8080"),
        (
            "KAFKA_BOOTSTRAP_SERVERS",
            "kafka-0.kafka-headless.messaging:9092,kafka-1.kafka-headless.messaging:9092,kafka-2.kafka-headless.messaging:9092",
        ),
        ("CHECKOUT_CURRENCY", "EUR"),
        ("CHECKOUT_TAX_REGION", "DE"),
        ("JAVA_TOOL_OPTIONS", "-XX:MaxRAMPercentage=75"),
    ]
    secrets = [("SPRING_DATASOURCE_PASSWORD", "checkout-db", "password")]
    v1 = deployment(
        "checkout",
        "2.30.4",
        env=env,
        secret_env=secrets,
        memory="1Gi",
        cpu="500m",
        annotations={"kubernetes.io/change-cause": "release 2.30.4"},
    )
    env2 = [(k, "EURO" if k == "CHECKOUT_CURRENCY" else v) for k, v in env]
    v2 = deployment(
        "checkout",
        "2.30.5",
        env=env2,
        secret_env=secrets,
        memory="1Gi",
        cpu="500m",
        annotations={
            "kubernetes.io/change-cause": "release 2.30.5: receipt footer, currency from env"
        },
    )
    case = Case(
        "checkout-currency-config",
        "checkout 2.30.5 is deployed with CHECKOUT_CURRENCY=EURO; payments rejects every charge",
        "No order has gone through since ~10:06 UTC. payments is logging a lot of rejections, is payments broken?",
        win,
        "checkout",
        "configuration",
        "config",
        acceptable=["checkout", *new, "CHECKOUT_CURRENCY"],
        forbidden=["payments", "api-gateway", PROVIDER, "ingress-nginx"],
        notes="payments logs the 'invalid value' warnings and the question blames it; the wrong "
        "value comes from checkout's manifest (EUR -> EURO) shipped with the release",
    )
    case.add("deploy-v1.yaml", "config", render.manifests([v1, service("checkout")]))
    case.add("deploy-v2.yaml", "config", render.manifests([v2, service("checkout")]))
    case.add("app.log", "log", render.spring(sim.events("checkout"), "checkout", 120))
    case.add("payments.jsonl", "log", render.logstash_json(sim.events("payments"), "payments"))
    case.add("gateway.log", "log", render.logfmt(sim.events("api-gateway"), "api-gateway"))
    return case


SCENARIOS = {
    "cart-bad-release-5xx": cart_bad_release,
    "provider-rate-limited": provider_rate_limited,
    "inventory-db-deadlocks": inventory_db_deadlocks,
    "cart-crashloop-probe": cart_crashloop_probe,
    "payments-db-password-rotated": payments_db_password_rotated,
    "checkout-npe-release": checkout_npe_release,
    "checkout-currency-config": checkout_currency_config,
}
