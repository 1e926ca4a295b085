"""Evidence content is sealed at rest and opens only with a configured key, on its own row."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from engine.core.crypto import EvidenceCipher, UnreadableEvidence, new_key_text, parse_key
from engine.core.errors import ConfigurationError

LOG = b"2026-11-21 14:05:00 ERROR pool exhausted for user alice@example.com\n"


def test_sealed_content_hides_the_text_and_opens_back() -> None:
    cipher = EvidenceCipher(parse_key(new_key_text()))
    sealed = cipher.seal(LOG, row="evidence:1")
    assert b"pool exhausted" not in sealed and b"alice" not in sealed
    assert cipher.open(sealed, row="evidence:1") == LOG
    assert cipher.seal(LOG, row="evidence:1") != sealed, "a fresh nonce every time"


def test_a_blob_moved_to_another_row_or_tampered_with_does_not_open() -> None:
    cipher = EvidenceCipher(parse_key(new_key_text()))
    sealed = cipher.seal(LOG, row="evidence:1")
    with pytest.raises(UnreadableEvidence):
        cipher.open(sealed, row="evidence:2")
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(UnreadableEvidence):
        cipher.open(flipped, row="evidence:1")


def test_after_a_rotation_old_rows_still_open_and_new_ones_use_the_new_key() -> None:
    old, new = parse_key(new_key_text()), parse_key(new_key_text())
    before = EvidenceCipher(old).seal(LOG, row="evidence:1")
    rotated = EvidenceCipher(new, [old])
    assert rotated.open(before, row="evidence:1") == LOG
    assert not rotated.is_current(before)
    assert rotated.is_current(rotated.seal(LOG, row="evidence:1"))
    with pytest.raises(UnreadableEvidence, match="FAULTMAVEN_EVIDENCE_OLD_KEYS"):
        EvidenceCipher(new).open(before, row="evidence:1")


def test_rows_stored_before_encryption_read_as_they_are() -> None:
    assert EvidenceCipher(parse_key(new_key_text())).open(LOG, row="evidence:1") == LOG


@pytest.mark.parametrize("bad", ["", "short", "x" * 60, "!!!notbase64!!!"])
def test_a_bad_key_is_refused_with_how_to_make_one(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="32 bytes in base64"):
        parse_key(bad)


def test_an_embedded_install_makes_its_key_once_readable_by_its_owner(tmp_path: Path) -> None:
    first = EvidenceCipher.from_settings(None, [], tmp_path)
    again = EvidenceCipher.from_settings(None, [], tmp_path)
    assert first.current == again.current
    key_file = tmp_path / "evidence.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["evidence.key"]
