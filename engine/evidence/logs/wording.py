"""A level for a record that carries none, read from how its text is worded.

`kubectl logs` of a crashing container is often a few bare lines: a shell's complaint, an
exception, "connection refused". Nothing marks them as errors but the words themselves.
These rules are generic phrases that programs, runtimes, shells and the C library print
when something failed; none names a product. They stay conservative: a count of errors
("0 errors", "error_count=0"), an identifier ("errorHandler") or a recovery note
("retrying after error") is not an error.

Order matters: an explicit level word (ERROR, warning:, fatal:, panic:, INFO) says what the
program meant, so the earliest one wins; only without one do the failure phrases give ERROR,
and "deprecated" gives WARN.
"""

from __future__ import annotations

import re

from engine.evidence.logs.levels import DEBUG, ERROR, FATAL, INFO, WARN

# A level word that is a word of its own, not part of a path, key or identifier
# ("ERROR_COUNT", "log.error", "on_error:"); "error:" must be followed by something that is
# not an empty value ("error: none", "err: <nil>", "error: 0").
_NOT_IN_NAME = r"(?<![\w.\-/$=<])"
_VALUE = r"(?![ \t]*(?i:(?:none|null|nil|false|0)\b|<nil>|$))"
_LEVEL_WORDS = re.compile(
    rf"{_NOT_IN_NAME}(?:"
    rf"(?P<fatal>(?i:fatal(?: error)?|panic):{_VALUE}|FATAL(?![\w\-=:])|panicked at )"
    rf"|(?P<error>(?i:error|err):{_VALUE}|ERROR(?![\w\-=:])|ERR!)"
    rf"|(?P<warn>(?i:warning|warn):{_VALUE}|WARN(?:ING)?(?![\w\-=:]))"
    # A lower level said first is the program's word too: "INFO x is deprecated", and a
    # database's "LOG:  could not receive data from client: Connection reset by peer".
    r"|(?P<info>INFO(?![\w\-=:])|LOG:)|(?P<debug>DEBUG|TRACE)(?![\w\-=:])"
    r")"
)
# An exception class ending the line or followed by its message: "java.net.ConnectException:
# Connection refused", "ModuleNotFoundError: No module named x". Not "except ValueError:"
# (code: nothing follows the colon) nor "handleTimeoutError(" (a call).
_EXCEPTION = r"\b[A-Z][\w$]*(?:Exception|Error)(?::[ \t]+\S|[ \t]*$)"
# A crash, or the kernel's OOM killer as the shell reports it ("Killed", "42 Killed").
# Case matters: "killed 3 idle workers" is housekeeping.
_CRASH = r"Segmentation fault|core dumped|[Oo]ut of memory|OOM ?Killed|^Killed\b|\d Killed\b"
_CASED_PHRASES = re.compile(rf"{_EXCEPTION}|{_CRASH}", re.MULTILINE)
# Every cased phrase holds one of these: most lines skip the regex.
_CASED_KEYS = ("Exception", "Error", "Segmentation", "core dumped", "ut of memory", "Killed")

# The phrases below are lower case and searched in the lower-cased text, each from the start
# of a word and grouped by first letter: an alternation of literals is then many times faster
# than one with IGNORECASE.
_SHELL = (
    "syntax error",
    "unbound variable",
    "parameter not set",
    "parameter null or not set",
    "command not found",
    "bad substitution",
    "ambiguous redirect",
    "integer expression expected",
)
# The C library's strerror texts and the socket errors everyone prints them with.
_SYSTEM = (
    "no such file or directory",
    "permission denied",
    "operation not permitted",
    "read-only file system",
    "no space left on device",
    "too many open files",
    "cannot allocate memory",
    "exec format error",
    "input/output error",
    "broken pipe",
    "address already in use",
    "cannot assign requested address",
    "network is unreachable",
    "no route to host",
    "host is unreachable",
    "connection refused",
    "connection reset",
    "connection timed out",
)
_NETWORK = (
    "timed out",
    "i/o timeout",
    "deadline exceeded",
    "could not resolve",
    "couldn't resolve",
    "unable to resolve",
    "failed to resolve",
    "name or service not known",
    "temporary failure in name resolution",
    "no such host",
    "nxdomain",
    "servfail",
    "server misbehaving",
    "unknown host",
    # Node's errno codes: "connect ECONNREFUSED 10.0.0.5:5432"
    r"e(?:connrefused|connreset|connaborted|timedout|notfound|ai_again|hostunreach"
    r"|netunreach|addrinuse|acces)\b",
    "x509: ",
    "certificate expired",
    "certificate has expired",
    "certificate verify failed",
    "authentication failed",
    "access denied",
    "invalid credentials",
    "401 unauthorized",
    "403 forbidden",
)
# Something that should be up says it is not: "Peer down", "link went down", "node is down".
# Not "shutting down", "scale down" or "slow down": the noun comes first; nor a count of
# none ("peers down: 0").
_DOWN_NOUNS = (
    "peer",
    "link",
    "node",
    "host",
    "backend",
    "upstream",
    "server",
    "service",
    "interface",
    "neighbor",
    "neighbour",
    "broker",
    "replica",
    "member",
    "database",
)
_DOWN = (
    *(rf"{noun}s? (?:(?:is|was|are|went) )?down\b(?![ \t]*[:=][ \t]*0\b)" for noun in _DOWN_NOUNS),
    r"is down\b",
    r"went down\b",
    "connection lost",
    "lost connection",
)
_OUTCOME = (
    # A process's non-zero end: "exited with code 1", "exit status 2", "exit code: 137".
    r"exit(?:ed)?(?: with)?(?: exit)? (?:code|status)[ \t:=]*[1-9]",
    "non-zero exit",
    "nonzero exit",
    r"unhandled\b.{0,40}?\b(?:exception|error|rejection)",
    r"uncaught\b.{0,40}?\b(?:exception|error|rejection)",
)


def _by_first_letter(phrases: tuple[str, ...]) -> str:
    """'connection refused|cannot ...' as 'c(?:onnection refused|annot ...)'; every phrase
    starts with a literal character."""
    groups: dict[str, list[str]] = {}
    for phrase in phrases:
        groups.setdefault(phrase[0], []).append(phrase[1:])
    return "|".join(f"{re.escape(first)}(?:{'|'.join(rest)})" for first, rest in groups.items())


_LOWER_PHRASES = re.compile(
    rf"(?<![a-z0-9])(?:{_by_first_letter(_SHELL + _SYSTEM + _NETWORK + _DOWN + _OUTCOME)})"
)
_LINE_OPENS = re.compile(
    # bash and dash prefix their own errors with the script and line: "x.sh: line 3: ...",
    # "/bin/sh: 1: ...".
    r"(?:\S*/\S*|[\w.-]*sh): (?:line )?\d+: "
    # A line that opens by saying it failed, after an optional "program: ".
    r"|(?:[\w./-]+:[ \t]+)?(?:failed to|unable to|cannot|can't|could not|couldn't)\s"
)
_DEPRECATED = re.compile(r"(?<![a-z])deprecated\b")
_WARNING_CLASS = re.compile(r"(?<![\w$])[A-Z]\w*Warning\b")  # DeprecationWarning, UserWarning
# Every level word holds one of these, in lower case: most lines skip the regex.
_WORD_KEYS = ("fatal", "panic", "err", "warn", "info", "log:", "debug", "trace")
_WORD_LEVELS = {"fatal": FATAL, "error": ERROR, "warn": WARN, "info": INFO, "debug": DEBUG}
_SCAN_CHARS = 2000  # a record's head says what it is; a huge line is not read to its end


def _reads_as_failure(head: str, lower: str) -> bool:
    if any(map(head.__contains__, _CASED_KEYS)) and _CASED_PHRASES.search(head):
        return True
    return _LINE_OPENS.match(lower) is not None or _LOWER_PHRASES.search(lower) is not None


def _reads_as_warning(head: str, lower: str) -> bool:
    if "Warning" in head and _WARNING_CLASS.search(head):
        return True
    return "deprecated" in lower and _DEPRECATED.search(lower) is not None


def level_from_wording(text: str) -> str | None:
    """The level `text` reads as (an explicit level word, else ERROR or WARN by its
    phrases), or None."""
    head = text[:_SCAN_CHARS]
    lower = head.lower()
    word = _LEVEL_WORDS.search(head) if any(map(lower.__contains__, _WORD_KEYS)) else None
    if word is not None:
        return _WORD_LEVELS[word.lastgroup or ""]
    if _reads_as_failure(head, lower):
        return ERROR
    return WARN if _reads_as_warning(head, lower) else None
