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

_SECRET_NAMES = (
    r"secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?key|secret[_-]?key"
    r"|aws_secret_access_key|auth[_-]?token|access[_-]?token|refresh[_-]?token|token"
    r"|private[_-]?key|credentials?"
)
_PASSWORD_NAMES = r"password|passwd|pwd|pass"
# Value of a key=value / key: value / "key": "value" pair, up to a delimiter.
# A quoted value is taken whole (it may hold spaces); a bare one runs to a delimiter. A value
# that is already a placeholder is left alone, so redacting twice changes nothing.
_VALUE = (
    r"""(?!["']?\[[a-zA-Z ]+:[0-9a-f]{6}\])"""
    r"""(?P<v>"[^"\n]{1,256}"|'[^'\n]{1,256}'|[^\s"',;&}{)\]]{3,})"""
)

# (kind shown to users, pattern with the secret in group `v` or the whole match)
_RULES: tuple[tuple[str, str], ...] = (
    ("private key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
    ("JWT", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}|\bxapp-\d-[A-Za-z0-9-]{10,}"),  # Slack
    ("token", r"\bgh[pousr]_[A-Za-z0-9]{36,}|\bgithub_pat_[A-Za-z0-9_]{22,}"),  # GitHub
    ("token", r"\bAIza[0-9A-Za-z_-]{35}"),  # Google Cloud API key
    ("AWS key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"),
    ("token", r"(?i:\b(?:bearer|basic)\s+)(?P<v>[A-Za-z0-9._~+/=-]{12,})"),
    ("password", r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:(?P<v>[^\s@/]+)@"),  # scheme://user:pass@host
    # (?<!\[): the kind inside a placeholder, "[password:ab12cd]", is not a key name.
    ("password", rf"""(?i:(?<!\[)\b(?:{_PASSWORD_NAMES})\b["']?\s*[:=]\s*){_VALUE}"""),
    ("secret", rf"""(?i:(?<!\[)\b(?:{_SECRET_NAMES})\b["']?\s*[:=]\s*){_VALUE}"""),
    ("email", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
    ("key", r"(?<![\w/+=-])[A-Za-z0-9+/_-]{32,}={0,2}(?![\w/+=-])"),  # checked for entropy below
)
_IP_RULE = ("IP", r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b")

# Every rule above needs one of these (lower-cased) substrings or a 32-character token run,
# so a text with none of them is returned untouched without running the big regex.
_TRIGGERS = (
    "pass",
    "pwd",
    "secret",
    "key",
    "token",
    "credential",
    "bearer",
    "basic",
    "://",
    "@",
    "eyj",
    "xox",
    "xapp-",
    "gh",
    "aiza",
    "akia",
    "asia",
    "agpa",
    "aida",
    "aroa",
    "anpa",
    "anva",
    "aipa",
)
_LONG_RUN = re.compile(r"[A-Za-z0-9+/_-]{32}")

_PLACEHOLDER = re.compile(r"\[[a-zA-Z ]+:[0-9a-f]{6}\]")
_HEX_OR_UUID = re.compile(r"[0-9a-fA-F-]+")
DEFAULT_SALT = b"faultmaven-redaction"


@dataclass
class Redacted:
    text: str
    counts: Counter[str]


def _looks_random(value: str) -> bool:
    """A generic key: long, mixes letters and digits, and has high character entropy.

    Hex strings and UUIDs (trace ids, hashes, block ids) are ids that people need to read,
    not credentials, so they stay.
    """
    if _HEX_OR_UUID.fullmatch(value):
        return False
    if not (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
        return False
    if not (any(c.isupper() for c in value) and any(c.islower() for c in value)):
        return False
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy >= 4.0


class Redactor:
    def __init__(self, *, mask_ips: bool = False, salt: bytes = DEFAULT_SALT) -> None:
        rules = [*_RULES, _IP_RULE] if mask_ips else list(_RULES)
        self._kinds = [kind for kind, _ in rules]
        parts = []
        for i, (_, pattern) in enumerate(rules):
            # Give each rule's `v` group a unique name so they can share one regex.
            parts.append(f"(?P<r{i}>{pattern.replace('(?P<v>', f'(?P<v{i}>')})")
        self._regex = re.compile("|".join(parts))
        self._salt = salt
        self._mask_ips = mask_ips

    def _may_hold_secret(self, text: str) -> bool:
        if self._mask_ips:
            return True
        lowered = text.lower()
        return any(t in lowered for t in _TRIGGERS) or _LONG_RUN.search(text) is not None

    def placeholder(self, kind: str, value: str) -> str:
        digest = hmac.new(self._salt, value.encode(), hashlib.sha256).hexdigest()[:6]
        return f"[{kind}:{digest}]"

    def redact(self, text: str) -> Redacted:
        counts: Counter[str] = Counter()
        if not self._may_hold_secret(text):
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
            if _PLACEHOLDER.fullmatch(value) or (kind == "key" and not _looks_random(value)):
                return match.group(0)
            counts[kind] += 1
            offset = match.start()
            whole = match.group(0)
            # A multi-line secret (a key block) keeps its line breaks, so line numbers hold.
            masked = self.placeholder(kind, value) + "\n" * value.count("\n")
            return whole[: start - offset] + masked + whole[end - offset :]

        return Redacted(self._regex.sub(replace, text), counts)


def describe_counts(counts: Counter[str] | dict[str, int]) -> str:
    """'masked 3 tokens, 1 password' (empty when nothing was masked)."""
    if not counts:
        return ""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return "masked " + ", ".join(plural(n, kind) for kind, n in ranked)
