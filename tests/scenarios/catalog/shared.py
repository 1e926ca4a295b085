# ruff: noqa: E501
"""What several scenarios say the same way: HikariCP and Kafka producer errors, PostgreSQL's
syslog lines, the services that take the blame."""

from __future__ import annotations

import random
from collections.abc import Callable

from tests.scenarios.lines import Line
from tests.scenarios.sim import Sim, Text

EVERYONE = ("ingress-nginx", "api-gateway", "checkout", "cart", "inventory", "payments")
JDBC = "PostgreSQL JDBC Driver"  # the application_name payments connects with


def hikari_timeouts(waiting: int, low: int, high: int, total: Callable[[float], int]) -> Text:
    """HikariCP's 'Connection is not available' with `total(t)` connections open, all busy,
    and a number of threads waiting that wanders between `low` and `high`. Call it once per
    rendering: the walk remembers where it is."""
    walk = [waiting]

    def message(rng: random.Random, t: float) -> str:
        walk[0] = min(high, max(low, walk[0] + rng.randint(-2, 3)))
        n = total(t)
        return (
            "HikariPool-1 - Connection is not available, request timed out after 3000ms "
            f"(total={n}, active={n}, idle=0, waiting={walk[0]})"
        )

    return message


def kafka_expiring(partitions: tuple[int, ...]) -> Text:
    """The producer gives up on a batch for one of `partitions` of order-events."""

    def message(rng: random.Random, t: float) -> str:
        return (
            f"org.apache.kafka.common.errors.TimeoutException: Expiring 1 record(s) for "
            f"order-events-{rng.choice(partitions)}:{rng.randint(5001, 5012)} ms has passed since batch creation"
        )

    return message


def broker_unreachable(node: int, ip: str) -> Line:
    """checkout's Kafka producer cannot connect to broker `node`."""
    return Line(
        "WARN",
        f"[Producer clientId=checkout-producer-1] Connection to node {node} (kafka-{node}.kafka-headless.messaging.svc.cluster.local/{ip}:9092) could not be established. Node may not be available.",
        logger="org.apache.kafka.clients.NetworkClient",
        thread="kafka-producer-network-thread | checkout-producer-1",
    )


def pg_syslog(
    sim: Sim, host: str, t: float, msg: str, pid: int, prefix: str, stack: tuple[str, ...] = ()
) -> None:
    """A PostgreSQL line in the database host's syslog; `prefix` is log_line_prefix's
    'user=...,db=...,app=...,client=...' (empty for the server's own lines)."""
    sim.log(host, t, "INFO", msg, pod=host, pid=pid, prefix=prefix, stack=stack)


def session(user: str, db: str, app: str, client: str) -> str:
    """log_line_prefix of a client session."""
    return f"user={user},db={db},app={app},client={client}"
