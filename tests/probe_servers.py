"""Real servers for the network probes' tests, made by the tests on loopback.

- certificates made here with `cryptography`: a CA, leaves it signs, a self-signed one;
- `Dnsmasq`: /usr/sbin/dnsmasq on a free loopback port with the records a test gives;
- `ScriptedDns`: a UDP nameserver that answers every query with one response code
  (SERVFAIL), and `silent_udp_port` a socket that never answers (a resolver that times out).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DNSMASQ = "/usr/sbin/dnsmasq"
READY_TIMEOUT_S = 10.0


# --- certificates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "FaultMaven tests"),
        ]
    )


def _alt_names(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _write(
    folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> Issued:
    cert_file, key_file = folder / f"{stem}.pem", folder / f"{stem}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Issued(cert, key, cert_file, key_file)


def make_ca(folder: Path, common_name: str) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return _write(folder, "ca", cert, key)


def make_leaf(
    folder: Path,
    stem: str,
    *,
    names: list[str],
    not_before: dt.datetime,
    not_after: dt.datetime,
    ca: Issued | None,
) -> Issued:
    """A server certificate for `names`, signed by `ca` (self-signed when None)."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca.cert.subject if ca else _name(names[0]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(_alt_names(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    )
    if ca is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    cert = builder.sign(ca.key if ca else key, hashes.SHA256())
    return _write(folder, stem, cert, key)


# --- ports ------------------------------------------------------------------------------------


def bound_socket(host: str = "127.0.0.1") -> socket.socket:
    """A listening-ready TCP socket on a free port of `host` (the server takes it as is)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _free_udp_and_tcp_port() -> int:
    """A loopback port free for both UDP and TCP (dnsmasq listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket() as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free loopback port for UDP and TCP")


# --- DNS --------------------------------------------------------------------------------------


def _answers(port: int, name: str) -> bool:
    query = dns.message.make_query(name, "A")
    try:
        dns.query.udp(query, "127.0.0.1", port=port, timeout=0.5)
    except (OSError, dns.exception.Timeout):
        return False
    return True


@dataclass
class Dnsmasq:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextlib.contextmanager
def running_dnsmasq(records: list[str], *, ttl: int = 300) -> Iterator[Dnsmasq]:
    """dnsmasq answering only `records` (its options: --host-record=..., --cname=...);
    skips the test when dnsmasq is not installed."""
    if shutil.which(DNSMASQ) is None:
        pytest.skip(f"{DNSMASQ} is not installed (apt-get install dnsmasq-base)")
    port = _free_udp_and_tcp_port()
    argv = [
        DNSMASQ, "--no-daemon", f"--port={port}", "--listen-address=127.0.0.1",
        "--bind-interfaces", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
        f"--local-ttl={ttl}", "--log-facility=-", *records,
    ]  # fmt: skip
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not _answers(port, "ready.invalid"):
            if process.poll() is not None:
                said = process.stdout.read().decode(errors="replace") if process.stdout else ""
                raise RuntimeError(f"dnsmasq exited ({process.returncode}): {said}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"dnsmasq did not answer on port {port} in {READY_TIMEOUT_S} s")
            time.sleep(0.05)
        yield Dnsmasq(port, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


class _Rcode(asyncio.DatagramProtocol):
    def __init__(self, rcode: dns.rcode.Rcode) -> None:
        self.rcode = rcode
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # the datagram one, at run time

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        response.set_rcode(self.rcode)
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)


@contextlib.asynccontextmanager
async def scripted_dns(rcode: dns.rcode.Rcode) -> AsyncIterator[str]:
    """A nameserver on a loopback UDP port answering every query with `rcode`; yields
    its "127.0.0.1:port"."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Rcode(rcode), local_addr=("127.0.0.1", 0)
    )
    try:
        yield f"127.0.0.1:{transport.get_extra_info('sockname')[1]}"
    finally:
        transport.close()


@contextlib.contextmanager
def silent_udp_port() -> Iterator[str]:
    """A UDP socket that takes queries and never answers; yields its "127.0.0.1:port"."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"
