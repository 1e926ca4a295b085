"""rabbitmqctl list_queues: a queue that holds many messages while nobody consumes it is a
consumer that is down; one with consumers and a huge backlog, consumers too slow.

Dead-letter, retry and parking queues hold messages with no consumer by design: their backlog
says that something upstream fails, not that a consumer is down, so they stay weak.
"""

from __future__ import annotations

import re

from engine.evidence.cli_state.report import CliFinding, CliObject, CliParse
from engine.evidence.cli_state.table import is_border, number, numbered

# Queue info items rabbitmqctl accepts as columns (a header may only hold these).
ITEMS = frozenset(
    {"name", "vhost", "type", "durable", "auto_delete", "arguments", "policy", "pid"}
    | {"state", "messages", "messages_ready", "messages_unacknowledged", "consumers"}
    | {"consumer_utilisation", "consumer_capacity", "memory", "exclusive", "leader", "members"}
    | {"online", "message_bytes", "head_message_timestamp", "slave_pids", "synchronised_slave_pids"}
)
_PREAMBLE = re.compile(r"^(?:Timeout: [\d.]+ seconds|Listing queues\b.*)\s*\.\.\.$")
_DEAD_LETTER = re.compile(
    r"(?:^|[._-])(?:dlq|dlx|dead|deadletter|parking|retry|errors?)(?:$|[._-])"
)
BACKLOG = 1_000  # messages waiting with no consumer: someone stopped reading
HUGE = 100_000  # with consumers: they do not keep up
NO_CONSUMER = 0.6
SLOW = 0.45
DEAD_LETTER = 0.4


def header(text: str) -> list[str] | None:
    words = text.replace("│", " ").split()
    if words and "name" in words and set(words) <= ITEMS and any("messages" in w for w in words):
        return words
    return None


def detect(lines: list[tuple[int, str]]) -> bool:
    rest = [text for _, text in lines if not is_border(text)]
    while rest and _PREAMBLE.match(rest[0]):
        rest.pop(0)
    return bool(rest) and header(rest[0]) is not None


def _cells(text: str, columns: list[str]) -> dict[str, str] | None:
    words = text.replace("│", " ").split()
    if len(words) < len(columns):
        return None
    if columns[0] == "name":  # a queue name may hold spaces; every other cell is one word
        split = text.replace("│", " ").strip().rsplit(None, len(columns) - 1)
        words = split if len(split) == len(columns) else words
    return dict(zip(columns, words, strict=False))


def _finding(name: str, messages: int, consumers: int, text: str) -> CliFinding | None:
    if consumers == 0 and messages >= BACKLOG:
        severity = DEAD_LETTER if _DEAD_LETTER.search(name.lower()) else NO_CONSUMER
        why = "nobody consumes it"
    elif consumers > 0 and messages >= HUGE:
        severity = min(SLOW, DEAD_LETTER) if _DEAD_LETTER.search(name.lower()) else SLOW
        why = f"{consumers:,} consumers do not keep up"
    else:
        return None
    return CliFinding(
        signature="consumer-lag",
        component=name,
        object=f"queue/{name}",
        summary=f"RabbitMQ queue {name} holds {messages:,} messages and {why}",
        lines=[text],
        severity=severity,
    )


def parse_queues(text: str) -> CliParse:
    columns: list[str] | None = None
    objects, findings, notes = [], [], []
    for number_, line in numbered(text):
        if is_border(line):
            continue
        if columns is None:
            if _PREAMBLE.match(line):
                notes.append(line)
            columns = header(line)
            continue
        cells = _cells(line, columns)
        if cells is None or line.strip() == "...done.":
            continue
        name = cells.get("name", "?")
        messages = number(cells.get("messages"))
        if messages is None:
            messages = (number(cells.get("messages_ready")) or 0) + (
                number(cells.get("messages_unacknowledged")) or 0
            )
        consumers = number(cells.get("consumers"))
        objects.append(
            CliObject(
                kind="Queue",
                name=name,
                namespace=cells.get("vhost"),
                status=cells.get("state"),
                component=name,
                details={k: v for k, v in cells.items() if k != "name"},
                evidence=[line],
                line=number_,
            )
        )
        if consumers is not None and (found := _finding(name, messages, consumers, line)):
            findings.append(found)
    return CliParse(format="list_queues", objects=objects, findings=findings, notes=notes)
