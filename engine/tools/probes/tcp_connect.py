"""tcp_connect: whether a port accepts connections, on each address of its host, and how fast.

Each vetted address is tried at once (so a dead IPv6 address does not hide a live IPv4 one,
and a run never waits the time limit once per address); nothing is sent: the connection is
closed as soon as it opens.
"""

from __future__ import annotations

import asyncio
import errno
import shlex
import time
from contextlib import suppress
from typing import ClassVar

from pydantic import BaseModel, Field

from engine.tools.base import ToolAnswer
from engine.tools.probes.reach import DEFAULT_TIMEOUT_S, Reach, host_argument

_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EHOSTDOWN, errno.EADDRNOTAVAIL}


class TcpConnectParameters(BaseModel):
    host: str = Field(min_length=1, max_length=255, description="a host name or IP address")
    port: int = Field(ge=1, le=65535)
    source: str | None = Field(
        default=None, description="an http source whose nameserver resolves the host"
    )


async def _try(address: str, port: int, timeout_s: float) -> tuple[bool, str]:
    """(connected, what happened) for one address."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout_s):
            _, writer = await asyncio.open_connection(address, port)
    except TimeoutError:
        return False, f"timeout: no answer within {timeout_s:g} s (filtered, or the host is down)"
    except ConnectionRefusedError:
        return False, "refused: nothing listens on this port (or a firewall rejects it)"
    except OSError as exc:
        why = (exc.strerror or str(exc)).lower()
        if exc.errno in _UNREACHABLE:
            return False, f"unreachable: {why}"
        return False, f"failed: {why}"
    elapsed = time.monotonic() - started
    writer.close()
    with suppress(OSError):
        await writer.wait_closed()
    ms = elapsed * 1000
    return True, f"connected in {ms:.1f} ms" if ms < 10 else f"connected in {ms:,.0f} ms"


class TcpConnect:
    name: ClassVar[str] = "tcp_connect"
    description: ClassVar[str] = (
        "Open a TCP connection to host:port and report the connect time, or the error "
        "(refused, timeout, unreachable), for each address of the host. Private and loopback "
        "targets only where an admin allows them."
    )
    parameters: ClassVar[type[BaseModel]] = TcpConnectParameters

    def __init__(self, reach: Reach) -> None:
        self.reach = reach

    async def answer(self, arguments: TcpConnectParameters) -> ToolAnswer:
        host = host_argument(arguments.host)
        via = self.reach.pick(arguments.source)
        query = f"nc -vz {shlex.quote(host)} {arguments.port}"
        addresses = await self.reach.vetted(host, arguments.port, via)
        timeout_s = via.timeout_s if via else DEFAULT_TIMEOUT_S
        results = await asyncio.gather(
            *(_try(address, arguments.port, timeout_s) for address in addresses)
        )
        opened = sum(ok for ok, _ in results)
        count = f"{len(addresses)} address" + ("" if len(addresses) == 1 else "es")
        verdict = f"open on {opened} of {count}" if opened else "not reachable"

        lines = [f"tcp {host}:{arguments.port} — {verdict}"]
        for address, (ok, said) in zip(addresses, results, strict=True):
            mark = "✓" if ok else "✗"
            lines.append(f"  {mark} {address}: {said}")
        failed = next((said for ok, said in results if not ok), "")
        facts = {"connected": opened > 0, "error": "" if opened else failed}
        return ToolAnswer(text="\n".join(lines), query=query, facts=facts)
