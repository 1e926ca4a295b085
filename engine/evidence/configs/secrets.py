"""Show config values without leaking secrets.

Two nets: values under keys that name a secret (password, token, api_key, ...) are replaced
whole by the Redactor's stable placeholder, and every other value goes through the Redactor,
which catches secrets by shape (URLs with passwords, JWTs, cloud keys). The placeholder is a
keyed hash, so two versions of a file show whether a password changed without showing it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from engine.core.redact import Redactor

MAX_VALUE_CHARS = 160
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# Joined, lower-cased key with separators removed ("DB_PASSWORD" -> "dbpassword").
_SECRET_RUNS = (
    "password",
    "passwd",
    "secret",
    "credential",
    "apikey",
    "accesskey",
    "privatekey",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "requirepass",  # redis.conf
    "masterauth",
)
_SECRET_WORDS = {"pass": "password", "pwd": "password", "token": "token", "tokens": "token"}
_SECRET_WORDS |= {"auth": "secret", "passphrase": "password"}
# Keys that name or locate a secret rather than hold one: secretName, tokenFile, authUrl.
_NOT_SECRET_LAST = frozenset(
    [
        "name",
        "names",
        "ref",
        "file",
        "path",
        "dir",
        "enabled",
        "enable",
        "disabled",
        "ttl",
        "length",
        "expiry",
        "expires",
        "header",
        "type",
        "id",
        "mode",
        "url",
        "uri",
        "host",
        "endpoint",
        "method",
        "provider",
        "store",
        "manager",
        "timeout",
        "seconds",
        "size",
        "count",
        "version",
        "policy",
    ]
)
_REFERENCE_KEYS = frozenset({"valueFrom", "envFrom", "secretKeyRef", "secretRef", "configMapRef"})
_LINE_PAIR = re.compile(
    r"""^(?P<lead>\s*(?:-\s+)?(?:export\s+)?["']?)(?P<key>[\w.-]+)"""
    r"""(?P<sep>["']?\s*[:=]\s*)(?P<value>\S.*)$"""
)


def key_words(key: str) -> list[str]:
    """'maxIdleConns' -> ['max', 'idle', 'conns']; 'DB_POOL_SIZE' -> ['db', 'pool', 'size']."""
    return [word.lower() for word in _WORDS.findall(key)]


def _key_secret_kind(key: str, *, words_too: bool) -> str | None:
    words = key_words(key)
    joined = "".join(words)
    for run in _SECRET_RUNS:
        if run in joined:
            return "password" if "pass" in run else "secret"
    if words_too:
        for word in words:
            if word in _SECRET_WORDS:
                return _SECRET_WORDS[word]
    return None


def secret_kind(keys: Sequence[str]) -> str | None:
    """The kind of secret a value holds, judged by its keys (nearest last), or None.

    The leaf key decides first. Enclosing keys count only when they plainly say secret
    (`credentials: {aws: ...}`), so `auth: {username: app}` stays readable. A named list item
    counts for its `value` (env: `- name: DB_PASSWORD` / `value: ...`). Nothing inside a
    reference such as `valueFrom.secretKeyRef` is secret: it names a secret, not holds one.
    """
    if not keys or any(key in _REFERENCE_KEYS for key in keys):
        return None
    leaf, parents = keys[-1], keys[:-1]
    words = key_words(leaf)
    if words and words[-1] in _NOT_SECRET_LAST:
        return None
    kind = _key_secret_kind(leaf, words_too=True)
    if kind is None and leaf.lower() == "value" and parents and parents[-1].startswith("["):
        kind = _key_secret_kind(parents[-1], words_too=True)
    for key in reversed(parents):
        if kind is not None:
            break
        if not key.startswith("["):
            kind = _key_secret_kind(key, words_too=False)
    return kind


def render(value: object) -> str:
    """Scalars as a YAML reader would write them; scalar lists as [a, b]."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(render(item) for item in value) + "]"
    return str(value)


def clip(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class Masker:
    """Turns raw values into shown values and counts what it masked."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.counts: Counter[str] = Counter()

    def mask(self, kind: str, value: object) -> str:
        self.counts[kind] += 1
        return self.redactor.placeholder(kind, render(value))

    def is_secret(self, keys: Sequence[str], value: object) -> str | None:
        """Secret kind when `value` must be masked: a string (or, for passwords, a number)
        under a secret-looking key. Flags like `auth.enabled: true` stay readable."""
        if isinstance(value, bool) or value is None or value == "" or isinstance(value, dict):
            return None
        kind = secret_kind(keys)
        if kind is None or (kind != "password" and isinstance(value, int | float)):
            return None
        return kind

    def show(self, value: object, keys: Sequence[str] = (), *, secret: bool = False) -> str:
        kind = "secret" if secret else self.is_secret(keys, value)
        if kind is not None:
            return self.mask(kind, value)
        return self.scrub(clip(render(value)))

    def scrub(self, text: str) -> str:
        redacted = self.redactor.redact(text)
        self.counts.update(redacted.counts)
        return redacted.text

    def line(self, text: str) -> str:
        """One source line (a parse error excerpt): a secret-keyed value is masked whole."""
        match = _LINE_PAIR.match(text)
        if match and secret_kind([match["key"]]):
            value = match["value"].strip().strip("\"'")
            text = match["lead"] + match["key"] + match["sep"] + self.mask("secret", value)
        return self.scrub(clip(text))
