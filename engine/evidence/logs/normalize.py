"""Mask the variable parts of a message so that the same error, repeated, forms one group.

"timeout after 3000ms calling 10.0.3.7:5432" -> "timeout after <*> calling <*>". Words
stay as they are: "upstream payments-db: connection pool exhausted" is already a template.
The rules run in order, specific before general (a UUID before the numbers inside it);
every mask is `<*>`, which no rule matches, so normalising twice changes nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache

MASK = "<*>"
# Regex cost grows with the message; nothing past this helps tell errors apart.
MAX_CHARS = 2000

_URL_QUERY = re.compile(r"(\b[a-zA-Z][\w+.-]*://[^\s?#\"'<>]*)\?[^\s\"'<>]+")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_UUID = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}(?![\w-])")
_TIMESTAMP = re.compile(
    r"(?<!\w)\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?(?!\w)"
)
# Needs '::' or eight groups, so a time of day ("14:02:03") is left to the number rule.
_IPV6 = re.compile(
    r"(?<![\w:.])\[?(?=[0-9a-fA-F:]*::|(?:[0-9a-fA-F]{1,4}:){7})(?=:*[0-9a-fA-F])"
    r"(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}\]?(?::\d{1,5})?(?![\w:])"
)
_HEX_PREFIXED = re.compile(r"(?<![\w.])0[xX][0-9a-fA-F]+(?!\w)")
# Hex runs with at least one digit and one letter: hashes, trace ids, pod suffixes.
_HEX = re.compile(r"(?<![\w.])(?=[a-fA-F]*\d)(?=\d*[a-fA-F])[0-9a-fA-F]{6,}(?![A-Za-z0-9])")
# Long quoted payloads (JSON bodies, SQL) vary per occurrence; shorter quotes are kept,
# with their numbers masked, because they name what failed ('users', "POST /api/checkout").
_MAX_QUOTED = 64
_QUOTED = re.compile(r"(?<![\w\\])(['\"])([^'\"\n]+)\1(?![\w])")
# Numbers with optional decimals, ip:port joins and a short unit: 3000ms, 10.0.3.7:5432, 5xx.
_NUMBER = re.compile(r"(?<![A-Za-z0-9.])[-+]?\d+(?:[.,:]\d+)*[a-zA-Zµ%]{0,7}(?![A-Za-z0-9])")
# Tokens that alternate letters and digits at least three times look generated (a1b2c3).
_ALNUM = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z_]*\d)(?=\w*[A-Za-z])\w{4,}(?![A-Za-z0-9])")
_TRANSITION = re.compile(r"(?=[A-Za-z]\d|\d[A-Za-z])")
_NEEDS_WORK = re.compile(r"[\d'\"@?]")
_REPEATED = re.compile(r"<\*>(?:[\s.,:;/\-_|=+#@]*<\*>)+")


def _mask_quoted(m: re.Match[str]) -> str:
    if len(m.group(2)) <= _MAX_QUOTED:
        return m.group(0)
    return f"{m.group(1)}{MASK}{m.group(1)}"


def _mask_alnum(m: re.Match[str]) -> str:
    token = m.group(0)
    return MASK if len(_TRANSITION.findall(token)) >= 3 else token


def normalize_message(message: str) -> str:
    """The message with ids, numbers, addresses and durations replaced by `<*>`."""
    return _normalize(message[:MAX_CHARS])  # cut first, so the cache never holds huge keys


@lru_cache(maxsize=16384)  # the same error repeats: most calls are cache hits
def _normalize(message: str) -> str:
    text = " ".join(message.split())
    if not _NEEDS_WORK.search(text):
        return text  # no rule matches without a digit, quote, '@' or '?': the common case
    # Each rule scans the whole text, so those whose required character is absent are skipped.
    if "://" in text:
        text = _URL_QUERY.sub(rf"\1?{MASK}", text)
    if "@" in text:
        text = _EMAIL.sub(MASK, text)
    if "-" in text:
        text = _UUID.sub(MASK, text)
        text = _TIMESTAMP.sub(MASK, text)
    if "::" in text or text.count(":") >= 7:
        text = _IPV6.sub(MASK, text)
    if "0x" in text or "0X" in text:
        text = _HEX_PREFIXED.sub(MASK, text)
    text = _HEX.sub(MASK, text)
    text = _ALNUM.sub(_mask_alnum, text)
    text = _NUMBER.sub(MASK, text)
    if MASK in text:
        text = _REPEATED.sub(MASK, text)
    if "'" in text or '"' in text:
        # Last, so the length it judges is that of the masked text, as on a second pass.
        text = _QUOTED.sub(_mask_quoted, text)
    return text[:MAX_CHARS]
