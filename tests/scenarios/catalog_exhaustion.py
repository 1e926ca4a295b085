# ruff: noqa: E501
"""Scenarios, part 1: resource exhaustion (connection pools, memory, disk)."""

from __future__ import annotations

import itertools
import random

from tests.scenarios import chatter, render
from tests.scenarios.kit import (
    Case,
    Cycle,
    Window,
    crash_cycles,
    down_fraction,
    edge_stats,
    event,
    everyday,
    gauge,
    grid,
    rollout,
    rounded,
    sample_traces,
    server_stats,
    smooth_step,
    standard,
)
from tests.scenarios.shop import Shop
from tests.scenarios.sim import Fault, ramp

MIB = 1024 * 1024


def payments_pool_exhausted(rng: random.Random) -> Case:
    win = Window.of("2026-11-03 14:06:40", 32, 16)
    inc = win.pivot
    sim = Shop(rng, win.start, win.end)
    standard(sim, skip=("payments",))
    deployed = win.minute(-9.5)
    _, new = rollout(sim, "payments", "5.6.1", "5.7.0", deployed)
    waiting = [0]

    def exhausted(r: random.Random, t: float) -> str:
        waiting[0] = min(40, max(3, waiting[0] + r.randint(-2, 3)))
        return (
            "HikariPool-1 - Connection is not available, request timed out after 3000ms "
            f"(total=10, active=10, idle=0, waiting={waiting[0]})"
        )

    sim.faults += [
        Fault(
            "payments-db",
            "client",
            inc,
            caller="payments",
            prob=ramp(inc, inc + 240, 0.8, 0.45),
            message=exhausted,
            latency_ms=lambda r, t: 3000 + r.uniform(0, 12),
        ),
        Fault(
            "payments-db",
            "slow",
            inc,
            caller="payments",
            prob=0.85,
            latency_ms=lambda r, t: r.uniform(150, 2700),
        ),
    ]
    # The new release leaks a connection per refund-eligibility check; leak detection
    # (60 s threshold) reports each one a minute later, until the pool is full.
    for pod in new:
        t = deployed + 60 + rng.uniform(0, 40)
        while t < inc + 30:
            thread = f"http-nio-8080-exec-{rng.randint(1, 40)}"
            sim.log(
                "payments",
                t + 60,
                "WARN",
                f"Connection leak detection triggered for org.postgresql.jdbc.PgConnection@{rng.getrandbits(32):08x} on thread {thread}, stack trace follows",
                pod=pod,
                logger="com.zaxxer.hikari.pool.ProxyLeakTask",
                thread="HikariPool-1 housekeeper",
                stack=(
                    "java.lang.Exception: Apparent connection leak detected",
                    "\tat com.zaxxer.hikari.HikariDataSource.getConnection(HikariDataSource.java:127)",
                    "\tat com.shopfast.payments.refund.RefundEligibility.check(RefundEligibility.java:61)",
                    "\tat com.shopfast.payments.ChargeService.charge(ChargeService.java:93)",
                ),
            )
            t += rng.uniform(45, 70)
    everyday(sim, ("payments", "checkout"))
    sim.run()

    step = 60.0
    times = grid(win, step)
    pay = server_stats(sim, "payments", times, step)
    chk = server_stats(sim, "checkout", times, step)
    leak = smooth_step(deployed + 60, inc - deployed - 60)
    active = gauge(rng, times, lambda t: 2.2 + 17.8 * leak(t), 0.08, floor=0, ceiling=20, digits=0)
    pending = gauge(
        rng, times, lambda t: 0.0 if t < inc else 6 + 10 * min(1, (t - inc) / 300), 0.3, digits=0
    )
    columns = {
        "hikaricp_connections_active{app=payments}": active,
        "hikaricp_connections_pending{app=payments}": pending,
        "hikaricp_connections_max{app=payments}": [20.0 for _ in times],
        "payments p99 latency (ms)": rounded(pay["p99"]),
        "checkout 5xx (%)": rounded(chk["err_pct"]),
        "payments-db cpu (%)": gauge(rng, times, lambda t: 23.0, 0.12, digits=1),
    }
    case = Case(
        "payments-pool-exhausted",
        "Connection pool exhausted in payments after a release",
        "Checkout is failing for a lot of customers since about 14:07 UTC, what is going on?",
        win,
        "payments",
        "resource-exhaustion",
        "db-pool-exhausted",
        acceptable=["payments", *new, "payments-db", "HikariPool-1"],
        forbidden=["checkout", "api-gateway", "ingress-nginx", "cart", "inventory"],
        forbidden_signatures=["timeout"],
        notes="checkout logs the loudest errors; payments 5.7.0 leaks connections (leak-detection "
        "WARNs, active climbing) for 9 minutes before the pool is full and charges fail",
    )
    case.add("pod-logs-a.jsonl", "log", render.logstash_json(sim.events("payments"), "payments"))
    case.add("pod-logs-b.log", "log", render.spring(sim.events("checkout"), "checkout", 60))
    case.add("grafana-export.csv", "metrics", render.csv_wide(times, columns))
    traces = sample_traces(sim, rng, 22, root="POST /api/checkout")
    case.add("trace-search.json", "traces", render.jaeger(traces))
    return case


def _describe_pod(
    pod: str, node: str, version: str, cycles: list[Cycle], at: float, ip: str, container: str
) -> bytes:
    """`kubectl describe pod` of a container in CrashLoopBackOff after OOM kills."""
    last_down, _, restarts = max((c for c in cycles if c[0] <= at), key=lambda c: c[0])
    prev_up = max((c[1] for c in cycles if c[1] <= last_down), default=last_down - 150)
    started = render.dt(prev_up).strftime("%a, %d %b %Y %H:%M:%S +0000")
    finished = render.dt(last_down).strftime("%a, %d %b %Y %H:%M:%S +0000")
    waiting = any(a <= at < b for a, b, _ in cycles)
    state = (
        "Waiting\n      Reason:       CrashLoopBackOff"
        if waiting
        else f"Running\n      Started:      {render.dt(at - 20).strftime('%a, %d %b %Y %H:%M:%S +0000')}"
    )
    kills = sum(1 for c in cycles if c[0] <= at)
    text = f"""Name:             {pod}
Namespace:        shop
Priority:         0
Service Account:  inventory
Node:             {node}/10.128.0.41
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
      Started:      {started}
      Finished:     {finished}
    Ready:          {"False" if waiting else "True"}
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
  Ready                       {"False" if waiting else "True"}
  ContainersReady             {"False" if waiting else "True"}
  PodScheduled                True
QoS Class:                    Burstable
Events:
  Type     Reason     Age                  From     Message
  ----     ------     ----                 ----     -------
  Normal   Pulled     {max(1, int((at - cycles[-1][0]) // 60))}m (x{kills} over {int((at - cycles[0][0]) // 60) + 25}m)  kubelet  Container image "registry.shop.example.com/inventory:{version}" already present on machine
  Normal   Created    {max(1, int((at - cycles[-1][0]) // 60))}m (x{kills} over {int((at - cycles[0][0]) // 60) + 25}m)  kubelet  Created container inventory
  Normal   Started    {max(1, int((at - cycles[-1][0]) // 60))}m (x{kills} over {int((at - cycles[0][0]) // 60) + 25}m)  kubelet  Started container inventory
  Warning  BackOff    {max(1, int((at - last_down) // 60))}m (x{kills * 4} over {int((at - cycles[0][0]) // 60)}m)   kubelet  Back-off restarting failed container inventory in pod {pod}_shop(6f1d9c2e-5b7a-4f0e-9a83-2c4d1e7b9f10)
"""
    return text.encode()


def inventory_oomkilled(rng: random.Random) -> Case:
    win = Window.of("2026-10-21 09:42:10", 30, 18)
    inc = win.pivot
    sim = Shop(rng, win.start, win.end)
    sim.gateway_info_every = 3
    standard(sim, skip=("inventory",))
    deployed = win.minute(-24)
    _, new = rollout(sim, "inventory", "3.8.2", "3.9.0", deployed)
    node = "gke-shop-prod-pool-2-9f3a1c2e-m2vd"
    starts = [inc, inc + rng.uniform(60, 90)]
    cycles = [
        crash_cycles(rng, first, win.end + 60, lambda r, n: r.uniform(100, 170), boot=(4, 9))
        for first in starts
    ]
    sim.faults.append(Fault("inventory", "refused", inc, prob=down_fraction(cycles)))
    warm = [(b, b + 30) for pod in cycles for _, b, _ in pod]
    sim.faults.append(
        Fault(
            "inventory",
            "slow",
            inc,
            prob=lambda t: 1.0 if any(a <= t < b for a, b in warm) else 0.0,
            latency_ms=lambda r, t: r.uniform(250, 900),
        )
    )
    boot_at = {p: sim.replicas["inventory"][2 + i].start for i, p in enumerate(new)}
    for pod, pod_cycles in zip(new, cycles, strict=True):
        for down, up, n in pod_cycles:
            pid = rng.randint(2000, 30000)
            event(
                sim,
                down,
                "OOMKilling",
                f"node/{node}",
                f"Memory cgroup out of memory: Killed process {pid} (inventory) total-vm:1912344kB, anon-rss:{rng.randint(520_000, 527_000)}kB, file-rss:{rng.randint(14_000, 19_000)}kB, shmem-rss:0kB, UID:65532 pgtables:1284kB oom_score_adj:985",
                warning=True,
                source="kernel-monitor",
            )
            if n > 1:
                event(
                    sim,
                    down + 1,
                    "BackOff",
                    f"pod/{pod}",
                    f"Back-off restarting failed container inventory in pod {pod}_shop(6f1d9c2e-5b7a-4f0e-9a83-2c4d1e7b9f10)",
                    warning=True,
                    count=2 * n,
                )
            if up < win.end:
                event(
                    sim,
                    up - 1.2,
                    "Pulled",
                    f"pod/{pod}",
                    'Container image "registry.shop.example.com/inventory:3.9.0" already present on machine',
                    count=n + 1,
                )
                event(
                    sim,
                    up - 1.1,
                    "Created",
                    f"pod/{pod}",
                    "Created container inventory",
                    count=n + 1,
                )
                event(
                    sim,
                    up - 1.0,
                    "Started",
                    f"pod/{pod}",
                    "Started container inventory",
                    count=n + 1,
                )
                chatter.start_up(sim, "inventory", pod, up - 0.9, "3.9.0")
        # The service reports its heap once a minute: it grows until the kernel kills it.
        lives = [(boot_at[pod], pod_cycles[0][0])] + [
            (up, nxt[0]) for (_, up, _), nxt in itertools.pairwise(pod_cycles)
        ]
        for born, dies in lives:
            t = born + rng.uniform(20, 60)
            while t < min(dies, win.end):
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
    chatter.k8s_background(sim)
    everyday(sim, ("inventory", "api-gateway"))
    sim.run()

    step = 60.0
    times = grid(win, step)
    inv = server_stats(sim, "inventory", times, step)
    edge = edge_stats(sim, times, step)
    columns: dict[str, list[float]] = {}
    for pod, pod_cycles, born in zip(new, cycles, (boot_at[p] for p in new), strict=True):
        mem, restarts = [], []
        for t in times:
            if t < born or any(a <= t < b for a, b, _ in pod_cycles):
                mem.append(float("nan"))  # no samples while the container is gone
            else:
                last = max([born] + [b for _, b, _ in pod_cycles if b <= t])
                nxt = min([a for a, _, _ in pod_cycles if a > t] + [t + 150])
                full = (t - last) / max(nxt - last, 1)
                mem.append(round((165 + 345 * full) * MIB * rng.uniform(0.98, 1.01)))
            restarts.append(
                float(sum(1 for a, _, _ in pod_cycles if a <= t)) if t >= born else float("nan")
            )
        columns[f'container_memory_working_set_bytes{{pod="{pod}"}}'] = mem
        columns[f'kube_pod_container_status_restarts_total{{pod="{pod}"}}'] = restarts
    columns["inventory p99 (ms)"] = rounded(inv["p99"])
    columns["ingress 5xx/s"] = rounded(edge["5xx_rps"], 3)
    case = Case(
        "inventory-oomkilled",
        "inventory 3.9.0 leaks memory and is OOM-killed in a loop",
        "Product pages and add-to-cart keep failing on and off since ~09:42 UTC. Can you find out why?",
        win,
        "inventory",
        "resource-exhaustion",
        "oom",
        acceptable=["inventory", *new],
        forbidden=["api-gateway", "cart", "checkout", "inventory-db", "ingress-nginx"],
        notes="the killed service logs no error at all (SIGKILL): only restarts, its own heap "
        "stats, node OOM events and memory at the 512Mi limit; callers see connection refused",
    )
    case.add("events.txt", "log", render.k8s_events_table(sim.events("k8s")))
    case.add("loki-export.log", "log", render.zap_console(sim.events("inventory")))
    case.add("gateway.log", "log", render.logfmt(sim.events("api-gateway"), "api-gateway"))
    case.add("dashboard.csv", "metrics", render.csv_wide(times, columns, time_format="epoch_ms"))
    container = f"{rng.getrandbits(256):064x}"
    case.add(
        "describe.txt",
        "log",
        _describe_pod(new[0], node, "3.9.0", cycles[0], win.end - 30, "10.244.2.57", container),
    )
    return case


def kafka_disk_full(rng: random.Random) -> Case:
    win = Window.of("2026-09-29 03:17:45", 35, 15)
    inc = win.pivot
    sim = Shop(rng, win.start, win.end, rates={"checkout": 0.05, "product": 0.04})
    sim.timeouts[("checkout", "kafka")] = 6000.0
    standard(sim)
    broker = "kafka-1"
    # The broker dies at the incident; every restart fails while loading its logs.
    restarts = crash_cycles(
        rng, inc + 0.05, win.end + 60, lambda r, n: r.uniform(8, 14), boot=(2, 4)
    )
    down = [(inc, win.end + 60)]

    def expiring(r: random.Random, t: float) -> str:
        return (
            f"org.apache.kafka.common.errors.TimeoutException: Expiring 1 record(s) for "
            f"order-events-{r.choice((1, 4, 7, 10))}:{r.randint(5001, 5012)} ms has passed since batch creation"
        )

    sim.faults += [
        Fault(
            "kafka",
            "error",
            inc,
            caller="checkout",
            prob=0.36,
            message=expiring,
            latency_ms=lambda r, t: 5003 + r.uniform(0, 9),
        ),
        Fault(
            "kafka",
            "error",
            inc,
            caller="checkout",
            prob=0.4,
            message="org.apache.kafka.common.errors.NotEnoughReplicasException: Messages are "
            "rejected since there are fewer in-sync replicas than required.",
            latency_ms=lambda r, t: r.uniform(3, 9),
        ),
    ]
    # kafka-1's own log: healthy chatter, then the disk fills up at the incident.
    chatter.kafka_broker(sim, broker, 1)
    sim.logs[broker] = [e for e in sim.logs[broker] if e.t < inc]
    stack = (
        "java.io.IOException: No space left on device",
        "\tat java.base/sun.nio.ch.FileDispatcherImpl.write0(Native Method)",
        "\tat java.base/sun.nio.ch.FileChannelImpl.write(FileChannelImpl.java:285)",
        "\tat org.apache.kafka.common.record.MemoryRecords.writeFullyTo(MemoryRecords.java:92)",
        "\tat org.apache.kafka.storage.internals.log.LogSegment.append(LogSegment.java:168)",
        "\tat kafka.log.LocalLog.append(LocalLog.scala:411)",
    )
    for k, part in enumerate((7, 1, 4, 10)):
        t = inc + 0.004 * k
        sim.log(
            broker,
            t,
            "ERROR",
            f"Error while appending records to order-events-{part} in dir /var/lib/kafka/data",
            logger="org.apache.kafka.storage.internals.log.LogDirFailureChannel",
            pod=broker,
            stack=stack,
        )
    sim.log(
        broker,
        inc + 0.02,
        "ERROR",
        "[ReplicaManager broker=1] Error processing append operation on partition order-events-7",
        logger="kafka.server.ReplicaManager",
        pod=broker,
        stack=(
            "org.apache.kafka.common.errors.KafkaStorageException: Error while appending records to order-events-7 in dir /var/lib/kafka/data",
        ),
    )
    sim.log(
        broker,
        inc + 0.03,
        "WARN",
        "[ReplicaManager broker=1] Stopping serving replicas in dir /var/lib/kafka/data",
        logger="kafka.server.ReplicaManager",
        pod=broker,
    )
    sim.log(
        broker,
        inc + 0.05,
        "ERROR",
        "Shutdown broker because all log dirs in /var/lib/kafka/data have failed",
        logger="kafka.log.LogManager",
        pod=broker,
    )
    for (_, up, _), (fail, _, _) in itertools.pairwise(restarts):
        if up > win.end:
            break
        sim.log(
            broker,
            up,
            "INFO",
            "Registered kafka:type=kafka.Log4jController MBean",
            logger="kafka.utils.Log4jControllerRegistration$",
            pod=broker,
        )
        sim.log(
            broker,
            up + 0.4,
            "INFO",
            "[KafkaServer id=1] starting",
            logger="kafka.server.KafkaServer",
            pod=broker,
        )
        sim.log(
            broker,
            up + 2.1,
            "INFO",
            "Loading logs from log dirs ArraySeq(/var/lib/kafka/data)",
            logger="kafka.log.LogManager",
            pod=broker,
        )
        sim.log(
            broker,
            fail,
            "ERROR",
            "There was an error in one of the threads during logs loading: java.io.IOException: No space left on device",
            logger="kafka.log.LogManager",
            pod=broker,
        )
        sim.log(
            broker,
            fail + 0.01,
            "ERROR",
            "[KafkaServer id=1] Fatal error during KafkaServer startup. Prepare to shutdown",
            logger="kafka.server.KafkaServer",
            pod=broker,
            stack=stack[:3],
        )
        sim.log(
            broker,
            fail + 0.5,
            "INFO",
            "[KafkaServer id=1] shut down completed",
            logger="kafka.server.KafkaServer",
            pod=broker,
        )
    # checkout's producer complains about the node while it is away.
    t = inc + rng.uniform(1, 4)
    while t < win.end:
        if any(a <= t < b for a, b in down):
            sim.log(
                "checkout",
                t,
                "WARN",
                "[Producer clientId=checkout-producer-1] Connection to node 1 (kafka-1.kafka-headless.messaging.svc.cluster.local/10.244.3.17:9092) could not be established. Node may not be available.",
                logger="org.apache.kafka.clients.NetworkClient",
                thread="kafka-producer-network-thread | checkout-producer-1",
            )
        t += rng.uniform(8, 30)
    everyday(sim, ("checkout",))
    sim.run()

    step = 60.0
    times = grid(win, step)
    size = 500 * 1024**3
    fill = smooth_step(win.start - 3600, inc - win.start + 3600)
    used = {
        "kafka-0": lambda t: 0.612 + 0.004 * (t - win.start) / 3600,
        "kafka-1": lambda t: 0.9 + 0.1 * fill(t),
        "kafka-2": lambda t: 0.597 + 0.004 * (t - win.start) / 3600,
    }
    series = []
    for instance, frac in used.items():
        labels = {
            "instance": f"{instance}:9100",
            "mountpoint": "/var/lib/kafka",
            "device": "/dev/sdb",
            "job": "node",
        }
        points = [
            (t, min(100.0, round(100 * frac(t) + rng.uniform(-0.02, 0.02), 2))) for t in times
        ]
        series.append((labels, points))
    under = [(t, float(0 if t < inc else rng.choice((8, 8, 9)))) for t in times]
    series.append(
        (
            {
                "__name__": "kafka_server_replicamanager_underreplicatedpartitions",
                "instance": "kafka-0:7071",
                "job": "kafka",
            },
            under,
        )
    )
    node_metrics = render.prom_text(
        [
            (
                "node_filesystem_avail_bytes",
                "gauge",
                "Filesystem space available to non-root users in bytes.",
                [
                    ({"device": "/dev/sdb", "fstype": "ext4", "mountpoint": "/var/lib/kafka"}, 0.0),
                    ({"device": "/dev/sda1", "fstype": "ext4", "mountpoint": "/"}, 31.2 * 1024**3),
                ],
            ),
            (
                "node_filesystem_size_bytes",
                "gauge",
                "Filesystem size in bytes.",
                [
                    (
                        {"device": "/dev/sdb", "fstype": "ext4", "mountpoint": "/var/lib/kafka"},
                        float(size),
                    ),
                    ({"device": "/dev/sda1", "fstype": "ext4", "mountpoint": "/"}, 96.7 * 1024**3),
                ],
            ),
            (
                "node_filesystem_files_free",
                "gauge",
                "Filesystem total free file nodes.",
                [
                    (
                        {"device": "/dev/sdb", "fstype": "ext4", "mountpoint": "/var/lib/kafka"},
                        32_611_842.0,
                    )
                ],
            ),
            ("node_load1", "gauge", "1m load average.", [({}, 0.42)]),
            (
                "node_memory_MemAvailable_bytes",
                "gauge",
                "Memory information field MemAvailable_bytes.",
                [({}, 9.1 * 1024**3)],
            ),
        ]
    )
    case = Case(
        "kafka-disk-full",
        "Kafka broker kafka-1 ran out of disk and keeps failing to start",
        "Orders are failing at the last step since ~03:18 UTC (checkout says it can't publish). What broke?",
        win,
        "kafka-1",
        "resource-exhaustion",
        "disk-full",
        acceptable=["kafka-1", "kafka", "broker 1", "/var/lib/kafka"],
        forbidden=["checkout", "api-gateway", "payments", "kafka-0", "kafka-2"],
        forbidden_signatures=["timeout"],
        notes="checkout shows producer timeouts and NotEnoughReplicas; only the broker's own log "
        "and node metrics say 'No space left on device'; its disk filled slowly during baseline",
    )
    case.add("server.log", "log", render.kafka_log(sim.events(broker)))
    case.add("app.log", "log", render.spring(sim.events("checkout"), "checkout", 0))
    case.add("prometheus-query.json", "metrics", render.prom_matrix(series))
    case.add("metrics-scrape.txt", "metrics", node_metrics)
    return case


SCENARIOS = {
    "payments-pool-exhausted": payments_pool_exhausted,
    "inventory-oomkilled": inventory_oomkilled,
    "kafka-disk-full": kafka_disk_full,
}
