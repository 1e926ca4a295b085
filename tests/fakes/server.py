"""The aiohttp lifecycle shared by the fake servers (:mod:`slack`, :mod:`openai`).

Each fake binds port 0 on 127.0.0.1, so the OS picks a free port: tests can run
in parallel and never collide with (or reach) a real service. Subclasses supply
their routes and, when they hold long-lived requests (WebSockets, scripted
delays), release them in :meth:`LoopbackServer._before_cleanup` so ``stop``
never waits for them.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from aiohttp import web


class LoopbackServer:
    """An aiohttp app on ``127.0.0.1:<ephemeral port>``, usable as ``async with``."""

    host = "127.0.0.1"
    #: Largest request body accepted (aiohttp's default is 1 MiB).
    client_max_size = 1024 * 1024
    #: Bound port; ``None`` until :meth:`start`.
    port: int | None = None
    _runner: web.AppRunner | None = None

    def routes(self) -> list[web.RouteDef]:
        """Every route the server answers."""
        raise NotImplementedError

    def _on_start(self) -> None:
        """Hook run by :meth:`start` before serving (e.g. reset per-run state)."""

    async def _before_cleanup(self) -> None:
        """Hook run by :meth:`stop` before the runner shuts down."""

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` (only valid once started)."""
        if self.port is None:
            name = type(self).__name__
            raise RuntimeError(f"{name} is not started; call `await fake.start()` first")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> Self:
        """Bind an ephemeral port on 127.0.0.1 and serve."""
        if self._runner is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        self._on_start()
        app = web.Application(client_max_size=self.client_max_size)
        app.add_routes(self.routes())
        # A short shutdown timeout: long-lived requests are released by
        # _before_cleanup first, so there is nothing left to drain.
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        """Release long-lived requests and shut the server down (idempotent)."""
        if self._runner is None:
            return
        await self._before_cleanup()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
