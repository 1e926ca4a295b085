# ruff: noqa: E501
"""Resource exhaustion: a connection pool, a container's memory, a broker's disk."""

from __future__ import annotations

import itertools

from tests.scenarios import chatter
from tests.scenarios.catalog.shared import broker_unreachable, hikari_timeouts, kafka_expiring
from tests.scenarios.evidence import (
    grafana_csv,
    jaeger,
    k8s_events,
    kafka,
    kubectl_output,
    logfmt,
    logstash,
    prometheus_range,
    prometheus_scrape,
    spring,
    zap,
)
from tests.scenarios.formats import Family, dt
from tests.scenarios.k8s import backing_off, restarted
from tests.scenarios.lines import Line, bits, fmt, k8s_event, randint
from tests.scenarios.metrics import MIB, Source, at_edge, exact, measured, served
from tests.scenarios.sim import Fault, Sim, windows
from tests.scenarios.spec import NEW_PODS, Answer, Breaks, Release, Scenario, Traffic
from tests.scenarios.stage import INCIDENT, At, Curve, Ramp, Rise, Shape, Stage, curve
from tests.scenarios.timeline import Cycle, crash_cycles, down_count

# -- payments-pool-exhausted ----------------------------------------------------------------

LEAK_DETECTED = Line(
    "WARN",
    fmt(
        "Connection leak detection triggered for org.postgresql.jdbc.PgConnection@{1:08x} on thread http-nio-8080-exec-{0}, stack trace follows",
        randint(1, 40),
        bits(32),
    ),
    logger="com.zaxxer.hikari.pool.ProxyLeakTask",
    thread="HikariPool-1 housekeeper",
    stack=(
        "java.lang.Exception: Apparent connection leak detected",
        "\tat com.zaxxer.hikari.HikariDataSource.getConnection(HikariDataSource.java:127)",
        "\tat com.shopfast.payments.refund.RefundEligibility.check(RefundEligibility.java:61)",
        "\tat com.shopfast.payments.ChargeService.charge(ChargeService.java:93)",
    ),
    after=60,  # leak detection threshold: reported a minute after the connection was taken
)


def pool_runs_dry(stage: Stage) -> None:
    """From the incident on, a charge waits 3 s for a connection and fails."""
    Breaks(
        "payments-db",
        "client",
        caller="payments",
        prob=Ramp(INCIDENT, At(240), 0.8, 0.45),
        message=hikari_timeouts(0, 3, 40, total=lambda t: 10),
        latency_ms=lambda r, t: 3000 + r.uniform(0, 12),
    )(stage)


def connections_leak(stage: Stage) -> None:
    """5.7.0 leaks a connection per refund-eligibility check, about one a minute per pod,
    from a minute after the rollout until the pool is full."""
    rng, released = stage.rng, stage.released
    assert released is not None
    for pod in stage.new:
        t = released + 60 + rng.uniform(0, 40)
        while t < stage.inc + 30:
            LEAK_DETECTED.write(stage.sim, "payments", t, pod=pod)
            t += rng.uniform(45, 70)


def pool_pending(stage: Stage) -> Curve:
    """Threads waiting for a connection: none until the pool is full, then more and more."""
    inc = stage.inc
    return lambda t: 0.0 if t < inc else 6 + 10 * min(1, (t - inc) / 300)


PAYMENTS_POOL_EXHAUSTED = Scenario(
    name="payments-pool-exhausted",
    when="2026-11-03 14:06:40",
    baseline_min=32,
    after_min=16,
    answer=Answer(
        title="Connection pool exhausted in payments after a release",
        question="Checkout is failing for a lot of customers since about 14:07 UTC, what is going on?",
        component="payments",
        signature="db-pool-exhausted",
        acceptable=("payments", NEW_PODS, "payments-db", "HikariPool-1"),
        forbidden=("checkout", "api-gateway", "ingress-nginx", "cart", "inventory"),
        forbidden_signatures=("timeout",),
        notes="checkout logs the loudest errors; payments 5.7.0 leaks connections (leak-detection "
        "WARNs, active climbing) for 9 minutes before the pool is full and charges fail",
    ),
    release=Release("payments", "5.6.1", "5.7.0", at=-570),  # 9.5 minutes before
    story=(
        pool_runs_dry,
        Breaks(
            "payments-db",
            "slow",
            caller="payments",
            prob=0.85,
            latency_ms=lambda r, t: r.uniform(150, 2700),
        ),
        connections_leak,
    ),
    everyday=("payments", "checkout"),
    metrics=(
        (
            "hikaricp_connections_active{app=payments}",
            measured(
                Rise(2.2, 17.8, At(60, "release"), INCIDENT), 0.08, floor=0, ceiling=20, digits=0
            ),
        ),
        ("hikaricp_connections_pending{app=payments}", measured(pool_pending, 0.3, digits=0)),
        ("hikaricp_connections_max{app=payments}", exact(20.0)),
        ("payments p99 latency (ms)", served("payments", "p99")),
        ("checkout 5xx (%)", served("checkout", "err_pct")),
        ("payments-db cpu (%)", measured(23.0, 0.12, digits=1)),
    ),
    evidence={
        "pod-logs-a.jsonl": logstash("payments"),
        "pod-logs-b.log": spring("checkout", 60),
        "grafana-export.csv": grafana_csv(),
        "trace-search.json": jaeger(22),
    },
)

# -- inventory-oomkilled --------------------------------------------------------------------

OOM_NODE = "gke-shop-prod-pool-2-9f3a1c2e-m2vd"
OOM_POD_UID = "6f1d9c2e-5b7a-4f0e-9a83-2c4d1e7b9f10"


def started(sim: Sim, pod: str) -> float:
    """When the pod first became ready."""
    return next(r.start for r in sim.replicas["inventory"] if r.pod == pod)


def killed_in_a_loop(stage: Stage) -> None:
    """From the incident the new pods' memory hits the limit every two or three minutes: the
    kernel kills them, kubelet restarts them with a growing back-off."""
    rng, sim, win, inc = stage.rng, stage.sim, stage.win, stage.inc
    starts = [inc, inc + rng.uniform(60, 90)]
    cycles = [
        crash_cycles(rng, first, win.end + 60, lambda r, n: r.uniform(100, 170), boot=(4, 9))
        for first in starts
    ]
    stage.marks["cycles"] = cycles
    sim.faults.append(
        Fault("inventory", "refused", inc, prob=lambda t: down_count(cycles, t) / len(cycles))
    )
    warm = [(b, b + 30) for pod in cycles for _, b, _ in pod]  # cold caches after a restart
    sim.faults.append(
        Fault(
            "inventory",
            "slow",
            inc,
            prob=windows(warm),
            latency_ms=lambda r, t: r.uniform(250, 900),
        )
    )
    for pod, pod_cycles in zip(stage.new, cycles, strict=True):
        for down, up, n in pod_cycles:
            pid = rng.randint(2000, 30000)
            k8s_event(
                sim,
                down,
                "OOMKilling",
                f"node/{OOM_NODE}",
                f"Memory cgroup out of memory: Killed process {pid} (inventory) total-vm:1912344kB, anon-rss:{rng.randint(520_000, 527_000)}kB, file-rss:{rng.randint(14_000, 19_000)}kB, shmem-rss:0kB, UID:65532 pgtables:1284kB oom_score_adj:985",
                warning=True,
                source="kernel-monitor",
            )
            if n > 1:
                backing_off(sim, "inventory", pod, OOM_POD_UID, down + 1, 2 * n)
            if up < win.end:
                restarted(sim, "inventory", pod, "3.9.0", up, n + 1, (1.2, 1.1, 1.0, 0.9))
        heap_grows(stage, pod, pod_cycles)


def heap_grows(stage: Stage, pod: str, cycles: list[Cycle]) -> None:
    """The service reports its heap once a minute: it grows until the kernel kills it."""
    rng, sim = stage.rng, stage.sim
    lives = [(started(sim, pod), cycles[0][0])] + [
        (up, nxt[0]) for (_, up, _), nxt in itertools.pairwise(cycles)
    ]
    for born, dies in lives:
        t = born + rng.uniform(20, 60)
        while t < min(dies, stage.win.end):
            full = (t - born) / max(dies - born, 1)
            sim.log(
                "inventory",
                t,
                "INFO",
                "availability cache stats",
                pod=pod,
                logger="cache/avail.go:204",
                entries=int(9000 + 180_000 * full),
                heap_alloc_mb=round(150 + 330 * full + rng.uniform(-6, 6)),
                gc_cycles=rng.randint(40, 90),
            )
            t += rng.uniform(55, 65)


def memory_and_restarts(stage: Stage) -> list[tuple[object, list[float]]]:
    """Per new pod: working set (no samples while the container is gone) and restarts."""
    columns: list[tuple[object, list[float]]] = []
    for pod, cycles in zip(stage.new, stage.marks["cycles"], strict=True):
        born = started(stage.sim, pod)
        mem, restarts = [], []
        for t in stage.times:
            if t < born or any(a <= t < b for a, b, _ in cycles):
                mem.append(float("nan"))
            else:
                last = max([born] + [b for _, b, _ in cycles if b <= t])
                nxt = min([a for a, _, _ in cycles if a > t] + [t + 150])
                full = (t - last) / max(nxt - last, 1)
                mem.append(round((165 + 345 * full) * MIB * stage.rng.uniform(0.98, 1.01)))
            restarts.append(
                float(sum(1 for a, _, _ in cycles if a <= t)) if t >= born else float("nan")
            )
        columns.append((f'container_memory_working_set_bytes{{pod="{pod}"}}', mem))
        columns.append((f'kube_pod_container_status_restarts_total{{pod="{pod}"}}', restarts))
    return columns


def describe_pod(stage: Stage) -> bytes:
    """`kubectl describe pod` of the first new pod, half a minute before the window ends."""
    pod, cycles, at = stage.new[0], stage.marks["cycles"][0], stage.win.end - 30
    version, ip = "3.9.0", "10.244.2.57"
    container = f"{stage.rng.getrandbits(256):064x}"
    last_down, _, restarts = max((c for c in cycles if c[0] <= at), key=lambda c: c[0])
    prev_up = max((c[1] for c in cycles if c[1] <= last_down), default=last_down - 150)
    started_at = dt(prev_up).strftime("%a, %d %b %Y %H:%M:%S +0000")
    finished = dt(last_down).strftime("%a, %d %b %Y %H:%M:%S +0000")
    waiting = any(a <= at < b for a, b, _ in cycles)
    state = (
        "Waiting\n      Reason:       CrashLoopBackOff"
        if waiting
        else f"Running\n      Started:      {dt(at - 20).strftime('%a, %d %b %Y %H:%M:%S +0000')}"
    )
    kills = sum(1 for c in cycles if c[0] <= at)
    ready = "False" if waiting else "True"
    ago = f"{max(1, int((at - cycles[-1][0]) // 60))}m (x{kills} over {int((at - cycles[0][0]) // 60) + 25}m)"
    text = f"""Name:             {pod}
Namespace:        shop
Priority:         0
Service Account:  inventory
Node:             {OOM_NODE}/10.128.0.41
Labels:           app.kubernetes.io/name=inventory
                  app.kubernetes.io/part-of=shop
                  app.kubernetes.io/version={version}
                  pod-template-hash={pod.split("-")[1]}
Status:           Running
IP:               {ip}
Controlled By:    ReplicaSet/inventory-{pod.split("-")[1]}
Containers:
  inventory:
    Container ID:   containerd://{container}
    Image:          registry.shop.example.com/inventory:{version}
    Port:           8080/TCP
    State:          {state}
    Last State:     Terminated
      Reason:       OOMKilled
      Exit Code:    137
      Started:      {started_at}
      Finished:     {finished}
    Ready:          {ready}
    Restart Count:  {restarts}
    Limits:
      memory:  512Mi
    Requests:
      cpu:      250m
      memory:   512Mi
    Liveness:   http-get http://:http/healthz delay=10s timeout=1s period=5s #success=1 #failure=3
    Readiness:  http-get http://:http/ready delay=0s timeout=1s period=5s #success=1 #failure=2
    Environment:
      DB_HOST:          inventory-db
      DB_MAX_CONNS:     20
      AVAIL_CACHE:      enabled
      GOMEMLIMIT:       0
Conditions:
  Type                        Status
  PodReadyToStartContainers   True
  Initialized                 True
  Ready                       {ready}
  ContainersReady             {ready}
  PodScheduled                True
QoS Class:                    Burstable
Events:
  Type     Reason     Age                  From     Message
  ----     ------     ----                 ----     -------
  Normal   Pulled     {ago}  kubelet  Container image "registry.shop.example.com/inventory:{version}" already present on machine
  Normal   Created    {ago}  kubelet  Created container inventory
  Normal   Started    {ago}  kubelet  Started container inventory
  Warning  BackOff    {max(1, int((at - last_down) // 60))}m (x{kills * 4} over {int((at - cycles[0][0]) // 60)}m)   kubelet  Back-off restarting failed container inventory in pod {pod}_shop({OOM_POD_UID})
"""
    return text.encode()


INVENTORY_OOMKILLED = Scenario(
    name="inventory-oomkilled",
    when="2026-10-21 09:42:10",
    baseline_min=30,
    after_min=18,
    answer=Answer(
        title="inventory 3.9.0 leaks memory and is OOM-killed in a loop",
        question="Product pages and add-to-cart keep failing on and off since ~09:42 UTC. Can you find out why?",
        component="inventory",
        signature="oom",
        acceptable=("inventory", NEW_PODS),
        forbidden=("api-gateway", "cart", "checkout", "inventory-db", "ingress-nginx"),
        notes="the killed service logs no error at all (SIGKILL): only restarts, its own heap "
        "stats, node OOM events and memory at the 512Mi limit; callers see connection refused",
    ),
    traffic=Traffic(gateway_info_every=3),
    release=Release("inventory", "3.8.2", "3.9.0", at=-1440),  # 24 minutes before
    story=(killed_in_a_loop,),
    cluster_noise=True,
    everyday=("inventory", "api-gateway"),
    metrics=(
        memory_and_restarts,
        ("inventory p99 (ms)", served("inventory", "p99")),
        ("ingress 5xx/s", at_edge("5xx_rps")),
    ),
    evidence={
        "events.txt": k8s_events(),
        "loki-export.log": zap("inventory"),
        "gateway.log": logfmt("api-gateway"),
        "dashboard.csv": grafana_csv("epoch_ms"),
        "describe.txt": kubectl_output(describe_pod),
    },
)

# -- kafka-disk-full ------------------------------------------------------------------------

BROKER = "kafka-1"
NO_SPACE = (
    "java.io.IOException: No space left on device",
    "\tat java.base/sun.nio.ch.FileDispatcherImpl.write0(Native Method)",
    "\tat java.base/sun.nio.ch.FileChannelImpl.write(FileChannelImpl.java:285)",
    "\tat org.apache.kafka.common.record.MemoryRecords.writeFullyTo(MemoryRecords.java:92)",
    "\tat org.apache.kafka.storage.internals.log.LogSegment.append(LogSegment.java:168)",
    "\tat kafka.log.LocalLog.append(LocalLog.scala:411)",
)
DISK_FAILED = (  # (seconds after the incident start, level, message, logger, stack)
    *(
        (
            0.004 * k,
            "ERROR",
            f"Error while appending records to order-events-{part} in dir /var/lib/kafka/data",
            "org.apache.kafka.storage.internals.log.LogDirFailureChannel",
            NO_SPACE,
        )
        for k, part in enumerate((7, 1, 4, 10))
    ),
    (
        0.02,
        "ERROR",
        "[ReplicaManager broker=1] Error processing append operation on partition order-events-7",
        "kafka.server.ReplicaManager",
        (
            "org.apache.kafka.common.errors.KafkaStorageException: Error while appending records to order-events-7 in dir /var/lib/kafka/data",
        ),
    ),
    (
        0.03,
        "WARN",
        "[ReplicaManager broker=1] Stopping serving replicas in dir /var/lib/kafka/data",
        "kafka.server.ReplicaManager",
        (),
    ),
    (
        0.05,
        "ERROR",
        "Shutdown broker because all log dirs in /var/lib/kafka/data have failed",
        "kafka.log.LogManager",
        (),
    ),
)
FAILED_START = (  # (from "up" or "fail", seconds after, level, message, logger, stack)
    (
        "up",
        0.0,
        "INFO",
        "Registered kafka:type=kafka.Log4jController MBean",
        "kafka.utils.Log4jControllerRegistration$",
        (),
    ),
    ("up", 0.4, "INFO", "[KafkaServer id=1] starting", "kafka.server.KafkaServer", ()),
    (
        "up",
        2.1,
        "INFO",
        "Loading logs from log dirs ArraySeq(/var/lib/kafka/data)",
        "kafka.log.LogManager",
        (),
    ),
    (
        "fail",
        0.0,
        "ERROR",
        "There was an error in one of the threads during logs loading: java.io.IOException: No space left on device",
        "kafka.log.LogManager",
        (),
    ),
    (
        "fail",
        0.01,
        "ERROR",
        "[KafkaServer id=1] Fatal error during KafkaServer startup. Prepare to shutdown",
        "kafka.server.KafkaServer",
        NO_SPACE[:3],
    ),
    ("fail", 0.5, "INFO", "[KafkaServer id=1] shut down completed", "kafka.server.KafkaServer", ()),
)


def disk_fills(stage: Stage) -> None:
    """kafka-1's log: healthy until its disk is full at the incident; it shuts down, and
    every restart fails while loading its logs. checkout's producer loses the node."""
    rng, sim, win, inc = stage.rng, stage.sim, stage.win, stage.inc
    restarts = crash_cycles(
        rng, inc + 0.05, win.end + 60, lambda r, n: r.uniform(8, 14), boot=(2, 4)
    )
    chatter.kafka_broker(sim, BROKER, 1)
    sim.logs[BROKER] = [e for e in sim.logs[BROKER] if e.t < inc]
    for after, level, msg, logger, stack in DISK_FAILED:
        sim.log(BROKER, inc + after, level, msg, logger=logger, pod=BROKER, stack=stack)
    for (_, up, _), (fail, _, _) in itertools.pairwise(restarts):
        if up > win.end:
            break
        for since, after, level, msg, logger, stack in FAILED_START:
            at = (up if since == "up" else fail) + after
            sim.log(BROKER, at, level, msg, logger=logger, pod=BROKER, stack=stack)
    producer = broker_unreachable(1, "10.244.3.17")
    t = inc + rng.uniform(1, 4)
    while t < win.end:
        producer.write(sim, "checkout", t)
        t += rng.uniform(8, 30)


def disk_labels(instance: str) -> dict[str, str]:
    return {
        "instance": f"{instance}:9100",
        "mountpoint": "/var/lib/kafka",
        "device": "/dev/sdb",
        "job": "node",
    }


def slowly_growing(base: float) -> Shape:
    """A disk `base` full at the window start, filling by 0.4% an hour."""

    def shape(stage: Stage) -> Curve:
        start = stage.win.start
        return lambda t: base + 0.004 * (t - start) / 3600

    return shape


def disk_used(fraction: Shape) -> Source:
    """Percent of the data disk in use, as node-exporter measures it."""

    def source(stage: Stage) -> list[float]:
        level = curve(fraction, stage)
        rng = stage.rng
        return [
            min(100.0, round(100 * level(t) + rng.uniform(-0.02, 0.02), 2)) for t in stage.times
        ]

    return source


def under_replicated(stage: Stage) -> list[float]:
    return [float(0 if t < stage.inc else stage.rng.choice((8, 8, 9))) for t in stage.times]


DATA_DISK = {"device": "/dev/sdb", "fstype": "ext4", "mountpoint": "/var/lib/kafka"}
ROOT_DISK = {"device": "/dev/sda1", "fstype": "ext4", "mountpoint": "/"}
NODE_SCRAPE: tuple[Family, ...] = (  # kafka-1's node-exporter, after the incident
    (
        "node_filesystem_avail_bytes",
        "gauge",
        "Filesystem space available to non-root users in bytes.",
        [(DATA_DISK, 0.0), (ROOT_DISK, 31.2 * 1024**3)],
    ),
    (
        "node_filesystem_size_bytes",
        "gauge",
        "Filesystem size in bytes.",
        [(DATA_DISK, float(500 * 1024**3)), (ROOT_DISK, 96.7 * 1024**3)],
    ),
    (
        "node_filesystem_files_free",
        "gauge",
        "Filesystem total free file nodes.",
        [(DATA_DISK, 32_611_842.0)],
    ),
    ("node_load1", "gauge", "1m load average.", [({}, 0.42)]),
    (
        "node_memory_MemAvailable_bytes",
        "gauge",
        "Memory information field MemAvailable_bytes.",
        [({}, 9.1 * 1024**3)],
    ),
)

KAFKA_DISK_FULL = Scenario(
    name="kafka-disk-full",
    when="2026-09-29 03:17:45",
    baseline_min=35,
    after_min=15,
    answer=Answer(
        title="Kafka broker kafka-1 ran out of disk and keeps failing to start",
        question="Orders are failing at the last step since ~03:18 UTC (checkout says it can't publish). What broke?",
        component="kafka-1",
        signature="disk-full",
        acceptable=("kafka-1", "kafka", "broker 1", "/var/lib/kafka"),
        forbidden=("checkout", "api-gateway", "payments", "kafka-0", "kafka-2"),
        forbidden_signatures=("timeout",),
        notes="checkout shows producer timeouts and NotEnoughReplicas; only the broker's own log "
        "and node metrics say 'No space left on device'; its disk filled slowly during baseline",
    ),
    traffic=Traffic(
        rates={"checkout": 0.05, "product": 0.04}, timeouts={("checkout", "kafka"): 6000.0}
    ),
    story=(
        Breaks(
            "kafka",
            "error",
            caller="checkout",
            prob=0.36,
            message=kafka_expiring((1, 4, 7, 10)),
            latency_ms=lambda r, t: 5003 + r.uniform(0, 9),
        ),
        Breaks(
            "kafka",
            "error",
            caller="checkout",
            prob=0.4,
            message="org.apache.kafka.common.errors.NotEnoughReplicasException: Messages are "
            "rejected since there are fewer in-sync replicas than required.",
            latency_ms=lambda r, t: r.uniform(3, 9),
        ),
        disk_fills,
    ),
    everyday=("checkout",),
    metrics=(
        (disk_labels("kafka-0"), disk_used(slowly_growing(0.612))),
        (disk_labels("kafka-1"), disk_used(Rise(0.9, 0.1, At(-3600, "start"), INCIDENT))),
        (disk_labels("kafka-2"), disk_used(slowly_growing(0.597))),
        (
            {
                "__name__": "kafka_server_replicamanager_underreplicatedpartitions",
                "instance": "kafka-0:7071",
                "job": "kafka",
            },
            under_replicated,
        ),
    ),
    evidence={
        "server.log": kafka(BROKER),
        "app.log": spring("checkout", 0),
        "prometheus-query.json": prometheus_range(),
        "metrics-scrape.txt": prometheus_scrape(NODE_SCRAPE),
    },
)

SCENARIOS = (PAYMENTS_POOL_EXHAUSTED, INVENTORY_OOMKILLED, KAFKA_DISK_FULL)
