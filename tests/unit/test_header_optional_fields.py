"""Header fields only some lines write, and fields only some lines' header spells otherwise.

A connection number or a "[client ip:port]" block written before the message on some lines
is header: the message a user sees must not start with it. A field of the same look that
belongs to the message (an event's code, an id only one event writes) must stay.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from engine.evidence.logs.mining import mine_log
from engine.evidence.templates.headers import BRACKET, COMP, LEVEL, TIME, WORD, learn_layout

_MESSAGES = (
    "Connection accepted from 10.0.0.{n}",
    "Cache miss for key user-{n}",
    "Retrying request {n} after timeout",
    "Worker {n} finished batch",
    "Disk usage at {n} percent",
    "Session {n} closed by peer",
    "Loaded {n} rules from config",
)

Write = Callable[[random.Random, int, str], str]


def _lines(write: Write, messages: tuple[str, ...] = _MESSAGES) -> tuple[list[str], list[str]]:
    rng = random.Random(11)
    lines, texts = [], []
    for i in range(300):
        text = rng.choice(messages).format(n=rng.randint(1, 999))
        lines.append(write(rng, i, text))
        texts.append(text)
    return lines, texts


def _messages(lines: list[str]) -> list[str]:
    layout = learn_layout(lines)
    return [layout.message(line) for line in lines]


def _clock(i: int) -> str:
    return f"03:{i // 60 % 60:02d}:{i % 60:02d}"


def _connection(rng: random.Random, i: int, msg: str) -> str:
    """An error log whose connection number ("*4711") comes with about half of the lines."""
    level = rng.choice(("notice", "notice", "warn", "error"))
    connection = rng.choice(("", f"*{rng.randint(1, 99_999)} "))
    return f"2024/01/02 {_clock(i)} [{level}] 812#{rng.randint(1, 9)}: {connection}{msg}"


def _client(rng: random.Random, i: int, msg: str) -> str:
    """An error log whose "[client ip:port]" block comes with about half of the lines."""
    module = rng.choice(("core", "proxy", "ssl"))
    level = rng.choice(("notice", "warn", "error"))
    address = f"10.1.{rng.randint(0, 255)}.{rng.randint(1, 254)}:{rng.randint(1024, 65535)}"
    client = rng.choice(("", f"[client {address}] "))
    when = f"Tue Jan 02 {_clock(i)}.{rng.randint(0, 999_999):06d} 2024"
    process = f"[pid {rng.randint(100, 999)}:tid {rng.randint(1, 99)}]"
    return f"[{when}] [{module}:{level}] {process} {client}{msg}"


def test_connection_number_on_some_lines_is_header() -> None:
    lines, texts = _lines(_connection)
    assert _messages(lines) == texts
    # It is no header position of its own: the positions are those every line has.
    assert learn_layout(lines).kinds == [TIME, TIME, LEVEL, COMP]


def test_client_block_on_some_lines_is_header() -> None:
    lines, texts = _lines(_client)
    assert _messages(lines) == texts
    assert learn_layout(lines).kinds == [BRACKET, BRACKET, BRACKET]


def test_event_code_after_an_optional_client_block_stays_in_the_message() -> None:
    # Some events start with their code; the code goes with the same words every time, so
    # it is the message's even though messages without it start with those words too.
    coded = (
        "E01630: Cache miss for key user-{n}",
        "E00124: Worker {n} finished batch",
        "E02211: Session {n} closed by peer",
    )
    lines, texts = _lines(_client, (*_MESSAGES, *coded))
    assert _messages(lines) == texts
    assert any(text.startswith("E01630: Cache miss") for text in texts)


def test_event_code_before_words_other_lines_start_with_stays_in_the_message() -> None:
    # The code is on some lines only, and the words after it start other lines too, but
    # each code comes with the same words every time: it names the event, it is no header.
    coded = (
        "E01630: Cache miss for key user-{n}",
        "E00124: Worker {n} finished batch",
        "E02211: Session {n} closed by peer",
    )

    def write(rng: random.Random, i: int, msg: str) -> str:
        level = rng.choice(("notice", "warn", "error"))
        return f"2024/01/02 {_clock(i)} [{level}] 812#{rng.randint(1, 9)}: {msg}"

    lines, texts = _lines(write, (*_MESSAGES, *coded))
    assert _messages(lines) == texts
    assert any(text.startswith("E00124: Worker") for text in texts)


def test_id_only_some_events_write_stays_in_their_message() -> None:
    # The "*N" id starts one event's message, and what follows it starts no other line:
    # the id is that event's, not a header field some lines happen to have.
    messages = (*_MESSAGES, "*{n} upstream timed out while reading response")

    def write(rng: random.Random, i: int, msg: str) -> str:
        level = rng.choice(("notice", "warn", "error"))
        return f"2024/01/02 {_clock(i)} [{level}] 812#{rng.randint(1, 9)}: {msg}"

    lines, texts = _lines(write, messages)
    assert _messages(lines) == texts
    assert any(text.startswith("*") for text in texts)


def test_mined_templates_do_not_start_with_the_optional_field() -> None:
    lines, _ = _lines(_connection)
    mined = mine_log(("\n".join(lines) + "\n").encode())
    starts = {t.template.split()[0] for t in mined.templates}
    assert not any(start.startswith("*") for start in starts)
    assert len(mined.templates) == len(_MESSAGES)


def test_bracketed_state_sometimes_a_level_word_is_one_position() -> None:
    # "[Note]", "[System]" are brackets, "[Warning]", "[ERROR]" level words: written the
    # same way at the same place, so neither alone needs most lines for it to be header.
    def write(rng: random.Random, i: int, msg: str) -> str:
        state = rng.choices(("[Note]", "[System]", "[Warning]", "[ERROR]"), (40, 34, 16, 10))[0]
        code = f"[MY-{rng.randint(10_000, 13_999):06d}]"
        part = rng.choice(("[Server]", "[InnoDB]", "[Repl]"))
        when = f"2024-01-02T{_clock(i)}.{rng.randint(0, 999_999):06d}Z"
        return f"{when} {rng.randint(0, 40)} {state} {code} {part} {msg}"

    lines, texts = _lines(write)
    assert _messages(lines) == texts
    assert learn_layout(lines).kinds == [TIME, TIME, BRACKET, BRACKET, BRACKET]


def test_host_of_a_one_host_file_is_header() -> None:
    # Every line names the same host, too long to pass for a flag; it is header because
    # the application name after it varies on its own.
    def write(rng: random.Random, i: int, msg: str) -> str:
        app = rng.choice(("orders", "billing", "gateway", "auth"))
        msgid = rng.choice(("-", "ID47", "REQ", "AUDIT"))
        when = f"2024-01-02T{_clock(i)}.123+05:30"
        pid = rng.choice((31836, 21777))
        return f"<{rng.choice((14, 131, 134))}>1 {when} node-25 {app} {pid} {msgid} - {msg}"

    lines, texts = _lines(write)
    assert _messages(lines) == texts
    assert learn_layout(lines).kinds[:4] == [WORD, TIME, WORD, WORD]
