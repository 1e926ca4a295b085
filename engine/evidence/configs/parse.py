"""Config text -> plain Python documents, or where and why it does not parse.

A parse error is a result, not an exception: a broken config is often the root cause of an
incident, so the line, column and parser message are what the user needs to see. What parsed
before the error (earlier YAML documents, the good lines of a .env) is kept.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.evidence.bounded import TooComplex, check_nesting, load_json, load_toml
from engine.evidence.configs.report import ConfigFormat

_MAX_DOCUMENTS = 1000
_TOML_WHERE = re.compile(r"^(?P<msg>.*?)\s*\(at line (?P<line>\d+), column (?P<col>\d+)\)$")
# A quoted value may run over several lines (a PEM key is about 30); one that runs on past
# this is a quote that never closes, not a value.
MAX_QUOTED_LINES = 200
_ENV_PAIR = re.compile(r"^(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(?P<value>.*)$")
_PROPERTY_PAIR = re.compile(r"^(?P<key>[^\s=:]+)\s*(?:[=:]\s*|\s+)(?P<value>.*)$")
_BLOCK_CONFIG = re.compile(r"^\s*[\w.-]+(?:\s+[^\s{]+)*\s*\{\s*$", re.MULTILINE)
_ROOT = "\x00root"  # section for keys above the first [section] header


@dataclass(frozen=True)
class Duplicate:
    key: str
    line: int  # 1-based line of the later occurrence, which wins


@dataclass
class Parsed:
    format: ConfigFormat
    documents: list[Any] = field(default_factory=list)
    error: str | None = None
    line: int | None = None
    column: int | None = None
    duplicates: list[Duplicate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def fail(self, what: str, message: str, line: int | None, column: int | None = None) -> None:
        where = (
            "" if line is None else f" at line {line}" + (f", column {column}" if column else "")
        )
        self.error = f"{what} error{where}: {message}"
        self.line, self.column = line, column


class _Loader(yaml.SafeLoader):
    """SafeLoader that records duplicate keys (YAML keeps the last one silently, a classic
    values.yaml bug) and reads unknown tags (!Ref, !Sub, ...) as plain data."""

    duplicates: list[Duplicate]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:  # before merge keys (<<) are flattened in
            if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
                if key_node.value in seen:
                    self.duplicates.append(Duplicate(key_node.value, key_node.start_mark.line + 1))
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)


def _any_tag(loader: _Loader, _suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    return None


_Loader.add_multi_constructor("!", _any_tag)


def _parse_yaml(text: str, result: Parsed) -> None:
    try:
        check_nesting(text)
    except TooComplex as exc:
        result.fail("YAML", str(exc), None)
        return
    try:
        loader = _Loader(text)  # refuses control characters YAML does not allow, at once
    except yaml.YAMLError as exc:
        result.fail("YAML", str(exc).splitlines()[0], None)
        return
    loader.duplicates = result.duplicates
    try:
        while loader.check_data() and len(result.documents) < _MAX_DOCUMENTS:
            doc = loader.get_data()
            if doc is not None:  # an empty document between two '---'
                result.documents.append(doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "invalid YAML"
        context = exc.context_mark
        if exc.problem and exc.context and context and mark and context.line != mark.line:
            # "while parsing a block mapping" says where the broken structure started.
            message += f" ({exc.context} at line {context.line + 1})"
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        result.fail("YAML", message, line, col)
    except yaml.YAMLError as exc:
        result.fail("YAML", str(exc).splitlines()[0] if str(exc) else "invalid YAML", None)
    except RecursionError:  # block nesting by indentation, which the bracket scan cannot see
        result.fail("YAML", "nested too deeply to read", None)
    finally:
        loader.dispose()


def _parse_json(text: str, result: Parsed) -> None:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                result.duplicates.append(Duplicate(key, 0))
            seen[key] = value
        return seen

    try:
        result.documents.append(load_json(text, object_pairs_hook=pairs))
    except TooComplex as exc:
        result.fail("JSON", str(exc), None)
    except json.JSONDecodeError as exc:
        result.fail("JSON", exc.msg, exc.lineno, exc.colno)


def _parse_toml(text: str, result: Parsed) -> None:
    try:
        result.documents.append(load_toml(text))
    except TooComplex as exc:
        result.fail("TOML", str(exc), None)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = _TOML_WHERE.match(message)
        if where:
            result.fail("TOML", where["msg"], int(where["line"]), int(where["col"]))
        else:  # "(at end of document)"
            result.fail("TOML", message.replace(" (at end of document)", " at the end"), None)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]:
        return value[1:-1]
    return value.split(" #", 1)[0].rstrip()  # an inline comment needs a space before '#'


def _quoted_rest(lines: list[str], start: int, quote: str) -> list[str] | None:
    """The lines after `start` that finish a quoted value, up to the one ending in `quote`;
    None when no line within MAX_QUOTED_LINES does (the value is then the first line alone,
    and the lines after it are read as settings again)."""
    rest: list[str] = []
    for line in lines[start : start + MAX_QUOTED_LINES]:
        rest.append(line.rstrip())
        if rest[-1].endswith(quote):
            return rest
    return None


def _parse_pairs(text: str, result: Parsed, pattern: re.Pattern[str], what: str) -> None:
    """KEY=VALUE lines (.env) or key=value / key: value / key value lines (.properties)."""
    doc: dict[str, str] = {}
    comments = ("#", "!") if what == "properties" else ("#",)
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        number, line = i + 1, lines[i].strip()
        i += 1
        if not line or line.startswith(comments):
            continue
        match = pattern.match(line)
        if match is None:
            if result.error is None:
                expected = "KEY=VALUE" if what == ".env" else "key=value"
                result.fail(what, f"expected {expected}", number)
            continue
        key, value = match["key"], match["value"].strip()
        # A quoted value may run over several lines (PEM keys, JSON blobs).
        if value and value[0] in "\"'" and (len(value) == 1 or not value.endswith(value[0])):
            rest = _quoted_rest(lines, i, value[0])
            if rest is None:
                result.fail(what, f"a quoted value never closes (from line {number})", number)
            else:
                value = "\n".join([value, *rest])
                i += len(rest)
        if key in doc:
            result.duplicates.append(Duplicate(key, number))
        doc[key] = _unquote(value)
    result.documents.append(doc)


class _Ini(configparser.ConfigParser):
    def optionxform(self, optionstr: str) -> str:
        return optionstr  # keep the case the file uses; keys are shown to people


def _parse_ini(text: str, result: Parsed) -> None:
    # A root section lets key=value lines above the first header parse (postgresql.conf);
    # with default_section renamed, a [DEFAULT] section in the file stays a plain section.
    parser = _Ini(interpolation=None, strict=False, default_section="\x00none")
    try:
        parser.read_string(f"[{_ROOT}]\n{text}")
    except configparser.ParsingError as exc:
        result.fail("INI", "expected 'key = value' or a [section] header", exc.errors[0][0] - 1)
        return
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        result.fail("INI", exc.message, line - 1 if isinstance(line, int) else None)
        return
    doc: dict[str, Any] = {}
    for section in parser.sections():
        values = {key: parser.get(section, key, raw=True) for key in parser.options(section)}
        if section == _ROOT:
            doc.update(values)
        else:
            doc[section] = values
    result.documents.append(doc)


def parse_config(fmt: ConfigFormat, text: str, *, lenient_conf: bool = False) -> Parsed:
    """Parse `text` as `fmt`. With `lenient_conf` (a .conf file), INI that fails is retried as
    'key value' lines (redis.conf), and brace-block configs (nginx) are left unparsed."""
    result = Parsed(fmt)
    if fmt == "yaml":
        _parse_yaml(text, result)
    elif fmt == "json":
        _parse_json(text, result)
    elif fmt == "toml":
        _parse_toml(text, result)
    elif fmt == "env":
        _parse_pairs(text, result, _ENV_PAIR, ".env")
    elif fmt == "properties":
        _parse_pairs(text, result, _PROPERTY_PAIR, "properties")
    elif fmt == "ini":
        _parse_ini(text, result)
        if result.error is not None and lenient_conf:
            if _BLOCK_CONFIG.search(text):
                result = Parsed("unknown")
                result.notes.append("block-structured config (nginx style): keys were not read")
            else:
                result = parse_config("properties", text)
    return result
