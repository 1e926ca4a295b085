"""The network probes against real servers on loopback: an aiohttp site over HTTP and over
HTTPS with certificates made here (one expiring in 3 days, one expired, one self-signed for
another name), dnsmasq with the records each test needs, and plain TCP ports.

Every target here is on loopback, which the probes refuse unless an http source allows it;
the tests that need to reach them say so with a source (`LAB` covers 127.0.0.1 only), and
the safety tests check the refusals without one. Runs go through the ToolRegistry, so what
is asserted is what a person or a model reads (validated, masked).
"""

from __future__ import annotations

import datetime as dt
import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import dns.rcode
import pytest
from aiohttp import web

from engine.tools.base import ToolRun
from engine.tools.probes import probe_tools
from engine.tools.registry import ToolRegistry
from engine.tools.sources import Source, SourcesError
from tests.probe_servers import (
    Dnsmasq,
    Issued,
    bound_socket,
    closed_port,
    make_ca,
    make_leaf,
    running_dnsmasq,
    scripted_dns,
    silent_udp_port,
)

TOKEN = "s3cret-probe-token"
LAB = Source(name="lab", kind="http", url="http://127.0.0.1", allow_private=True)
REFUSAL = re.compile(r"refused: .*loopback address 127\.0\.0\.1; .*allow_private: true.*hosts")


async def run(sources: list[Source], tool: str, **arguments: Any) -> ToolRun:
    return await ToolRegistry(probe_tools(sources)).run(tool, arguments, requested_by="U1")


# --- servers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca: Issued
    soon: Issued  # signed by the CA, for 127.0.0.1 and localhost, expires in 3 days
    expired: Issued  # signed by the CA, expired 2 days ago
    wrong_name: Issued  # self-signed, for wrong.example.org only


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    now = dt.datetime.now(dt.UTC)
    ca = make_ca(folder, "FaultMaven Test CA")
    return Pki(
        ca=ca,
        soon=make_leaf(
            folder,
            "soon",
            names=["shop.lab.test", "localhost", "127.0.0.1"],
            not_before=now - dt.timedelta(days=87),
            not_after=now + dt.timedelta(days=3, hours=1),
            ca=ca,
        ),
        expired=make_leaf(
            folder,
            "expired",
            names=["old.lab.test", "127.0.0.1"],
            not_before=now - dt.timedelta(days=92),
            not_after=now - dt.timedelta(days=2, hours=1),
            ca=ca,
        ),
        wrong_name=make_leaf(
            folder,
            "wrong",
            names=["wrong.example.org"],
            not_before=now - dt.timedelta(days=1),
            not_after=now + dt.timedelta(days=200),
            ca=None,
        ),
    )


@dataclass
class Site:
    """One app served over HTTP on 127.0.0.1 and 127.0.0.2, and over HTTPS with each cert."""

    http: str = ""  # http://127.0.0.1:port
    other: str = ""  # http://127.0.0.2:port: loopback too, but not covered by LAB
    https: dict[str, str] = field(default_factory=dict)  # cert name → https://127.0.0.1:port
    hits: list[tuple[str, str]] = field(default_factory=list)  # (address served, path)
    tokens: list[str | None] = field(default_factory=list)  # Authorization seen by /whoami


def _app(site: Site) -> web.Application:
    @web.middleware
    async def record(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        served = request.transport.get_extra_info("sockname")[0] if request.transport else "?"
        site.hits.append((served, request.path))
        return await handler(request)

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="all good")

    async def start(request: web.Request) -> web.Response:
        raise web.HTTPFound("/middle")

    async def middle(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/final")

    async def busy(request: web.Request) -> web.Response:
        return web.Response(
            status=503,
            text="upstream overloaded:   try again later",
            headers={"Retry-After": "120"},
        )

    async def whoami(request: web.Request) -> web.Response:
        site.tokens.append(request.headers.get("Authorization"))
        if request.headers.get("Authorization") == f"Bearer {TOKEN}":
            return web.Response(text="hello, probe")
        return web.Response(status=401, text="who are you?")

    async def to(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["target"])

    app = web.Application(middlewares=[record])
    app.router.add_get("/ok", ok)
    app.router.add_get("/start", start)
    app.router.add_get("/middle", middle)
    app.router.add_get("/final", ok)
    app.router.add_get("/busy", busy)
    app.router.add_get("/whoami", whoami)
    app.router.add_get("/to", to)
    return app


def _tls(issued: Issued) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(issued.cert_file, issued.key_file)
    return context


@pytest.fixture
async def site(pki: Pki) -> AsyncIterator[Site]:
    served = Site()
    runner = web.AppRunner(_app(served))
    await runner.setup()
    sites: list[tuple[str, str, ssl.SSLContext | None, str]] = [
        ("http", "127.0.0.1", None, ""),
        ("other", "127.0.0.2", None, ""),
        ("https", "127.0.0.1", _tls(pki.soon), "soon"),
        ("https", "127.0.0.1", _tls(pki.expired), "expired"),
        ("https", "127.0.0.1", _tls(pki.wrong_name), "wrong_name"),
    ]
    for kind, host, context, cert in sites:
        sock = bound_socket(host)
        port = sock.getsockname()[1]
        await web.SockSite(runner, sock, ssl_context=context).start()
        if kind == "https":
            served.https[cert] = f"https://{host}:{port}"
        else:
            setattr(served, kind, f"http://{host}:{port}")
    try:
        yield served
    finally:
        await runner.cleanup()


@pytest.fixture(scope="module")
def dnsmasq() -> Iterator[Dnsmasq]:
    records = [
        "--host-record=shop.lab.test,127.0.0.1",
        "--cname=www.lab.test,shop.lab.test",
        "--srv-host=_https._tcp.lab.test,shop.lab.test,8443,0,5",
        "--local=/lab.test/",  # anything else under lab.test does not exist
        # A public-looking name whose answer is loopback: what a rebinding attacker serves.
        "--host-record=status.example.com,127.0.0.1",
    ]
    with running_dnsmasq(records) as server:
        yield server


def corp_dns(dnsmasq: Dnsmasq, **changes: Any) -> Source:
    """An http source that only names a nameserver: it opens nothing by itself."""
    fields: dict[str, Any] = {
        "name": "corpdns",
        "kind": "http",
        "options": {"nameserver": dnsmasq.nameserver},
    }
    return Source(**(fields | changes))


# --- http_probe -------------------------------------------------------------------------------


async def test_status_latency_and_headers_are_reported(site: Site) -> None:
    probe = await run([LAB], "http_probe", url=f"{site.http}/ok")
    assert probe.ok, probe.error
    first = probe.output.splitlines()[0]
    assert first == f"200 OK from {site.http}/ok"
    assert f"GET {site.http}/ok → 200 OK · 127.0.0.1 · connect " in probe.output
    assert "first byte" in probe.output and "total" in probe.output
    assert "content-type: text/plain" in probe.output
    assert "body:" not in probe.output  # a 2xx body is not shown
    assert probe.query == f"curl -sv -L {site.http}/ok"


async def test_the_redirect_chain_is_listed_hop_by_hop(site: Site) -> None:
    probe = await run([LAB], "http_probe", url=f"{site.http}/start")
    assert probe.ok, probe.error
    lines = probe.output.splitlines()
    assert lines[0] == f"200 OK from {site.http}/final after 2 redirects"
    hops = [line for line in lines if line.startswith("GET ")]
    assert [h.split(" · ")[0] for h in hops] == [
        f"GET {site.http}/start → 302 Found",
        f"GET {site.http}/middle → 301 Moved Permanently",
        f"GET {site.http}/final → 200 OK",
    ]
    assert "location: /middle" in probe.output
    assert [path for _, path in site.hits] == ["/start", "/middle", "/final"]


async def test_redirects_are_not_followed_when_asked_not_to(site: Site) -> None:
    probe = await run([LAB], "http_probe", url=f"{site.http}/start", follow_redirects=False)
    assert probe.output.splitlines()[0] == f"302 Found from {site.http}/start"
    assert "location: /middle" in probe.output
    assert [path for _, path in site.hits] == ["/start"]
    assert probe.query == f"curl -sv {site.http}/start"


async def test_a_503_shows_retry_after_and_the_start_of_its_body(site: Site) -> None:
    probe = await run([LAB], "http_probe", url=f"{site.http}/busy")
    assert probe.output.splitlines()[0] == f"503 Service Unavailable from {site.http}/busy"
    assert "retry-after: 120" in probe.output
    assert "body: upstream overloaded: try again later" in probe.output


async def test_head_reads_no_body(site: Site) -> None:
    probe = await run([LAB], "http_probe", url=f"{site.http}/busy", method="HEAD")
    assert f"HEAD {site.http}/busy → 503 Service Unavailable" in probe.output
    assert "body:" not in probe.output
    assert probe.query == f"curl -sv -I -L {site.http}/busy"


async def test_only_get_and_head(site: Site) -> None:
    probe = await run([LAB], "http_probe", url=f"{site.http}/ok", method="POST")
    assert not probe.ok
    assert "method" in (probe.error or "")
    assert site.hits == []


async def test_a_certificate_expiring_in_3_days_is_flagged(site: Site, pki: Pki) -> None:
    trusted = LAB.model_copy(update={"options": {"ca_file": str(pki.ca.cert_file)}})
    probe = await run([trusted], "http_probe", url=f"{site.https['soon']}/ok", source="lab")
    assert probe.ok, probe.error
    port = site.https["soon"].rsplit(":", 1)[1]
    assert probe.output.splitlines()[0] == f"200 OK from {site.https['soon']}/ok"
    assert "connect+TLS" in probe.output
    assert re.search(
        rf"TLS certificate of 127\.0\.0\.1:{port} \(TCP [\d.,]+ ms, handshake [\d.,]+ ms\):",
        probe.output,
    )
    assert "subject: shop.lab.test · names: shop.lab.test, localhost, 127.0.0.1" in probe.output
    assert "issuer: FaultMaven Test CA (FaultMaven tests)" in probe.output
    assert "(3 days left)" in probe.output
    assert re.search(r"⚠ expires in 3 days, on \d{4}-\d\d-\d\d \d\d:\d\d UTC", probe.output)
    assert "does not verify" not in probe.output and "mismatch" not in probe.output
    assert probe.query == f"curl -sv -L --cacert {pki.ca.cert_file} {site.https['soon']}/ok"


async def test_a_certificate_from_an_unknown_ca_is_shown_and_said_not_to_verify(
    site: Site,
) -> None:
    probe = await run([LAB], "http_probe", url=f"{site.https['soon']}/ok")
    assert probe.ok, probe.error
    assert "⚠ does not verify: unable to get local issuer certificate" in probe.output
    assert "subject: shop.lab.test" in probe.output  # still read and shown
    assert "(requested without verifying the certificate)" in probe.output
    assert probe.output.splitlines()[0] == f"200 OK from {site.https['soon']}/ok"


async def test_an_expired_certificate_is_said_to_be_expired(site: Site, pki: Pki) -> None:
    trusted = LAB.model_copy(update={"options": {"ca_file": str(pki.ca.cert_file)}})
    probe = await run([trusted], "http_probe", url=f"{site.https['expired']}/ok", source="lab")
    assert probe.ok, probe.error
    assert re.search(r"⚠ EXPIRED 2 days ago, on \d{4}-\d\d-\d\d", probe.output)
    assert "⚠ does not verify: certificate has expired" in probe.output
    assert "subject: old.lab.test" in probe.output
    assert "days left" not in probe.output


async def test_a_self_signed_certificate_for_another_name(site: Site) -> None:
    probe = await run([LAB], "http_probe", url=f"{site.https['wrong_name']}/ok")
    assert probe.ok, probe.error
    assert "issuer: wrong.example.org (FaultMaven tests) (self-signed)" in probe.output
    assert "⚠ self-signed" in probe.output
    assert (
        "⚠ name mismatch: 127.0.0.1 is not among the certificate's names (wrong.example.org)"
        in probe.output
    )
    assert "⚠ does not verify: self-signed certificate" in probe.output
    assert "✓" not in probe.output


async def test_the_token_goes_only_to_hosts_its_source_covers(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROBE_TOKEN", TOKEN)
    api = Source(
        name="api", kind="http", url=site.http, allow_private=True, credentials_env="PROBE_TOKEN"
    )
    other_lab = Source(
        name="other", kind="http", allow_private=True, options={"hosts": ["127.0.0.2"]}
    )
    probe = await run([api, other_lab], "http_probe", url=f"{site.http}/whoami", source="api")
    assert probe.output.splitlines()[0] == f"200 OK from {site.http}/whoami"
    assert probe.query == f'curl -sv -L --oauth2-bearer "$PROBE_TOKEN" {site.http}/whoami'
    assert TOKEN not in probe.output
    # A redirect to a host the source does not cover gets no token.
    away = f"{site.http}/to?target={site.other}/whoami"
    probe = await run([api, other_lab], "http_probe", url=away, source="api")
    assert (
        probe.output.splitlines()[0]
        == f"401 Unauthorized from {site.other}/whoami after 1 redirect"
    )
    assert site.tokens == [f"Bearer {TOKEN}", None]


async def test_an_untrusted_server_gets_no_token(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROBE_TOKEN", TOKEN)
    api = LAB.model_copy(update={"credentials_env": "PROBE_TOKEN"})  # no CA file: not trusted
    probe = await run([api], "http_probe", url=f"{site.https['soon']}/whoami", source="lab")
    assert probe.output.splitlines()[0] == f"401 Unauthorized from {site.https['soon']}/whoami"
    assert "(requested without verifying the certificate, and without the source's token)" in (
        probe.output
    )
    assert site.tokens == [None]


# --- safety: what a probe may reach -----------------------------------------------------------


@pytest.mark.parametrize("tool", ["http_probe", "tcp_connect"])
async def test_loopback_is_refused_without_a_source_that_allows_it(site: Site, tool: str) -> None:
    port = int(site.http.rsplit(":", 1)[1])
    arguments = (
        {"url": f"{site.http}/ok"} if tool == "http_probe" else {"host": "127.0.0.1", "port": port}
    )
    probe = await run([], tool, **arguments)
    assert not probe.ok
    assert REFUSAL.search(probe.error or ""), probe.error
    assert site.hits == []


@pytest.mark.parametrize(
    "source",
    [
        Source(name="lab", kind="http", url="http://127.0.0.1"),  # allow_private not set
        Source(
            name="lab",
            kind="http",
            url="http://grafana.corp.example",
            allow_private=True,
            options={"hosts": ["10.0.0.0/8", "*.corp.example", "127.0.0.2"]},
        ),
    ],
    ids=["not-allowing-private", "covering-other-hosts"],
)
async def test_a_source_that_does_not_cover_the_target_opens_nothing(
    site: Site, source: Source
) -> None:
    probe = await run([source], "http_probe", url=f"{site.http}/ok")
    assert REFUSAL.search(probe.error or ""), probe.error
    assert site.hits == []


async def test_metadata_and_private_literals_are_refused() -> None:
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3:8080/",
        "http://[::1]/",
    ):
        probe = await run([LAB], "http_probe", url=url)
        assert not probe.ok
        assert re.search(r"refused: .* (link-local|private|loopback) address", probe.error or "")


async def test_a_redirect_to_a_loopback_address_no_source_covers_is_not_followed(
    site: Site,
) -> None:
    probe = await run([LAB], "http_probe", url=f"{site.http}/to?target={site.other}/ok")
    assert probe.ok, probe.error  # the first hop is an answer worth reading
    assert f"GET {site.http}/to?target={site.other}/ok → 302 Found" in probe.output
    assert (
        f"✗ redirect to {site.other}/ok not followed: refused: 127.0.0.2 points to a "
        "loopback address 127.0.0.2" in probe.output
    )
    assert [address for address, _ in site.hits] == ["127.0.0.1"]


async def test_a_redirect_to_another_scheme_is_not_followed(site: Site) -> None:
    probe = await run([LAB], "http_probe", url=f"{site.http}/to?target=file:///etc/passwd")
    assert (
        "✗ redirect to file:///etc/passwd not followed: 'file:///etc/passwd' is not an "
        "http:// or https:// URL with a host" in probe.output
    )


@pytest.mark.parametrize("tool", ["http_probe", "tcp_connect"])
async def test_a_name_whose_dns_answer_is_loopback_is_refused(
    site: Site, dnsmasq: Dnsmasq, tool: str
) -> None:
    port = int(site.http.rsplit(":", 1)[1])
    arguments: dict[str, Any] = (
        {"url": f"http://status.example.com:{port}/ok"}
        if tool == "http_probe"
        else {"host": "status.example.com", "port": port}
    )
    # LAB allows 127.0.0.1 by address, but only the source named here resolves the name:
    # corpdns allows nothing, so its loopback answer is refused.
    probe = await run([corp_dns(dnsmasq)], tool, source="corpdns", **arguments)
    assert not probe.ok
    assert "refused: status.example.com (127.0.0.1) points to a loopback address" in (
        probe.error or ""
    )
    assert site.hits == []


@pytest.mark.parametrize("tool", ["http_probe", "tcp_connect"])
async def test_a_name_is_reached_when_a_source_allows_it(
    site: Site, dnsmasq: Dnsmasq, tool: str
) -> None:
    port = int(site.http.rsplit(":", 1)[1])
    allowing = corp_dns(
        dnsmasq,
        allow_private=True,
        options={"nameserver": dnsmasq.nameserver, "hosts": ["*.example.com"]},
    )
    arguments: dict[str, Any] = (
        {"url": f"http://status.example.com:{port}/ok"}
        if tool == "http_probe"
        else {"host": "status.example.com", "port": port}
    )
    probe = await run([allowing], tool, source="corpdns", **arguments)
    assert probe.ok, probe.error
    if tool == "http_probe":
        assert probe.output.splitlines()[0] == f"200 OK from http://status.example.com:{port}/ok"
        assert f"--resolve status.example.com:{port}:127.0.0.1" in (probe.query or "")
        assert site.hits == [("127.0.0.1", "/ok")]
    else:
        assert "✓ 127.0.0.1: connected in" in probe.output


async def test_an_unknown_source_is_refused_with_the_ones_there_are() -> None:
    probe = await run([LAB], "http_probe", url="https://example.com/", source="prod")
    assert probe.error == "no http source named 'prod' may be used here; http sources: lab"


# --- dns_lookup -------------------------------------------------------------------------------


async def test_an_a_record_with_its_cname_chain_and_ttls(dnsmasq: Dnsmasq) -> None:
    probe = await run([corp_dns(dnsmasq)], "dns_lookup", name="www.lab.test", resolver="corpdns")
    assert probe.ok, probe.error
    assert probe.output.splitlines() == [
        f"www.lab.test A — the nameserver {dnsmasq.nameserver}",
        "  CNAME chain: www.lab.test → shop.lab.test",
        "  www.lab.test. 300 CNAME shop.lab.test.",
        "  shop.lab.test. 300 A 127.0.0.1",
    ]
    assert probe.query == f"dig @127.0.0.1 -p {dnsmasq.port} www.lab.test A"


async def test_an_srv_record_names_its_fields(dnsmasq: Dnsmasq) -> None:
    probe = await run(
        [corp_dns(dnsmasq)],
        "dns_lookup",
        name="_https._tcp.lab.test",
        type="SRV",
        resolver="corpdns",
    )
    assert "_https._tcp.lab.test. 300 SRV priority 0 weight 5 port 8443 → shop.lab.test." in (
        probe.output
    )


async def test_a_cname_lookup_answers_the_alias_itself(dnsmasq: Dnsmasq) -> None:
    probe = await run(
        [corp_dns(dnsmasq)], "dns_lookup", name="www.lab.test", type="CNAME", resolver="corpdns"
    )
    assert "  www.lab.test. 300 CNAME shop.lab.test." in probe.output.splitlines()


async def test_nxdomain_and_no_records_are_said_plainly(dnsmasq: Dnsmasq) -> None:
    sources = [corp_dns(dnsmasq)]
    missing = await run(sources, "dns_lookup", name="nope.lab.test", resolver="corpdns")
    assert missing.ok
    assert (
        f"NXDOMAIN: nope.lab.test does not exist (said by the nameserver {dnsmasq.nameserver})"
        in missing.output
    )
    empty = await run(sources, "dns_lookup", name="shop.lab.test", type="AAAA", resolver="corpdns")
    assert "shop.lab.test. exists but has no AAAA records" in empty.output


async def test_servfail_is_said_plainly() -> None:
    async with scripted_dns(dns.rcode.SERVFAIL) as nameserver:
        source = Source(name="broken", kind="http", options={"nameserver": nameserver})
        probe = await run([source], "dns_lookup", name="api.corp.test", resolver=nameserver)
    assert probe.ok, probe.error
    assert f"SERVFAIL: the nameserver {nameserver} could not answer for api.corp.test" in (
        probe.output
    )


async def test_a_resolver_that_does_not_answer_times_out() -> None:
    with silent_udp_port() as nameserver:
        source = Source(name="dead", kind="http", timeout_s=0.5, options={"nameserver": nameserver})
        probe = await run([source], "dns_lookup", name="api.corp.test", resolver="dead")
    assert probe.ok, probe.error
    assert f"timeout: the nameserver {nameserver} did not answer within 0.5 s" in probe.output


async def test_only_configured_nameservers_may_be_asked(dnsmasq: Dnsmasq) -> None:
    probe = await run(
        [corp_dns(dnsmasq), LAB], "dns_lookup", name="www.lab.test", resolver="8.8.8.8"
    )
    assert not probe.ok
    assert probe.error == (
        "'8.8.8.8' is not a resolver this tool may ask: it asks the system's resolver, or the "
        f"nameserver of an http source an admin configured: corpdns ({dnsmasq.nameserver})"
    )


# --- tcp_connect ------------------------------------------------------------------------------


async def test_an_open_and_a_closed_port(site: Site) -> None:
    port = int(site.http.rsplit(":", 1)[1])
    loopback = Source(
        name="lo", kind="http", allow_private=True, options={"hosts": ["127.0.0.0/8"]}
    )
    opened = await run([loopback], "tcp_connect", host="127.0.0.1", port=port)
    assert opened.ok, opened.error
    assert opened.output.splitlines()[0] == f"tcp 127.0.0.1:{port} — open on 1 of 1 address"
    assert re.search(r"✓ 127\.0\.0\.1: connected in [\d.,]+ ms", opened.output)
    assert opened.query == f"nc -vz 127.0.0.1 {port}"

    shut = closed_port()
    closed = await run([loopback], "tcp_connect", host="127.0.0.1", port=shut)
    assert closed.ok, closed.error
    assert closed.output.splitlines() == [
        f"tcp 127.0.0.1:{shut} — not reachable",
        "  ✗ 127.0.0.1: refused: nothing listens on this port (or a firewall rejects it)",
    ]


@pytest.mark.parametrize(
    ("host", "said"),
    [
        ("db.corp:5432", "give the host without a port"),
        ("https://db.corp", "not a URL"),
        ("db corp", "is not a host name"),
    ],
)
async def test_a_host_that_is_not_a_host_is_refused(host: str, said: str) -> None:
    probe = await run([], "tcp_connect", host=host, port=5432)
    assert said in (probe.error or "")


# --- the factory ------------------------------------------------------------------------------


async def test_the_probes_exist_without_any_source() -> None:
    assert [tool.name for tool in probe_tools([])] == ["http_probe", "dns_lookup", "tcp_connect"]


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"hosts": ["10.0.0.0/33"]}, "options.hosts: '10.0.0.0/33' is not an address range"),
        ({"hosts": "10.0.0.0/8"}, "options.hosts must be a list of host names or CIDRs"),
        ({"nameserver": "dns.corp:53"}, "a nameserver is given by its IP address, not a name"),
    ],
)
def test_wrong_probe_options_are_refused_with_the_field(options: dict[str, Any], said: str) -> None:
    with pytest.raises(SourcesError, match=re.escape(said)) as refused:
        probe_tools([Source(name="lab", kind="http", options=options)])
    assert "source 'lab'" in refused.value.user_message
