"""kafka: `kafka-consumer-groups.sh --describe` (offsets and lag per partition, with its
"has no active members" note), and the `--members` and `--state` variants.

Lag is what a consumer group has not read yet. Spread over every partition it says the group
is too slow or gone; on one partition only, that one partition's consumer is stuck (a poison
message, a hung thread); on partitions whose CONSUMER-ID is `-`, nobody reads them. A group
with no active members and lag is down outright: the strongest of these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.core.wording import plural
from engine.evidence.cli_state.report import CliFinding, CliObject, CliParse
from engine.evidence.cli_state.table import number, numbered, split_row

TOOL = "kafka"
_OFFSETS = {"TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG"}
_OFFSET_COLUMNS = _OFFSETS | {"GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "LEADER-EPOCH"}
_MEMBERS = {"GROUP", "CONSUMER-ID", "#PARTITIONS"}
_MEMBER_COLUMNS = _MEMBERS | {"HOST", "CLIENT-ID", "ASSIGNMENT"}
_STATE = ["GROUP", "COORDINATOR", "(ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"]
_NOTE = re.compile(r"^(?:Error: |Warning: )?Consumer group '([^']+)' (.+?)\.?$")
_GONE = "has no active members"
NOTABLE_LAG = 1_000  # below this a group is keeping up, whatever its throughput
LARGE_LAG = 10_000
STUCK_SHARE = 0.8  # one partition holding this much of a topic's lag: its consumer is stuck
NO_MEMBERS = 0.7
STUCK = 0.6
UNASSIGNED = 0.55
_UNSETTLED = {"PreparingRebalance": 0.4, "CompletingRebalance": 0.4, "Dead": 0.4, "Empty": 0.4}


@dataclass
class _Partition:
    group: str
    topic: str
    partition: int
    lag: int | None
    consumer: str  # '-' when nobody is assigned
    where: str  # 'consumer-billing-2 on /10.42.3.9'
    text: str


def _kind_of_header(text: str) -> str | None:
    words = text.split()
    if not words or words[0] not in ("GROUP", "TOPIC"):
        return None
    if set(words) <= _OFFSET_COLUMNS and set(words) >= _OFFSETS:
        return "offsets"
    if set(words) <= _MEMBER_COLUMNS and set(words) >= _MEMBERS:
        return "members"
    return "state" if words == _STATE else None


def detect(text: str) -> bool:
    # Only its own notes may come before the first table.
    for _, line in numbered(text[: 64 * 1024])[:6]:
        if _kind_of_header(line) is not None:
            return True
        if not _NOTE.match(line):
            return False
    return False


def _partition(cells: dict[str, str], group: str, text: str) -> _Partition | None:
    partition = number(cells.get("PARTITION"))
    if partition is None:
        return None
    lag = number(cells.get("LAG"))
    end, current = number(cells.get("LOG-END-OFFSET")), number(cells.get("CURRENT-OFFSET"))
    if lag is None and end is not None and current is not None:
        lag = max(end - current, 0)
    client, host = cells.get("CLIENT-ID", "-"), cells.get("HOST", "-")
    where = client + (f" on {host}" if host != "-" else "")
    return _Partition(
        cells.get("GROUP", group),
        cells["TOPIC"],
        partition,
        lag,
        cells.get("CONSUMER-ID", "-"),
        where,
        text,
    )


def _lags(parts: list[_Partition]) -> str:
    shown = sorted(parts, key=lambda p: -(p.lag or 0))[:4]
    text = ", ".join(f"p{p.partition}: {p.lag or 0:,}" for p in shown)
    return text + (", …" if len(parts) > len(shown) else "")


def _finding(
    group: str, topic: str, parts: list[_Partition], gone: str | None
) -> CliFinding | None:
    total = sum(p.lag or 0 for p in parts)
    cited = sorted(parts, key=lambda p: -(p.lag or 0))[:3]
    lines = [p.text for p in cited]
    about = f"consumer group {group} on {topic}"
    top = cited[0]
    unassigned = [p for p in parts if p.consumer == "-"]
    unread = sum(p.lag or 0 for p in unassigned)
    if gone is not None or len(unassigned) == len(parts):
        severity = NO_MEMBERS if total >= 100 else 0.4
        summary = f"{about}: no active members and a lag of {total:,} ({_lags(parts)})"
        lines = ([gone] if gone else []) + lines
    elif total >= NOTABLE_LAG and len(parts) > 1 and (top.lag or 0) >= STUCK_SHARE * total:
        severity = STUCK
        summary = (
            f"{about}: lag {total:,}, of which {top.lag or 0:,} on partition {top.partition} "
            f"alone ({top.where}): that consumer is stuck or slow"
        )
    elif unread >= NOTABLE_LAG:
        severity = UNASSIGNED
        which = ", ".join(str(p.partition) for p in unassigned)
        summary = f"{about}: partitions {which} have no consumer, lag {unread:,} of {total:,}"
    elif total >= NOTABLE_LAG:
        severity = 0.6 if total >= 10 * LARGE_LAG else 0.55 if total >= LARGE_LAG else 0.4
        summary = f"{about}: lag {total:,} over {plural(len(parts), 'partition')} ({_lags(parts)})"
    else:
        return None  # keeping up
    return CliFinding(
        signature="consumer-lag",
        component=group,
        object=f"group/{group}",
        summary=summary,
        lines=lines,
        severity=severity,
    )


def _state_row(text: str) -> tuple[CliObject, CliFinding | None]:
    words = text.split()  # the coordinator's cell holds a space, the strategy may be blank
    group, state, members = words[0], words[-2], number(words[-1]) or 0
    obj = CliObject(
        kind="ConsumerGroup",
        name=group,
        status=state,
        component=group,
        details={"members": str(members)},
        evidence=[text],
    )
    severity = _UNSETTLED.get(state)
    if severity is None:
        return obj, None
    summary = f"consumer group {group} is {state} ({plural(members, 'member')})"
    return obj, CliFinding(
        signature="consumer-lag",
        component=group,
        object=f"group/{group}",
        summary=summary,
        lines=[text],
        severity=severity,
    )


def parse(name: str, text: str) -> CliParse:
    del name
    columns: list[str] = []
    table: str | None = None
    parts: list[_Partition] = []
    objects, findings, notes = [], [], []
    gone: dict[str, str] = {}  # group -> its "has no active members" line
    group = "?"  # before GROUP was a column, the note above the table named it
    for _, line in numbered(text):
        if (note := _NOTE.match(line)) is not None:
            group = note.group(1)
            notes.append(line.removeprefix("Error: ").removeprefix("Warning: "))
            if note.group(2).startswith(_GONE):
                gone[group] = line
        elif (kind := _kind_of_header(line)) is not None:
            table, columns = kind, line.split()
        elif table == "state" and len(line.split()) >= 4:
            obj, finding = _state_row(line)
            objects.append(obj)
            findings += [finding] if finding else []
        elif table is not None and (cells := split_row(line, columns)) is not None:
            if table == "offsets" and (part := _partition(cells, group, line)) is not None:
                parts.append(part)
            elif table == "members":
                who = cells.get("CLIENT-ID") or cells["CONSUMER-ID"]
                objects.append(
                    CliObject(
                        kind="Member",
                        name=who,
                        component=cells["GROUP"],
                        details={"partitions": cells["#PARTITIONS"]},
                        evidence=[line],
                    )
                )
    by_topic: dict[tuple[str, str], list[_Partition]] = {}
    for part in parts:
        by_topic.setdefault((part.group, part.topic), []).append(part)
    for (group_, topic), rows in by_topic.items():
        finding = _finding(group_, topic, rows, gone.get(group_))
        findings += [finding] if finding else []
        members = {p.consumer for p in rows if p.consumer != "-"}
        total = sum(p.lag or 0 for p in rows)
        objects.append(
            CliObject(
                kind="ConsumerGroup",
                name=group_,
                status="no active members" if not members else "Stable",
                component=group_,
                evidence=[rows[0].text],
                details={
                    "topic": topic,
                    "lag": str(total),
                    "partitions": str(len(rows)),
                    "members": str(len(members)),
                },
            )
        )
    fmt = "consumer-groups " + (table or "describe")
    return CliParse(format=fmt, objects=objects, findings=findings, notes=notes)
