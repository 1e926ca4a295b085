"""URL vetting for `/faultmaven kb add <url>`: schemes, address classes and DNS answers that
point inside the network are refused before any connection is made.

No server is needed: every case here is refused (or classified) before a socket opens; the
fetches that do connect are in tests/integration/test_url_fetch_server.py.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable

import pytest

from engine.core.config import Settings
from engine.knowledge import url_fetch
from engine.knowledge.url_fetch import (
    UnsafeUrl,
    UrlFetchFailed,
    blocked_kind,
    fetch_public_url,
    html_to_text,
)


def fake_dns(
    answers: dict[str, list[str]], calls: list[str] | None = None
) -> Callable[[str, int], Awaitable[list[str]]]:
    """A stand-in for `url_fetch.resolve_host` with fixed answers (and a log of lookups)."""

    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in answers:
            raise OSError(f"unknown host {host}")
        return answers[host]

    return resolve


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fec0::1", "private"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private"),
        ("192.0.2.10", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:a00:5::1", "private"),  # 6to4 of 10.0.0.5
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_classes(address: str, kind: str | None) -> None:
    assert blocked_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://10.0.0.5/wiki", "10.0.0.5"),
        ("http://192.168.0.20:8080/", "192.168.0.20"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[::1]:9000/", "::1"),
        ("http://[fe80::1]/", "fe80::1"),
        ("https://127.0.0.1/", "127.0.0.1"),
        ("http://[::ffff:10.0.0.5]/", "::ffff:a00:5"),
    ],
)
async def test_private_literals_are_refused_with_the_setting_named(url: str, address: str) -> None:
    with pytest.raises(UnsafeUrl) as refused:
        await fetch_public_url(url)
    assert address in refused.value.user_message
    assert "FAULTMAVEN_URL_ALLOW_PRIVATE=true" in refused.value.user_message


async def test_the_message_says_what_kind_of_address() -> None:
    with pytest.raises(UnsafeUrl) as refused:
        await fetch_public_url("http://10.0.0.5/")
    assert refused.value.user_message == (
        "10.0.0.5 points to a private address 10.0.0.5; "
        "set FAULTMAVEN_URL_ALLOW_PRIVATE=true to allow"
    )


async def test_public_name_resolving_to_loopback_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(url_fetch, "resolve_host", fake_dns({"docs.example.com": ["127.0.0.1"]}))
    with pytest.raises(UnsafeUrl) as refused:
        await fetch_public_url("https://docs.example.com/runbook")
    assert "docs.example.com (127.0.0.1)" in refused.value.user_message
    assert "loopback" in refused.value.user_message


async def test_one_private_address_among_public_ones_is_enough_to_refuse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = {"wiki.example.com": ["93.184.216.34", "2606:2800::1", "10.1.2.3"]}
    monkeypatch.setattr(url_fetch, "resolve_host", fake_dns(answers))
    with pytest.raises(UnsafeUrl) as refused:
        await fetch_public_url("https://wiki.example.com/")
    assert "10.1.2.3" in refused.value.user_message


async def test_metadata_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {"metadata.google.internal": ["169.254.169.254"]}
    monkeypatch.setattr(url_fetch, "resolve_host", fake_dns(answers))
    with pytest.raises(UnsafeUrl, match="link-local"):
        await fetch_public_url("http://metadata.google.internal/computeMetadata/v1/")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/runbook.txt",
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "example.com/runbook",
    ],
)
async def test_only_http_and_https(url: str) -> None:
    with pytest.raises(UnsafeUrl) as refused:
        await fetch_public_url(url)
    assert "only http:// and https://" in refused.value.user_message


async def test_a_host_that_does_not_resolve_is_a_fetch_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(url_fetch, "resolve_host", fake_dns({}))
    with pytest.raises(UrlFetchFailed, match=r"could not resolve nowhere\.example"):
        await fetch_public_url("https://nowhere.example/")


def test_html_is_reduced_to_readable_text() -> None:
    page = """<html><head><title> Redis  failover
    runbook </title><style>body { color: red }</style>
    <script>var token = "do-not-index";</script></head>
    <body><h1>Failover</h1><p>Run <code>redis-cli failover</code> &amp; wait.</p>
    <noscript>enable js</noscript><ul><li>check lag</li><li>promote</li></ul></body></html>"""
    text, title = html_to_text(page)
    assert title == "Redis failover runbook"
    assert text.splitlines() == [
        "Failover",
        "Run redis-cli failover & wait.",
        "check lag",
        "promote",
    ]
    assert "do-not-index" not in text and "color" not in text and "enable js" not in text


def test_private_targets_are_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAULTMAVEN_URL_ALLOW_PRIVATE", raising=False)
    assert Settings(_env_file=None).url_allow_private is False  # type: ignore[call-arg]
    monkeypatch.setenv("FAULTMAVEN_URL_ALLOW_PRIVATE", "true")
    assert Settings(_env_file=None).url_allow_private is True  # type: ignore[call-arg]
