# ruff: noqa: E501
"""What services log when nothing is wrong: scheduled jobs, benign warnings, the odd
unrelated error, start-up and shut-down banners. Every scenario has it in both windows, so
an error is never a finding just because it is an error.

The services' noise is a table (`EVERYDAY`); infrastructure that a scenario adds (databases,
brokers, caches, DNS, the cluster itself) has a function each, because its lines share values
(a pid, a partition) that a table of independent lines cannot express.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from tests.scenarios.k8s import NODE_POOL, NODES
from tests.scenarios.lines import (
    Every,
    Line,
    Poisson,
    Repeated,
    bits,
    every,
    fmt,
    k8s_event,
    poisson,
    randint,
    uniform,
)
from tests.scenarios.sim import Sim, pod_hash

JAVA = "com.shopfast"


def _mail_failed(sim: Sim, t: float) -> None:
    """The mail relay's 451 for the confirmation of a recent order."""
    order = sim.order_seq - sim.rng.randint(5, 400)
    failure = (
        "Mail server connection failed; 451 4.7.1 Temporary local problem, please try again later"
    )
    sim.log(
        "checkout",
        t,
        "ERROR",
        f"Failed to send confirmation mail for order {order}: {failure}",
        logger=f"{JAVA}.checkout.notify.MailNotifier",
        thread="mail-2",
        stack=(
            f"org.springframework.mail.MailSendException: {failure}",
            "\tat org.springframework.mail.javamail.JavaMailSenderImpl.doSend(JavaMailSenderImpl.java:440)",
            f"\tat {JAVA}.checkout.notify.MailNotifier.send(MailNotifier.java:39)",
        ),
    )


EVERYDAY: tuple[Repeated, ...] = (  # what each service logs all day long
    Repeated(
        "api-gateway",
        Every(600),
        Line(
            "INFO",
            "jwks refreshed",
            fields={"keys": 3, "issuer": "https://auth.shop.example.com/"},
        ),
    ),
    Repeated(
        "api-gateway",
        Poisson(380),
        Line(
            "WARN",
            fmt("http: TLS handshake error from 10.244.0.1:{}: EOF", randint(32768, 60999)),
        ),
    ),
    Repeated(
        "api-gateway",
        Poisson(520),
        Line(
            "WARN",
            "client disconnected before response",
            fields={
                "status": 499,
                "path": fmt("/api/products/SKU-{}", randint(10000, 99999)),
                "duration_ms": uniform(300, 2500, digits=1),
            },
        ),
    ),
    Repeated(
        "checkout",
        Every(300, 0.01),
        Line(
            "INFO",
            fmt("Reservation sweep released {} expired reservations", randint(0, 14)),
            logger=f"{JAVA}.checkout.jobs.ReservationSweeper",
            thread="scheduling-1",
        ),
    ),
    Repeated(
        "checkout",
        Poisson(420),
        Line(
            "WARN",
            fmt(
                "Address validation fallback for postal code {}: lookup table miss",
                randint(1000, 99999),
            ),
            logger=f"{JAVA}.checkout.address.AddressValidator",
            thread=fmt("nio-8080-exec-{}", randint(1, 24)),
        ),
    ),
    Repeated("checkout", Poisson(1300), _mail_failed),
    Repeated(
        "payments",
        Every(600, 0.01),
        Line(
            "INFO",
            fmt("Settlement sync: {} captures reconciled with PayStream", randint(20, 90)),
            logger=f"{JAVA}.payments.settlement.SettlementJob",
            thread="scheduling-1",
        ),
    ),
    Repeated(
        "payments",
        Poisson(800),
        Line(
            "WARN",
            fmt("Webhook evt_{:014x} ignored: unsupported type payout.paid", bits(56)),
            logger=f"{JAVA}.payments.webhook.WebhookController",
            thread=fmt("http-nio-8080-exec-{}", randint(1, 40)),
        ),
    ),
    Repeated(
        "payments",
        Poisson(1500),
        Line(
            "ERROR",
            fmt(
                "Webhook signature verification failed for event evt_{:014x}: timestamp outside the tolerance zone",
                bits(56),
            ),
            logger=f"{JAVA}.payments.webhook.WebhookController",
            thread=fmt("http-nio-8080-exec-{}", randint(1, 40)),
        ),
    ),
    Repeated(
        "cart",
        Poisson(480),
        Line(
            "WARN",
            "cart item dropped: sku discontinued",
            fields={
                "sku": fmt("SKU-{}", randint(10000, 99999)),
                "userId": fmt("u-{}", randint(100000, 999999)),
            },
        ),
    ),
    Repeated(
        "cart",
        Poisson(1400),
        Line(
            "ERROR",
            "analytics flush failed",
            fields={
                "err": {"type": "Error", "message": "socket hang up", "code": "ECONNRESET"},
                "events": randint(20, 200),
            },
        ),
    ),
    Repeated(
        "inventory",
        Every(240),
        Line(
            "INFO",
            "stock cache refreshed",
            logger="catalog/cache.go:77",
            fields={
                "skus": lambda rng: 48213 + rng.randint(-40, 40),
                "took": fmt("{:.0f}ms", uniform(180, 420)),
            },
        ),
    ),
    Repeated(
        "inventory",
        Poisson(1100),
        Line(
            "ERROR",
            "price feed row skipped",
            logger="pricing/feed.go:133",
            fields={
                "row": randint(100, 9000),
                "error": fmt(
                    'strconv.ParseFloat: parsing "{},{}": invalid syntax',
                    randint(1, 99),
                    randint(10, 99),
                ),
            },
        ),
    ),
)


def everyday(sim: Sim, services: Sequence[str]) -> None:
    """The background chatter of the listed services, over the whole window."""
    for name in services:
        for noise in EVERYDAY:
            if noise.service == name:
                noise.write(sim, sim.start, sim.end)


# -- infrastructure -----------------------------------------------------------------------


def postgres(sim: Sim, key: str, db: str, users: tuple[str, ...], *, syslog: bool) -> None:
    """Checkpoints, autovacuum, a slow reporting query now and then, dropped clients."""
    rng = sim.rng

    def log(t: float, msg: str, user: str = "") -> None:
        pid = rng.randint(1000, 60000)
        if not syslog:
            who = f"{user}@{db}" if user else ""
            sim.log(key, t, "INFO", msg, pod=key, pid=pid, who=who)
            return
        prefix = (
            f"user={user},db={db},app=[unknown],client=10.244.{rng.randint(1, 4)}.{rng.randint(2, 250)}"
            if user
            else ""
        )
        sim.log(key, t, "INFO", msg, pod=key, pid=pid, prefix=prefix)

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
        reset = "LOG:  could not receive data from client: Connection reset by peer"
        log(t, reset, user=rng.choice(users))


def kafka_broker(sim: Sim, key: str, broker: int) -> None:
    """Segment rolls, leader elections, retention, consumers leaving."""
    rng = sim.rng

    def log(t: float, msg: str, logger: str) -> None:
        sim.log(key, t, "INFO", msg, logger=logger, pod=key)

    data = "dir=/var/lib/kafka/data"
    topics = ("order-events", "inventory-events", "__consumer_offsets")
    for t in every(rng, sim.start, sim.end, 150, 0.3):
        topic = rng.choice(topics)
        part = rng.randint(0, 11 if topic != "__consumer_offsets" else 49)
        offset = rng.randint(1_000_000, 9_000_000)
        log(
            t,
            f"[LocalLog partition={topic}-{part}, {data}] Rolled new log segment at offset {offset} in {rng.randint(1, 6)} ms.",
            "kafka.log.LocalLog",
        )
        log(
            t + 0.002,
            f"[ProducerStateManager partition={topic}-{part}] Wrote producer snapshot at offset {offset} with 0 producer ids in 1 ms.",
            "kafka.log.ProducerStateManager",
        )
    for t in every(rng, sim.start, sim.end, 300, 0.0):
        msg = f"[Controller id={broker}] Processing automatic preferred replica leader election"
        log(t, msg, "kafka.controller.KafkaController")
    for t in poisson(rng, sim.start, sim.end, 600):
        part = rng.randint(0, 11)
        log(
            t,
            f"[UnifiedLog partition=order-events-{part}, {data}] Deleting segment LogSegment(baseOffset={rng.randint(100000, 900000)}, size=1073741{rng.randint(100, 999)}) due to retention time 604800000ms breach based on the largest record timestamp in the segment",
            "kafka.log.UnifiedLog",
        )
    for t in poisson(rng, sim.start, sim.end, 900):
        member = f"consumer-order-projector-1-{rng.getrandbits(32):08x}"
        log(
            t,
            f"[GroupCoordinator {broker}]: Member {member} in group order-projector has left, removing it from the group",
            "kafka.coordinator.group.GroupCoordinator",
        )


def redis(sim: Sim, key: str) -> None:
    """An RDB snapshot every 5 minutes, by a forked child (role C)."""
    rng = sim.rng
    for t in every(rng, sim.start, sim.end, 300, 0.0):
        child = rng.randint(200, 9000)
        saving = f"{rng.randint(10, 400)} changes in 300 seconds. Saving..."
        cow = f"Fork CoW for RDB: current {rng.randint(1, 4)} MB, peak 4 MB, average 2 MB"
        for at, pid, role, msg in (
            (t, 1, "M", saving),
            (t + 0.004, 1, "M", f"Background saving started by pid {child}"),
            (t + 0.31, child, "C", "DB saved on disk"),
            (t + 0.312, child, "C", cow),
            (t + 0.41, 1, "M", "Background saving terminated with success"),
        ):
            fields = {"pid": pid} if role == "M" else {"pid": pid, "role": role}
            sim.log(key, at, "INFO", msg, pod=key, **fields)


def coredns(sim: Sim, key: str) -> None:
    """The start-up banner (hours ago), and the odd upstream timeout for a vendor's name."""
    rng = sim.rng
    for at, msg in (
        (sim.start - rng.uniform(3000, 9000), ".:53"),
        (sim.start - 2900, "[INFO] plugin/reload: Running configuration SHA512 = 7d4f1c9b2e0a"),
        (sim.start - 2899, "CoreDNS-1.11.1"),
        (sim.start - 2899, "linux/amd64, go1.21.9, ae2bbc2"),
    ):
        sim.log(key, at, "INFO", msg, pod=key)
    for t in poisson(rng, sim.start, sim.end, 900):
        sim.log(key, t, "ERROR", dns_timeout("telemetry.vendor-x.net", "AAAA", rng), pod=key)


def dns_timeout(name: str, qtype: str, rng: random.Random) -> str:
    """CoreDNS' errors plugin when the upstream resolver does not answer."""
    port = rng.randint(30000, 60000)
    return f"[ERROR] plugin/errors: 2 {name}. {qtype}: read udp 10.244.0.7:{port}->169.254.169.253:53: i/o timeout"


def k8s_background(sim: Sim) -> None:
    """Normal cluster life: HPA decisions, a CronJob every 15 minutes, probe blips."""
    rng = sim.rng
    for t in every(rng, sim.start, sim.end, 900, 0.0):
        job = f"order-report-{int(t) // 60}"
        pod = f"{job}-{pod_hash(rng, 5)}"
        node = f"{NODE_POOL}-{rng.choice(NODES)}"
        image = "registry.shop.example.com/order-report:1.4.2"
        source = "cronjob-controller"
        k8s_event(
            sim, t, "SuccessfulCreate", "cronjob/order-report", f"Created job {job}", source=source
        )
        assigned = f"Successfully assigned shop/{pod} to {node}"
        k8s_event(sim, t + 1, "Scheduled", f"pod/{pod}", assigned, source="default-scheduler")
        for at, reason, msg in (
            (t + 2, "Pulled", f'Container image "{image}" already present on machine'),
            (t + 2, "Created", "Created container order-report"),
            (t + 3, "Started", "Started container order-report"),
        ):
            k8s_event(sim, at, reason, f"pod/{pod}", msg)
        done = t + rng.uniform(30, 50)
        k8s_event(sim, done, "Completed", f"job/{job}", "Job completed", source="job-controller")
    for t in poisson(rng, sim.start, sim.end, 700):
        replicas = rng.choice((2, 3))
        target = rng.choice(("cart", "api-gateway"))
        k8s_event(
            sim,
            t,
            "SuccessfulRescale",
            f"horizontalpodautoscaler/{target}",
            f"New size: {replicas}; reason: cpu resource utilization (percentage of request) {'above' if replicas == 3 else 'below'} target",
            source="horizontal-pod-autoscaler",
        )
    for t in poisson(rng, sim.start, sim.end, 1200):
        pod = (
            sim.pod("recommendations", t)
            if sim.replicas.get("recommendations")
            else "frontend-5b7d9c8f6d-h2kzq"
        )
        k8s_event(
            sim,
            t,
            "Unhealthy",
            f"pod/{pod}",
            'Readiness probe failed: Get "http://10.244.2.19:8080/ready": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
            warning=True,
        )
