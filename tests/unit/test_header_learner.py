"""The header learner on layouts it was never told about: where the message starts."""

from __future__ import annotations

import random

from engine.evidence.logs.mining import mine_log
from engine.evidence.templates.headers import BRACKET, COMP, LEVEL, SEP, TIME, WORD, learn_layout

_MESSAGES = (
    "Connection accepted from 10.0.0.{n}",
    "Cache miss for key user-{n}",
    "Retrying request {n} after timeout",
    "Worker {n} finished batch",
    "Disk usage at {n} percent",
    "Session {n} closed by peer",
    "Loaded {n} rules from config",
)


def _lines(write, count: int = 300) -> tuple[list[str], list[str]]:
    rng = random.Random(7)
    lines, messages = [], []
    for i in range(count):
        message = rng.choice(_MESSAGES).format(n=rng.randint(1, 999))
        lines.append(write(rng, i, message))
        messages.append(message)
    return lines, messages


def _assert_messages(write, kinds: list[str] | None = None) -> None:
    lines, messages = _lines(write)
    layout = learn_layout(lines)
    assert [layout.message(line) for line in lines] == messages
    if kinds is not None:
        assert layout.kinds == kinds


def test_component_word_after_level_is_header() -> None:
    def write(rng: random.Random, i: int, msg: str) -> str:
        level = rng.choice(("Info", "Info", "Warning", "Error"))
        comp = rng.choice(("ALPHA", "BETA", "GAMMA", "DELTA"))
        return f"2024-01-02 03:04:{i % 60:02d}, {level:<10}{comp:<7}{msg}"

    _assert_messages(write, [TIME, TIME, LEVEL, WORD])


def test_stream_names_and_a_constant_flag_are_header() -> None:
    def write(rng: random.Random, i: int, msg: str) -> str:
        stream = rng.choice(("out", "out", "err"))
        return f"2024-01-02T03:04:{i % 60:02d}.123456789Z {stream} P {msg}"

    _assert_messages(write, [TIME, WORD, WORD])


def test_record_id_host_and_state_columns() -> None:
    def write(rng: random.Random, i: int, msg: str) -> str:
        host = f"rack{rng.randint(1, 40)}"
        unit = rng.choice(("fan", "psu", "nic", "disk"))
        return f"{5000 + i} {host} {unit} {1700000000 + i} {msg}"

    _assert_messages(write, [TIME, WORD, WORD, TIME])


def test_pipe_separated_columns() -> None:
    def write(rng: random.Random, i: int, msg: str) -> str:
        comp = rng.choice(("Svc_A", "Svc_B", "Svc_C"))
        return f"20240102-03:04:{i % 60:02d}:123|{comp}|{rng.randint(100, 999)}|{msg}"

    _assert_messages(write)


def test_tab_separated_columns_with_spaces_inside() -> None:
    def write(rng: random.Random, i: int, msg: str) -> str:
        source = rng.choice(("Print Spooler", "Disk", "Task Scheduler Service"))
        return f"Warning\t1/2/2024 3:04:{i % 60:02d} PM\t{source}\t{rng.randint(1, 99)}\t{msg}"

    _assert_messages(write)


def test_level_and_logger_glued_with_colons() -> None:
    def write(rng: random.Random, i: int, msg: str) -> str:
        return f"{rng.choice(('INFO', 'WARNING'))}:{rng.choice(('db', 'web.api'))}:{msg}"

    _assert_messages(write)


def test_glued_brackets_and_a_location_block() -> None:
    def glued(rng: random.Random, i: int, msg: str) -> str:
        return f"[2024-01-02T03:04:05,{i:03d}][INFO ][a.b.Cls  ] [node-{i % 3}] {msg}"

    def located(rng: random.Random, i: int, msg: str) -> str:
        cls = rng.choice(("Foo", "Bar", "Baz"))
        return f"2024-01-02 03:04:05,{i % 1000:03d} INFO  x.{cls} ({cls}.java:run({i})) - {msg}"

    _assert_messages(glued, [BRACKET, BRACKET])
    _assert_messages(located, [TIME, TIME, LEVEL, WORD, BRACKET, SEP])


def test_level_or_word_with_colon_in_one_position() -> None:
    def write(rng: random.Random, i: int, msg: str) -> str:
        level = rng.choice(("LOG", "LOG", "LOG", "NOTE", "ERROR", "WARNING"))
        return f"2024-01-02 03:04:05.{i % 1000:03d} UTC [{rng.randint(10, 99)}] {level}:  {msg}"

    _assert_messages(write)


def test_a_padded_tag_before_its_colon() -> None:
    def write(rng: random.Random, i: int, msg: str) -> str:
        tag = rng.choice(("Net", "PowerManager", "Audio"))
        return f"01-02 03:04:05.{i % 1000:03d} {rng.randint(1, 9999):5d}  I {tag:<8}: {msg}"

    _assert_messages(write, [TIME, TIME, TIME, WORD, COMP])


def test_message_words_stay_in_the_message() -> None:
    """A message's first words follow each other: they are not header."""

    def write(rng: random.Random, i: int, msg: str) -> str:
        return f"2024-01-02 03:04:05 INFO {msg}"

    _assert_messages(write, [TIME, TIME, LEVEL])


def test_indented_file_is_not_all_continuations() -> None:
    lines, _messages = _lines(
        lambda rng, i, msg: f"{1700000000 + i:>16}.{i % 1000:03d} {rng.randint(1, 9)} I Tag: {msg}"
    )
    mined = mine_log(("\n".join(lines) + "\n").encode())
    assert len(mined.lines) == len(lines)
    text = {t.template_id: t.template for t in mined.templates}
    assert all(not text[i].startswith(("I ", "Tag")) for i in mined.template_ids)


def test_message_on_the_indented_line_after_its_header() -> None:
    rng = random.Random(3)
    lines = []
    for i in range(200):
        level = rng.choice(("info", "warn", "dbug", "fail"))
        lines += [f"{level}: App.Module.Worker[{i % 7}]", f"      Worker {i} finished batch"]
    mined = mine_log(("\n".join(lines) + "\n").encode())
    assert len(mined.lines) == 200
    assert [t.template for t in mined.templates] == ["Worker <*> finished batch"]
