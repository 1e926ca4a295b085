"""Mask secrets and personal data before anything derived from evidence is stored or prompted.

One pass of one combined regex over the text. Each rule marks the secret part with a named
group `v` (the rest of the match, like `password=`, is kept so the line still reads). Each
secret becomes a stable placeholder, `[token:3fa9c1]`: a short keyed hash, so the same secret
reads the same everywhere (you can still see that two lines used one key) and never the value.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections import Counter
from dataclasses import dataclass

from engine.core.wording import plural

# A key that may name a secret holds one of these; `secret_kind` then reads the whole name.
_KEY_WORDS = r"(?:pass|pwd|secret|token|key|credential)"
# The key of a key=value / key: value / "key": "value" pair, or of a --flag value.
# Bounded on both sides: "keykeykey…" a megabyte long must not cost a match per character.
_KEY = r"[A-Za-z0-9_.-]{0,64}(?i:" + _KEY_WORDS + r")[A-Za-z0-9_.-]{0,64}"
# Value of a key=value / key: value / "key": "value" pair, up to a delimiter.
# A quoted value is taken whole (it may hold spaces); a bare one runs to a delimiter. A value
# that is already a placeholder is left alone, so redacting twice changes nothing.
# A bare value takes a placeholder inside it whole ("a=[password:1a2b3c]"), so the value of
# an ordinary setting, redacted again, never cuts a placeholder at its "]".
_VALUE = (
    r"""(?!["']?\[[a-zA-Z ]+:[0-9a-f]{6}\])"""
    r"""(?P<v>"[^"\n]{1,256}"|'[^'\n]{1,256}'"""
    r"""|(?:\[[a-zA-Z ]+:[0-9a-f]{6}\]|[^\s"',;&}{)\]]){3,})"""
)

# (kind shown to users, pattern with the secret in group `v` or the whole match)
_RULES: tuple[tuple[str, str], ...] = (
    ("private key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
    ("JWT", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}|\bxapp-\d-[A-Za-z0-9-]{10,}"),  # Slack
    ("token", r"\bgh[pousr]_[A-Za-z0-9]{36,}|\bgithub_pat_[A-Za-z0-9_]{22,}"),  # GitHub
    ("token", r"\bAIza[0-9A-Za-z_-]{35}"),  # Google Cloud API key
    ("AWS key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"),
    ("token", r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}|\bsk_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("token", r"\bglpat-[A-Za-z0-9_-]{20,}|\bnpm_[A-Za-z0-9]{36}|\bpypi-[A-Za-z0-9_-]{50,}"),
    ("token", r"\bhvs\.[A-Za-z0-9_-]{20,}|\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
    ("token", r"(?i:\bhttps://hooks\.slack\.com/services/)(?P<v>[A-Za-z0-9/]{20,})"),
    # The value holds a capital or a digit: "basic implementation" in prose is no credential.
    (
        "token",
        r"(?i:\b(?:bearer|basic)\s+)"
        r"(?P<v>(?=[a-z._~+/=-]{0,256}[A-Z0-9])[A-Za-z0-9._~+/=-]{12,})",
    ),
    (
        "token",
        r"""(?i:\b(?:proxy-)?authorization\b["']?\s*[:=]\s*["']?(?:[a-z]+\s+)?)(?P<v>[^\s"',;]{6,})""",
    ),
    ("password", r"\b[a-z][a-z0-9+.-]*://[^\s:/@]*:(?P<v>[^\s@/]+)@"),  # scheme://user:pass@host
    # Go's MySQL DSN, user:pass@tcp(host:3306)/db: no scheme, the protocol after the @.
    ("password", r"\b[\w.-]{1,64}:(?P<v>[^\s:@/()]{1,128})@(?:tcp|udp|unix)\("),
    # SQL that sets one: ALTER ROLE app WITH PASSWORD 'x', CREATE USER bob IDENTIFIED BY 'x'.
    ("password", r"(?i:\b(?:password|identified\s+by)\s+)'(?P<v>[^'\n]{1,256})'"),
    # A pair whose key names a secret (judged by `secret_kind`, which also says its kind).
    # (?<![\w.\[-]): the kind inside a placeholder, "[password:ab12cd]", is not a key name.
    # Spaces, not line breaks, around the `:`: a YAML key `secret:` opening a nested block
    # ("secret:\n  defaultMode: 420") has no value on its line to mask.
    ("named", rf"""(?<![\w.\[-])(?P<k>{_KEY})["']?[ \t]*[:=][ \t]*{_VALUE}"""),
    ("named", rf"""(?<![\w-])--?(?P<k>{_KEY})(?:=|\s+)(?=[^\s-]){_VALUE}"""),  # --password x
    ("email", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
    ("key", r"(?<![\w/+=-])[A-Za-z0-9+/_-]{32,}={0,2}(?![\w/+=-])"),  # checked for entropy below
)
_IP_RULE = ("IP", r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b")

# What each rule of _RULES needs in the (lower-cased) text before it can match at all, in
# order; None: a 32-character token run (_LONG_RUN). Only the rules whose needs a text meets
# are run over it: trying all of them at every character made long lines cost ~1 s per MB.
_RULE_NEEDS: tuple[tuple[str, ...] | None, ...] = (
    ("private key",),
    ("eyj",),
    ("xox", "xapp-"),
    ("gh", "github_pat_"),
    ("aiza",),
    ("akia", "asia", "agpa", "aida", "aroa", "anpa", "anva", "aipa"),
    ("sk-", "sk_"),
    ("glpat-", "npm_", "pypi-"),
    ("hvs.", "sg."),
    ("hooks.slack.com/services/",),
    ("bearer", "basic"),
    ("authorization",),
    ("://",),
    ("@tcp(", "@udp(", "@unix("),
    ("password", "identified"),
    ("pass", "pwd", "secret", "token", "key", "credential"),
    ("pass", "pwd", "secret", "token", "key", "credential"),
    ("@",),
    None,
)
_LONG_RUN = re.compile(r"[A-Za-z0-9+/_-]{32}")
# Every literal any rule needs, looked for once per text rather than once per rule.
_ALL_NEEDS = tuple(sorted({need for needs in _RULE_NEEDS if needs for need in needs}))
_NEED_SETS = tuple(frozenset(needs) if needs else None for needs in _RULE_NEEDS)
assert not any(c.isdigit() for need in _ALL_NEEDS for c in need)  # see Redactor._rules_for
_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_SHAPED_CHARS = 500  # texts up to this long share their rules by shape...
_MAX_SHAPES = 4096  # ...and this many shapes are remembered

_PLACEHOLDER = re.compile(r"\[[a-zA-Z ]+:[0-9a-f]{6}\]")
_HEX_OR_UUID = re.compile(r"[0-9a-fA-F-]+")
# A setting's value that says it is on, off or unset holds no secret, whatever its name says:
# `automountServiceAccountToken: true` keeps its `true` (the setting's state is the evidence).
_NOT_A_VALUE = frozenset(["true", "false", "yes", "no", "on", "off", "null", "none", "nil"])
DEFAULT_SALT = b"faultmaven-redaction"


@dataclass
class Redacted:
    text: str
    counts: Counter[str]


def _looks_random(value: str) -> bool:
    """A generic key: long, mixes letters and digits, has high character entropy, and most of
    it does not read as names.

    Hex strings and UUIDs (trace ids, hashes, block ids) are ids that people need to read,
    not credentials, so they stay. So do paths and identifiers made of words (see
    `_mostly_random_segments`), however long and mixed: `/api/v1/items/byCategoryIds`.
    """
    if _HEX_OR_UUID.fullmatch(value):
        return False
    if not (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
        return False
    if not (any(c.isupper() for c in value) and any(c.islower() for c in value)):
        return False
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy >= 4.0 and _mostly_random_segments(value)


_SEGMENTS = re.compile(r"[A-Za-z0-9]+")
_HEX_ID = re.compile(r"[0-9a-f]+|[0-9A-F]+")
# Shorter segments are judged as names: "v1", "64K", "tmp" say too little either way.
_MIN_RANDOM_SEGMENT = 5
# A name's word parts average 3.5 characters or more (`by|Category|Ids`, `DFS|Client`,
# `deployment`); a random segment's about 1.5 (`Zx|9|Kq|2|Lm`), its case and digits
# changing every character or two.
_NAME_PART_CHARS = 3.5
# Random segments must make up this share of the value for it to be a key. Measured on
# random base64, base62 and URL-safe tokens of 32 to 64 characters (of those masked before,
# >=99.9% still are) and on every 32+ character run in the real logs, span tables and
# kubectl output of tests/bench/bench_redaction.py (no path, class or pod name masked).
_RANDOM_SHARE = 0.4


def _random_segment(segment: str) -> bool:
    if len(segment) < _MIN_RANDOM_SEGMENT or _HEX_ID.fullmatch(segment):
        return False  # too short to tell, or a hex id / number (a pod hash, a port, a count)
    return len(segment) < _NAME_PART_CHARS * len(_WORD_PARTS.findall(segment))


def _mostly_random_segments(value: str) -> bool:
    """Whether the value is mostly random, judged segment by segment between / _ - + =.

    A path, a class or operation name, a Kubernetes object name is made of words and ids
    (`Event/my-server-79f4ff4d45-g4xvs`); a key is one random run, or a few when its
    alphabet holds / + - _ (`wJalrXUtnFEMI/K7MDENGbPx...`).
    """
    segments = _SEGMENTS.findall(value)
    random_chars = sum(len(s) for s in segments if _random_segment(s))
    return random_chars >= _RANDOM_SHARE * sum(len(s) for s in segments)


_WORD_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# Parts that qualify a secret's name without changing what it is: SECRET_KEY_BASE, PASS_B64.
_TRAILING = frozenset(
    ["base", "value", "b64", "base64", "encoded", "raw", "plain", "plaintext", "enc"]
)
_SECRET_LAST = frozenset(
    [
        "secret",
        "credential",
        "credentials",
        "token",
        "apikey",
        "accesskey",
        "secretkey",
        "privatekey",
        "accountkey",
        "authkey",
        "sas",
    ]
)
# "<qualifier> key" names a secret (api_key, x-api-key, AccountKey); a bare "key" does not.
_KEY_QUALIFIERS = frozenset(
    [
        "api",
        "access",
        "secret",
        "private",
        "account",
        "signing",
        "encryption",
        "master",
        "client",
        "shared",
        "auth",
        "session",
        "license",
        "subscription",
        "storage",
    ]
)


def secret_kind(name: str) -> str | None:
    """'password' or 'secret' when a setting's name says its value is one, else None.

    The name is read as words (DB_PASSWORD, mysqlRootPassword, x-api-key, PGPASSWORD) and
    judged by its last word: SLACK_SIGNING_SECRET and AWS_SESSION_TOKEN are secrets,
    max_tokens, token_count, secretName (a reference to one) and passenger_id are not.
    """
    words = [word.lower() for word in _WORD_PARTS.findall(name)]
    while len(words) > 1 and words[-1] in _TRAILING:
        words.pop()
    if not words:
        return None
    last = words[-1]
    if last.endswith(("password", "passwd", "passphrase")) or last in {"pass", "pwd"}:
        return "password"
    if last in _SECRET_LAST:
        return "secret"
    if last == "key" and len(words) > 1 and words[-2] in _KEY_QUALIFIERS:
        return "secret"
    return None


def _rules_needed(text: str) -> tuple[int, ...]:
    """The rules of _RULES whose literals `text` holds."""
    lowered = text.lower()
    present = {need for need in _ALL_NEEDS if need in lowered}
    long_run = _LONG_RUN.search(text) is not None
    return tuple(
        i
        for i, needs in enumerate(_NEED_SETS)
        if (long_run if needs is None else not needs.isdisjoint(present))
    )


def _digits_as_zeros(text: str) -> str:
    """`text` with every ASCII digit a "0" (through bytes: str.translate is slow per call;
    the default codec arguments parse quickest, surrogatepass keeps a lone surrogate)."""
    try:
        return text.encode().translate(_ZEROS).decode()
    except UnicodeEncodeError:
        return (
            text.encode("utf-8", "surrogatepass").translate(_ZEROS).decode("utf-8", "surrogatepass")
        )


class Redactor:
    def __init__(self, *, mask_ips: bool = False, salt: bytes = DEFAULT_SALT) -> None:
        rules = [*_RULES, _IP_RULE] if mask_ips else list(_RULES)
        self._kinds = [kind for kind, _ in rules]
        self._parts = []
        for i, (_, pattern) in enumerate(rules):
            # Give each rule's `v` group a unique name so they can share one regex.
            named = pattern.replace("(?P<v>", f"(?P<v{i}>").replace("(?P<k>", f"(?P<k{i}>")
            self._parts.append(f"(?P<r{i}>{named})")
        self._compiled: dict[tuple[int, ...], re.Pattern[str]] = {}
        self._rules_by_shape: dict[str, tuple[int, ...]] = {}
        self._salt = salt
        self._mask_ips = mask_ips

    def _rules_for(self, text: str) -> tuple[int, ...]:
        """The rules that can match somewhere in `text` (all of them with IP masking)."""
        if self._mask_ips:
            return tuple(range(len(self._parts)))
        if len(text) > _SHAPED_CHARS:
            return _rules_needed(text)
        # No literal a rule needs holds a digit, and a long run counts digits as any
        # other character: texts that differ only in their digits need the same rules.
        # Log lines repeat that way ("timeout after 3000ms", "... 5000ms").
        shape = _digits_as_zeros(text)
        rules = self._rules_by_shape.get(shape)
        if rules is None:
            if len(self._rules_by_shape) >= _MAX_SHAPES:
                self._rules_by_shape.clear()
            rules = self._rules_by_shape[shape] = _rules_needed(shape)
        return rules

    def _regex(self, rules: tuple[int, ...]) -> re.Pattern[str]:
        """One regex of these rules, in their order (so the earlier rule wins a tie, as in
        the whole set); group names keep the rules' numbers."""
        regex = self._compiled.get(rules)
        if regex is None:
            regex = self._compiled[rules] = re.compile("|".join(self._parts[i] for i in rules))
        return regex

    def placeholder(self, kind: str, value: str) -> str:
        digest = hmac.new(self._salt, value.encode(), hashlib.sha256).hexdigest()[:6]
        return f"[{kind}:{digest}]"

    def redact(self, text: str) -> Redacted:
        counts: Counter[str] = Counter()
        rules = self._rules_for(text)
        if not rules:
            return Redacted(text, counts)

        def replace(match: re.Match[str]) -> str:
            # The outer rN group closes last, so it is the last group matched: the rule.
            index = int(str(match.lastgroup)[1:])
            kind = self._kinds[index]
            group = f"v{index}" if f"v{index}" in match.re.groupindex else f"r{index}"
            start, end = match.span(group)
            value = match.group(group)
            if len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]:
                start, end, value = start + 1, end - 1, value[1:-1]  # keep the quotes
            offset = match.start()
            whole = match.group(0)
            if kind == "named":
                named_kind = secret_kind(match.group(f"k{index}"))
                if named_kind is None:  # an ordinary setting: its value may still hold one
                    inner = self.redact(whole[start - offset : end - offset])
                    counts.update(inner.counts)
                    return whole[: start - offset] + inner.text + whole[end - offset :]
                kind = named_kind
                if value.lower() in _NOT_A_VALUE:
                    return whole
            if _PLACEHOLDER.fullmatch(value) or (kind == "key" and not _looks_random(value)):
                return whole
            counts[kind] += 1
            # A multi-line secret (a key block) keeps its line breaks, so line numbers hold.
            masked = self.placeholder(kind, value) + "\n" * value.count("\n")
            return whole[: start - offset] + masked + whole[end - offset :]

        return Redacted(self._regex(rules).sub(replace, text), counts)


def describe_counts(counts: Counter[str] | dict[str, int]) -> str:
    """'masked 3 tokens, 1 password' (empty when nothing was masked)."""
    if not counts:
        return ""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return "masked " + ", ".join(plural(n, kind) for kind, n in ranked)
