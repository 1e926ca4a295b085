# ruff: noqa: E501
"""What services log when nothing is wrong: scheduled jobs, benign warnings, the odd
unrelated error, start-up and shut-down banners. Every scenario has it in both windows, so
an error is never a finding just because it is an error."""

from __future__ import annotations

import random

from tests.scenarios.sim import Sim

JAVA = "com.shopfast"


def every(
    rng: random.Random, start: float, end: float, period: float, jitter: float = 0.08
) -> list[float]:
    t = start + rng.uniform(0, period)
    out = []
    while t < end:
        out.append(t)
        t += period * rng.uniform(1 - jitter, 1 + jitter)
    return out


def poisson(rng: random.Random, start: float, end: float, mean_gap: float) -> list[float]:
    t = start + rng.expovariate(1 / mean_gap)
    out = []
    while t < end:
        out.append(t)
        t += rng.expovariate(1 / mean_gap)
    return out


def gateway(sim: Sim) -> None:
    rng = sim.rng
    for t in every(rng, sim.start, sim.end, 600):
        sim.log(
            "api-gateway",
            t,
            "INFO",
            "jwks refreshed",
            keys=3,
            issuer="https://auth.shop.example.com/",
        )
    for t in poisson(rng, sim.start, sim.end, 380):
        port = rng.randint(32768, 60999)
        sim.log("api-gateway", t, "WARN", f"http: TLS handshake error from 10.244.0.1:{port}: EOF")
    for t in poisson(rng, sim.start, sim.end, 520):
        sim.log(
            "api-gateway",
            t,
            "WARN",
            "client disconnected before response",
            status=499,
            path=f"/api/products/SKU-{rng.randint(10000, 99999)}",
            duration_ms=round(rng.uniform(300, 2500), 1),
        )


def checkout(sim: Sim) -> None:
    rng = sim.rng
    for t in every(rng, sim.start, sim.end, 300, 0.01):
        sim.log(
            "checkout",
            t,
            "INFO",
            f"Reservation sweep released {rng.randint(0, 14)} expired reservations",
            logger=f"{JAVA}.checkout.jobs.ReservationSweeper",
            thread="scheduling-1",
        )
    for t in poisson(rng, sim.start, sim.end, 420):
        sim.log(
            "checkout",
            t,
            "WARN",
            f"Address validation fallback for postal code {rng.randint(1000, 99999)}: lookup table miss",
            logger=f"{JAVA}.checkout.address.AddressValidator",
            thread=f"nio-8080-exec-{rng.randint(1, 24)}",
        )
    for t in poisson(rng, sim.start, sim.end, 1300):
        order = sim.order_seq - rng.randint(5, 400)
        sim.log(
            "checkout",
            t,
            "ERROR",
            f"Failed to send confirmation mail for order {order}: Mail server connection failed; "
            "451 4.7.1 Temporary local problem, please try again later",
            logger=f"{JAVA}.checkout.notify.MailNotifier",
            thread="mail-2",
            stack=(
                "org.springframework.mail.MailSendException: Mail server connection failed; "
                "451 4.7.1 Temporary local problem, please try again later",
                "\tat org.springframework.mail.javamail.JavaMailSenderImpl.doSend(JavaMailSenderImpl.java:440)",
                f"\tat {JAVA}.checkout.notify.MailNotifier.send(MailNotifier.java:39)",
            ),
        )


def payments(sim: Sim) -> None:
    rng = sim.rng
    for t in every(rng, sim.start, sim.end, 600, 0.01):
        sim.log(
            "payments",
            t,
            "INFO",
            f"Settlement sync: {rng.randint(20, 90)} captures reconciled with PayStream",
            logger=f"{JAVA}.payments.settlement.SettlementJob",
            thread="scheduling-1",
        )
    for t in poisson(rng, sim.start, sim.end, 800):
        sim.log(
            "payments",
            t,
            "WARN",
            f"Webhook evt_{sim.rng.getrandbits(56):014x} ignored: unsupported type payout.paid",
            logger=f"{JAVA}.payments.webhook.WebhookController",
            thread=f"http-nio-8080-exec-{rng.randint(1, 40)}",
        )
    for t in poisson(rng, sim.start, sim.end, 1500):
        sim.log(
            "payments",
            t,
            "ERROR",
            f"Webhook signature verification failed for event evt_{sim.rng.getrandbits(56):014x}: "
            "timestamp outside the tolerance zone",
            logger=f"{JAVA}.payments.webhook.WebhookController",
            thread=f"http-nio-8080-exec-{rng.randint(1, 40)}",
        )


def cart(sim: Sim) -> None:
    rng = sim.rng
    for t in poisson(rng, sim.start, sim.end, 480):
        sim.log(
            "cart",
            t,
            "WARN",
            "cart item dropped: sku discontinued",
            sku=f"SKU-{rng.randint(10000, 99999)}",
            userId=f"u-{rng.randint(100000, 999999)}",
        )
    for t in poisson(rng, sim.start, sim.end, 1400):
        sim.log(
            "cart",
            t,
            "ERROR",
            "analytics flush failed",
            err={"type": "Error", "message": "socket hang up", "code": "ECONNRESET"},
            events=rng.randint(20, 200),
        )


def inventory(sim: Sim) -> None:
    rng = sim.rng
    for t in every(rng, sim.start, sim.end, 240):
        sim.log(
            "inventory",
            t,
            "INFO",
            "stock cache refreshed",
            logger="catalog/cache.go:77",
            skus=48213 + rng.randint(-40, 40),
            took=f"{rng.uniform(180, 420):.0f}ms",
        )
    for t in poisson(rng, sim.start, sim.end, 1100):
        sim.log(
            "inventory",
            t,
            "ERROR",
            "price feed row skipped",
            logger="pricing/feed.go:133",
            row=rng.randint(100, 9000),
            error=f'strconv.ParseFloat: parsing "{rng.randint(1, 99)},{rng.randint(10, 99)}": invalid syntax',
        )


def postgres(sim: Sim, key: str, db: str, users: tuple[str, ...], *, syslog: bool) -> None:
    """Checkpoints, autovacuum, a slow reporting query now and then, dropped clients."""
    rng = sim.rng

    def log(t: float, msg: str, user: str = "", stack: tuple[str, ...] = ()) -> None:
        pid = rng.randint(1000, 60000)
        if syslog:
            prefix = (
                f"user={user},db={db},app=[unknown],client=10.244.{rng.randint(1, 4)}.{rng.randint(2, 250)}"
                if user
                else ""
            )
            sim.log(key, t, "INFO", msg, pod=key, stack=stack, pid=pid, prefix=prefix)
        else:
            sim.log(
                key,
                t,
                "INFO",
                msg,
                pod=key,
                stack=stack,
                pid=pid,
                who=f"{user}@{db}" if user else "",
            )

    for t in every(rng, sim.start, sim.end, 300, 0.0):
        log(t, "LOG:  checkpoint starting: time")
        buffers = rng.randint(400, 4000)
        log(
            t + rng.uniform(120, 180),
            f"LOG:  checkpoint complete: wrote {buffers} buffers ({buffers / 163.84:.1f}%); 0 WAL file(s) added, "
            f"0 removed, {rng.randint(0, 3)} recycled; write={rng.uniform(100, 170):.3f} s, sync=0.00{rng.randint(1, 9)} s, "
            f"total={rng.uniform(170, 180):.3f} s; sync files={rng.randint(10, 60)}, longest=0.002 s, average=0.001 s; "
            f"distance={rng.randint(4000, 20000)} kB, estimate={rng.randint(15000, 22000)} kB",
        )
    for t in poisson(rng, sim.start, sim.end, 700):
        table = rng.choice(
            ("public.audit_log", f"public.{users[0].split('_')[0]}_events", "public.outbox")
        )
        log(t, f'LOG:  automatic vacuum of table "{db}.{table}": index scans: 1')
    for t in poisson(rng, sim.start, sim.end, 1000):
        log(
            t,
            f"LOG:  duration: {rng.uniform(1010, 1900):.3f} ms  statement: SELECT date_trunc('day', created_at) AS day, count(*) FROM audit_log WHERE created_at > now() - interval '30 days' GROUP BY 1",
            user="metabase",
        )
    for t in poisson(rng, sim.start, sim.end, 1300):
        log(
            t,
            "LOG:  could not receive data from client: Connection reset by peer",
            user=rng.choice(users),
        )


def kafka_broker(sim: Sim, key: str, broker: int) -> None:
    rng = sim.rng
    topics = ("order-events", "inventory-events", "__consumer_offsets")
    for t in every(rng, sim.start, sim.end, 150, 0.3):
        topic = rng.choice(topics)
        part = rng.randint(0, 11 if topic != "__consumer_offsets" else 49)
        offset = rng.randint(1_000_000, 9_000_000)
        sim.log(
            key,
            t,
            "INFO",
            f"[LocalLog partition={topic}-{part}, dir=/var/lib/kafka/data] Rolled new log segment at offset {offset} in {rng.randint(1, 6)} ms.",
            logger="kafka.log.LocalLog",
            pod=key,
        )
        sim.log(
            key,
            t + 0.002,
            "INFO",
            f"[ProducerStateManager partition={topic}-{part}] Wrote producer snapshot at offset {offset} with 0 producer ids in 1 ms.",
            logger="kafka.log.ProducerStateManager",
            pod=key,
        )
    for t in every(rng, sim.start, sim.end, 300, 0.0):
        sim.log(
            key,
            t,
            "INFO",
            f"[Controller id={broker}] Processing automatic preferred replica leader election",
            logger="kafka.controller.KafkaController",
            pod=key,
        )
    for t in poisson(rng, sim.start, sim.end, 600):
        part = rng.randint(0, 11)
        sim.log(
            key,
            t,
            "INFO",
            f"[UnifiedLog partition=order-events-{part}, dir=/var/lib/kafka/data] Deleting segment LogSegment(baseOffset={rng.randint(100000, 900000)}, size=1073741{rng.randint(100, 999)}) due to retention time 604800000ms breach based on the largest record timestamp in the segment",
            logger="kafka.log.UnifiedLog",
            pod=key,
        )
    for t in poisson(rng, sim.start, sim.end, 900):
        member = f"consumer-order-projector-1-{sim.rng.getrandbits(32):08x}"
        sim.log(
            key,
            t,
            "INFO",
            f"[GroupCoordinator {broker}]: Member {member} in group order-projector has left, removing it from the group",
            logger="kafka.coordinator.group.GroupCoordinator",
            pod=key,
        )


def redis(sim: Sim, key: str) -> None:
    rng = sim.rng
    for t in every(rng, sim.start, sim.end, 300, 0.0):
        pid = rng.randint(200, 9000)
        sim.log(
            key,
            t,
            "INFO",
            f"{rng.randint(10, 400)} changes in 300 seconds. Saving...",
            pod=key,
            pid=1,
        )
        sim.log(key, t + 0.004, "INFO", f"Background saving started by pid {pid}", pod=key, pid=1)
        sim.log(key, t + 0.31, "INFO", "DB saved on disk", pod=key, pid=pid, role="C")
        sim.log(
            key,
            t + 0.312,
            "INFO",
            f"Fork CoW for RDB: current {rng.randint(1, 4)} MB, peak 4 MB, average 2 MB",
            pod=key,
            pid=pid,
            role="C",
        )
        sim.log(key, t + 0.41, "INFO", "Background saving terminated with success", pod=key, pid=1)


def coredns(sim: Sim, key: str) -> None:
    rng = sim.rng
    sim.log(key, sim.start - rng.uniform(3000, 9000), "INFO", ".:53", pod=key)
    sim.log(
        key,
        sim.start - 2900,
        "INFO",
        "[INFO] plugin/reload: Running configuration SHA512 = 7d4f1c9b2e0a",
        pod=key,
    )
    sim.log(key, sim.start - 2899, "INFO", "CoreDNS-1.11.1", pod=key)
    sim.log(key, sim.start - 2899, "INFO", "linux/amd64, go1.21.9, ae2bbc2", pod=key)
    for t in poisson(rng, sim.start, sim.end, 900):
        port = rng.randint(30000, 60000)
        sim.log(
            key,
            t,
            "ERROR",
            f"[ERROR] plugin/errors: 2 telemetry.vendor-x.net. AAAA: read udp 10.244.0.7:{port}->169.254.169.253:53: i/o timeout",
            pod=key,
        )


def k8s_background(sim: Sim, key: str = "k8s") -> None:
    """Normal cluster life: HPA decisions, a CronJob every 15 minutes, probe blips."""
    rng = sim.rng
    for t in every(rng, sim.start, sim.end, 900, 0.0):
        job = f"order-report-{int(t) // 60}"
        pod = f"{job}-{''.join(rng.choice('bcdfghjklmnpqrstvwxz2456789') for _ in range(5))}"
        sim.log(
            key,
            t,
            "INFO",
            f"Created job {job}",
            reason="SuccessfulCreate",
            object="cronjob/order-report",
            source="cronjob-controller",
        )
        sim.log(
            key,
            t + 1,
            "INFO",
            f"Successfully assigned shop/{pod} to gke-shop-prod-pool-2-9f3a1c2e-{rng.choice(('x7kq', 'm2vd', 'p8zr'))}",
            reason="Scheduled",
            object=f"pod/{pod}",
            source="default-scheduler",
        )
        sim.log(
            key,
            t + 2,
            "INFO",
            'Container image "registry.shop.example.com/order-report:1.4.2" already present on machine',
            reason="Pulled",
            object=f"pod/{pod}",
        )
        sim.log(
            key,
            t + 2,
            "INFO",
            "Created container order-report",
            reason="Created",
            object=f"pod/{pod}",
        )
        sim.log(
            key,
            t + 3,
            "INFO",
            "Started container order-report",
            reason="Started",
            object=f"pod/{pod}",
        )
        sim.log(
            key,
            t + rng.uniform(30, 50),
            "INFO",
            "Job completed",
            reason="Completed",
            object=f"job/{job}",
            source="job-controller",
        )
    for t in poisson(rng, sim.start, sim.end, 700):
        replicas = rng.choice((2, 3))
        target = rng.choice(("cart", "api-gateway"))
        sim.log(
            key,
            t,
            "INFO",
            f"New size: {replicas}; reason: cpu resource utilization (percentage of request) {'above' if replicas == 3 else 'below'} target",
            reason="SuccessfulRescale",
            object=f"horizontalpodautoscaler/{target}",
            source="horizontal-pod-autoscaler",
        )
    for t in poisson(rng, sim.start, sim.end, 1200):
        pod = (
            sim.pod("recommendations", t)
            if sim.replicas.get("recommendations")
            else "frontend-5b7d9c8f6d-h2kzq"
        )
        sim.log(
            key,
            t,
            "WARN",
            'Readiness probe failed: Get "http://10.244.2.19:8080/ready": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
            reason="Unhealthy",
            object=f"pod/{pod}",
            count=1,
        )


# -- lifecycle ----------------------------------------------------------------------------


def start_up(sim: Sim, service: str, pod: str, t: float, version: str) -> float:
    """The start-up lines of one container; returns when it is ready."""
    rng = sim.rng
    if service in ("checkout", "payments"):
        app = service.title() + "Application"
        ready = t + rng.uniform(9, 14)
        sim.log(
            service,
            t,
            "INFO",
            f"Starting {app} v{version} using Java 21.0.4 with PID 1",
            pod=pod,
            logger=f"{JAVA}.{service}.{app}",
            thread="main",
        )
        sim.log(
            service,
            t + 0.05,
            "INFO",
            'The following 1 profile is active: "prod"',
            pod=pod,
            logger=f"{JAVA}.{service}.{app}",
            thread="main",
        )
        sim.log(
            service,
            t + 4.1,
            "INFO",
            "HikariPool-1 - Starting...",
            pod=pod,
            logger="com.zaxxer.hikari.HikariDataSource",
            thread="main",
        )
        sim.log(
            service,
            t + 4.4,
            "INFO",
            "HikariPool-1 - Start completed.",
            pod=pod,
            logger="com.zaxxer.hikari.HikariDataSource",
            thread="main",
        )
        sim.log(
            service,
            ready - 0.3,
            "INFO",
            "Tomcat started on port 8080 (http) with context path '/'",
            pod=pod,
            logger="o.s.b.w.embedded.tomcat.TomcatWebServer",
            thread="main",
        )
        sim.log(
            service,
            ready,
            "INFO",
            f"Started {app} in {ready - t:.3f} seconds (process running for {ready - t + 0.8:.3f})",
            pod=pod,
            logger=f"{JAVA}.{service}.{app}",
            thread="main",
        )
        return ready
    if service == "cart":
        ready = t + rng.uniform(1.5, 3)
        sim.log("cart", t, "INFO", f"cart-service v{version} starting", pod=pod, node="v20.17.0")
        sim.log("cart", t + 0.8, "INFO", "redis connected", pod=pod, host="cart-cache", port=6379)
        sim.log("cart", ready, "INFO", "server listening", pod=pod, port=8080)
        return ready
    ready = t + rng.uniform(0.6, 2.0)
    logger = "cmd/main.go:41"
    sim.log(service, t, "INFO", "starting", pod=pod, logger=logger, version=version, go="go1.22.6")
    if service == "inventory":
        sim.log(
            service,
            t + 0.2,
            "INFO",
            "connected to database",
            pod=pod,
            logger="store/pg.go:29",
            host="inventory-db",
            pool_max=20,
        )
    sim.log(service, ready, "INFO", "http server listening", pod=pod, logger=logger, addr=":8080")
    return ready


def shut_down(sim: Sim, service: str, pod: str, t: float) -> float:
    rng = sim.rng
    if service in ("checkout", "payments"):
        sim.log(
            service,
            t,
            "INFO",
            "Commencing graceful shutdown. Waiting for active requests to complete",
            pod=pod,
            logger="o.s.b.w.e.tomcat.GracefulShutdown",
            thread="SpringApplicationShutdownHook",
        )
        done = t + rng.uniform(0.3, 2.0)
        sim.log(
            service,
            done,
            "INFO",
            "Graceful shutdown complete",
            pod=pod,
            logger="o.s.b.w.e.tomcat.GracefulShutdown",
            thread="tomcat-shutdown",
        )
        return done
    if service == "cart":
        sim.log("cart", t, "INFO", "received SIGTERM, draining connections", pod=pod)
        sim.log("cart", t + 0.4, "INFO", "server closed", pod=pod)
        return t + 0.4
    sim.log(
        service, t, "INFO", "shutting down", pod=pod, logger="cmd/main.go:88", signal="terminated"
    )
    return t + 0.3
