"""Evidence content encrypted at rest: AES-256-GCM with keys that can be rotated.

Uploaded files are the most sensitive thing FaultMaven stores (logs carry customer data even
after masking), so their bytes never reach the database in clear. Each stored blob is

    b"FMe1" | key id (8 bytes) | nonce (12 bytes) | ciphertext and GCM tag

The key id (the first 8 bytes of the key's SHA-256) says which key sealed a blob, so after a
rotation the old key, kept in FAULTMAVEN_EVIDENCE_OLD_KEYS, still opens older rows until
`faultmaven db rotate-key` has sealed them again with the current key. The evidence row id is
bound as associated data: a blob copied onto another row does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.core.errors import ConfigurationError

MAGIC = b"FMe1"
KEY_ID_BYTES = 8
NONCE_BYTES = 12
KEY_BYTES = 32  # AES-256
KEY_FILE = "evidence.key"


class UnreadableEvidence(ConfigurationError):
    """A blob that no configured key opens (a lost key, or tampering)."""


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:KEY_ID_BYTES]


def parse_key(text: str) -> bytes:
    """A key as configured: 32 bytes in URL-safe or standard base64."""
    raw = text.strip()
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise ConfigurationError(
            "FAULTMAVEN_EVIDENCE_KEY must be 32 bytes in base64 (make one with "
            '`python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32))'
            '.decode())"`).'
        )
    return key


def new_key_text() -> str:
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


class EvidenceCipher:
    """Seals with the current key; opens with the current or any older one."""

    def __init__(self, current: bytes, older: list[bytes] | None = None) -> None:
        self.current = current
        self._keys = {key_id(k): AESGCM(k) for k in [*(older or []), current]}
        self._current_id = key_id(current)

    @classmethod
    def from_settings(cls, key: str | None, old_keys: list[str], data_dir: Path) -> EvidenceCipher:
        """The configured key, or for embedded installs one made once in the data directory."""
        if key is None:
            key = _local_key(data_dir)
        return cls(parse_key(key), [parse_key(k) for k in old_keys])

    def seal(self, data: bytes, *, row: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self._current_id].encrypt(nonce, data, row.encode())
        return MAGIC + self._current_id + nonce + sealed

    def open(self, blob: bytes, *, row: str) -> bytes:
        if not blob.startswith(MAGIC):
            return blob  # stored before encryption was introduced
        header = len(MAGIC)
        kid = blob[header : header + KEY_ID_BYTES]
        nonce = blob[header + KEY_ID_BYTES : header + KEY_ID_BYTES + NONCE_BYTES]
        cipher = self._keys.get(kid)
        if cipher is None:
            raise UnreadableEvidence(
                "Stored evidence was sealed with a key that is not configured: put the old key "
                "in FAULTMAVEN_EVIDENCE_OLD_KEYS."
            )
        try:
            return cipher.decrypt(nonce, blob[header + KEY_ID_BYTES + NONCE_BYTES :], row.encode())
        except InvalidTag as exc:
            raise UnreadableEvidence(
                "Stored evidence does not match its seal (altered, or moved from another row)."
            ) from exc

    def is_current(self, blob: bytes) -> bool:
        return blob.startswith(MAGIC + self._current_id)


def _local_key(data_dir: Path) -> str:
    """An embedded install keeps its key beside its data, readable by its owner only."""
    path = data_dir / KEY_FILE
    if not path.exists():
        # Written aside, then linked into place: processes starting together agree on one key
        # and none reads a half-written file.
        data_dir.mkdir(parents=True, exist_ok=True)
        draft = data_dir / f".{KEY_FILE}.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(new_key_text())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process won: use its key
        finally:
            draft.unlink()
    return path.read_text().strip()
