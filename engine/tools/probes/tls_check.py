"""One TLS handshake with a server, to see its certificate and whether it verifies.

Done on its own connection, before the HTTP request: the certificate is what matters most
when the request would fail because of it. When the verifying handshake fails on the
certificate, a second one that does not verify reads the certificate anyway, so an expired
or self-signed certificate is still shown, with the reason it is not trusted.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from contextlib import suppress
from dataclasses import dataclass

from engine.core.addresses import parse_ip


@dataclass
class TlsSeen:
    peer: str | None = None  # the address that answered
    certificate: bytes = b""  # DER
    verify_error: str | None = None  # why it does not verify; None when it does
    tcp_s: float | None = None
    handshake_s: float | None = None
    error: str | None = None  # no handshake at all: refused, timeout, not TLS


def _unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def _handshake(
    address: str, port: int, context: ssl.SSLContext, server_name: str | None, timeout_s: float
) -> tuple[bytes, float, float]:
    """(certificate, TCP seconds, handshake seconds); raises what the connection raised."""
    started = time.monotonic()
    async with asyncio.timeout(timeout_s):
        _, writer = await asyncio.open_connection(address, port)
    connected = time.monotonic()
    try:
        async with asyncio.timeout(timeout_s):
            await writer.start_tls(context, server_hostname=server_name)
        done = time.monotonic()
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        return bytes(der or b""), connected - started, done - connected
    finally:
        writer.close()
        with suppress(OSError, ssl.SSLError, TimeoutError):
            async with asyncio.timeout(1):
                await writer.wait_closed()


async def check_tls(
    host: str, addresses: list[str], port: int, context: ssl.SSLContext, timeout_s: float
) -> TlsSeen:
    """The first address that completes a handshake: its certificate and verdict."""
    # A name is sent as SNI and checked against the certificate; an address is checked
    # against its IP names (no SNI is sent for one).
    server_name = host
    failures: list[str] = []
    for address in addresses:
        seen = TlsSeen(peer=address)
        try:
            der, seen.tcp_s, seen.handshake_s = await _handshake(
                address, port, context, server_name, timeout_s
            )
            seen.certificate = der
            return seen
        except ssl.SSLCertVerificationError as exc:
            seen.verify_error = str(exc.verify_message or exc).rstrip(".")
        except TimeoutError:
            failures.append(f"{address}: no answer within {timeout_s:g} s")
            continue
        except ssl.SSLError as exc:
            failures.append(f"{address}: TLS handshake failed ({exc.reason or exc})")
            continue
        except OSError as exc:
            failures.append(f"{address}: {(exc.strerror or str(exc)).lower()}")
            continue
        unverified_name = None if parse_ip(host) is not None else host
        with suppress(OSError, ssl.SSLError, TimeoutError):
            der, seen.tcp_s, seen.handshake_s = await _handshake(
                address, port, _unverified(), unverified_name, timeout_s
            )
            seen.certificate = der
        return seen
    return TlsSeen(error=f"no TLS handshake with {host}:{port}: " + "; ".join(failures))
