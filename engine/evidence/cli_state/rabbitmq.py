"""rabbitmq: `rabbitmqctl cluster_status` (the sectioned text of 3.8+, and the Erlang terms
of older versions) and `rabbitmqctl list_queues` (see rabbitmq_queues.py).

A network partition splits the cluster into halves that each go on alone (messages diverge
or are refused), and a memory or disk alarm blocks every publisher: both explain an outage by
themselves. A disk node that is not running is a broker down.
"""

from __future__ import annotations

import re

from engine.evidence.cli_state.rabbitmq_queues import detect as looks_like_queues
from engine.evidence.cli_state.rabbitmq_queues import parse_queues
from engine.evidence.cli_state.report import CliFinding, CliObject, CliParse
from engine.evidence.cli_state.table import numbered
from engine.evidence.components import replica_base

TOOL = "rabbitmq"
_FIRST = re.compile(r"^Cluster status of node (\S+) \.\.\.$")
_SECTIONS = frozenset(
    {"Basics", "Disk Nodes", "RAM Nodes", "Running Nodes", "Versions", "CPU Cores"}
    | {"Maintenance status", "Alarms", "Network Partitions", "Listeners", "Feature flags"}
)
_PARTITION = re.compile(r"^Node (\S+) cannot communicate with (.+)$")
_ALARM = re.compile(r"^(Free disk space|Memory|File descriptor limit) alarm on node (\S+)$")
_NODE = re.compile(r"[\w.-]+@[\w.-]+")
_ERLANG_NODE = re.compile(r"'?([\w.-]+@[\w.-]+)'?")
PARTITION = 0.8
ALARM = 0.7
NODE_DOWN = 0.6


def detect(text: str) -> bool:
    lines = numbered(text[: 64 * 1024])
    return bool(lines) and (_FIRST.match(lines[0][1]) is not None or looks_like_queues(lines))


def _host(node: str) -> str:
    return node.split("@", 1)[-1]


def _cluster(nodes: list[str]) -> str:
    """The service the nodes are replicas of ('rabbitmq-0', 'rabbitmq-1' -> 'rabbitmq'), else
    the first node's host. Every finding is about it: clients call the cluster, and one
    suspect with all its findings ranks as it should where three node names would not."""
    bases = {replica_base(_host(n)) for n in nodes}
    base = next(iter(bases)) if len(bases) == 1 else None
    return base or (_host(nodes[0]) if nodes else "?")


def _sections(lines: list[tuple[int, str]]) -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = {}
    current = "Basics"
    for number_, text in lines[1:]:
        if text.strip() in _SECTIONS:
            current = text.strip()
            found.setdefault(current, [])
        elif text.strip() != "(none)":
            found.setdefault(current, []).append((number_, text))
    return found


def _erlang_list(text: str, key: str) -> str:
    """The `[...]` after `{key,` in an Erlang term, brackets balanced ('' when absent)."""
    start = text.find(f"{{{key},[")
    if start < 0:
        return ""
    at, depth = start + len(key) + 2, 0
    for end in range(at, len(text)):
        depth += {"[": 1, "]": -1}.get(text[end], 0)
        if depth == 0:
            return text[at : end + 1]
    return text[at:]


def _cited(lines: list[tuple[int, str]], words: list[str]) -> list[str]:
    return [text for _, text in lines if all(w in text for w in words)][:2]


def _erlang(lines: list[tuple[int, str]]) -> tuple[list[str], list[str], list[str], list[str]]:
    """(disk nodes, running nodes, partition lines, alarm lines) of the pre-3.8 term format,
    partitions and alarms said the way 3.8+ says them."""
    text = "\n".join(t for _, t in lines[1:])
    disk = _ERLANG_NODE.findall(_erlang_list(text, "disc"))
    running = _ERLANG_NODE.findall(_erlang_list(text, "running_nodes"))
    partitions = []
    for node, cut in re.findall(
        r"\{'?([\w.-]+@[\w.-]+)'?,\[([^\]]+)\]\}", _erlang_list(text, "partitions")
    ):
        partitions.append(
            f"Node {node} cannot communicate with {', '.join(_ERLANG_NODE.findall(cut))}"
        )
    alarms = []
    for node, raised in re.findall(
        r"\{'?([\w.-]+@[\w.-]+)'?,\[([^\]]*)\]\}", _erlang_list(text, "alarms")
    ):
        for word, what in (("disk", "Free disk space"), ("memory", "Memory")):
            if word in raised:
                alarms.append(f"{what} alarm on node {node}")
    return disk, running, partitions, alarms


def _cluster_status(lines: list[tuple[int, str]]) -> CliParse:
    sections = _sections(lines)

    def said(key: str) -> list[str]:
        return [text.strip() for _, text in sections.get(key, [])]

    disk, running = said("Disk Nodes"), said("Running Nodes")
    partitions, alarms = said("Network Partitions"), said("Alarms")
    if not disk and not running:  # 3.7 and older print Erlang terms
        disk, running, partitions, alarms = _erlang(lines)
    nodes = list(dict.fromkeys([*disk, *said("RAM Nodes"), *running]))
    cluster = _cluster(nodes)
    objects = [
        CliObject(
            kind="Node",
            name=node,
            status="running" if node in running else "stopped",
            component=cluster,
            details={"type": "disc" if node in disk else "ram"},
            evidence=_cited(lines, [node])[:1],
        )
        for node in nodes
    ]
    findings = []
    cut = [m for text in partitions if (m := _PARTITION.match(text))]
    if cut:
        pairs = "; ".join(f"{m.group(1)} cannot communicate with {m.group(2)}" for m in cut)
        findings.append(
            CliFinding(
                signature="network-partition",
                component=cluster,
                object=f"node/{cut[0].group(1)}",
                summary=f"RabbitMQ network partition: {pairs}",
                # 3.8+ has a line per node; older versions one `{partitions,...}` term.
                lines=[line for m in cut for line in _cited(lines, [m.group(1), "cannot"])][:4]
                or _cited(lines, ["{partitions,"]),
                severity=PARTITION,
            )
        )
    for text in alarms:
        if (alarm := _ALARM.match(text)) is not None:
            what, node = alarm.group(1).lower(), alarm.group(2)
            findings.append(
                CliFinding(
                    signature="resource-alarm",
                    component=cluster,
                    object=f"node/{node}",
                    summary=f"RabbitMQ {what} alarm on {node}: publishers are blocked",
                    lines=_cited(lines, [node, "alarm"])
                    or _cited(lines, [node, what.split()[0]])
                    or [text],
                    severity=ALARM if "descriptor" not in what else NODE_DOWN,
                )
            )
    for node in disk:
        if running and node not in running:
            findings.append(
                CliFinding(
                    signature="node-down",
                    component=cluster,
                    object=f"node/{node}",
                    summary=f"RabbitMQ disk node {node} is not running "
                    f"({len(running)} of {len(nodes)} nodes running)",
                    lines=_cited(lines, [node])[:1] or [lines[0][1]],
                    severity=NODE_DOWN,
                )
            )
    return CliParse(format="cluster_status", objects=objects, findings=findings)


def parse(name: str, text: str) -> CliParse:
    del name
    lines = numbered(text)
    if lines and _FIRST.match(lines[0][1]):
        return _cluster_status(lines)
    return parse_queues(text)
