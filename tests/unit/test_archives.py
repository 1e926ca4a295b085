"""Archives: members come out one by one; bombs, corruption and deep nesting are refused."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile

import pytest

from engine.core.errors import EvidenceRejected
from engine.evidence.archives import ArchiveLimits, archive_kind, expand

LOG = b"2026-11-21 14:00:00 ERROR boom\n2026-11-21 14:00:01 INFO ok\n"


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def make_tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def test_zip_members_are_read_with_their_paths() -> None:
    out = expand("logs.zip", make_zip({"app/checkout.log": LOG, "db.log": LOG * 2, "dir/": b""}))
    assert [(m.path, m.data) for m in out.members] == [
        ("logs.zip/app/checkout.log", LOG),
        ("logs.zip/db.log", LOG * 2),
    ]


def test_tar_gz_and_single_file_compressions() -> None:
    members = expand("bundle.tar.gz", make_tar_gz({"a.log": LOG, "b.log": LOG})).members
    assert [m.path for m in members] == ["bundle.tar/a.log", "bundle.tar/b.log"]
    for name, data in [
        ("app.log.gz", gzip.compress(LOG)),
        ("app.log.bz2", bz2.compress(LOG)),
        ("app.log.xz", lzma.compress(LOG)),
    ]:
        [member] = expand(name, data).members
        assert member.path == "app.log" and member.data == LOG


def test_nested_archives_are_opened() -> None:
    inner = make_zip({"deep.log": LOG})
    outer = make_zip({"inner.zip": inner, "top.log": LOG})
    assert [m.path for m in expand("outer.zip", outer).members] == [
        "outer.zip/inner.zip/deep.log",
        "outer.zip/top.log",
    ]


def test_a_zip_bomb_is_refused_before_it_fills_memory() -> None:
    bomb = make_zip({"zeros.log": bytes(300 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    with pytest.raises(EvidenceRejected, match=r"zip bomb|expands to more than"):
        expand("bomb.zip", bomb)


def test_gzip_bomb_and_ratio_limit() -> None:
    with pytest.raises(EvidenceRejected, match="zip bomb"):
        expand("z.log.gz", gzip.compress(bytes(50 * 1024 * 1024)))


def test_truncated_gzip_gets_a_clear_message() -> None:
    data = gzip.compress(LOG * 1000)
    with pytest.raises(EvidenceRejected, match=r"truncated|corrupt"):
        expand("app.log.gz", data[: len(data) // 2])


def test_corrupt_zip_gets_a_clear_message() -> None:
    data = make_zip({"a.log": LOG * 100})
    with pytest.raises(EvidenceRejected, match="corrupt"):
        expand("a.zip", data[:40] + b"\x00" * 50 + data[90:])


def test_limits_on_members_and_depth() -> None:
    many = make_zip({f"{i}.log": LOG for i in range(12)})
    with pytest.raises(EvidenceRejected, match="more than 10 files"):
        expand("many.zip", many, ArchiveLimits(max_members=10))
    nested = LOG
    for _ in range(5):
        nested = gzip.compress(nested)
    with pytest.raises(EvidenceRejected, match="nests archives more than 3 deep"):
        expand("deep.gz", nested)


def test_kind_comes_from_content_not_name() -> None:
    assert archive_kind(gzip.compress(LOG)) == "gzip"
    assert archive_kind(make_zip({"a": LOG})) == "zip"
    assert archive_kind(LOG) is None
