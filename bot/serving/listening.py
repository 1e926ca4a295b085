"""Start an aiohttp application on a port, with a clear message when the port is taken."""

from __future__ import annotations

from aiohttp import web

from engine.core.errors import ConfigurationError


async def listen(
    app: web.Application, port: int, host: str | None, *, refused: str
) -> tuple[web.AppRunner, int]:
    """Serve `app` on `port` (0: any free one) of `host` (None: every interface); the runner
    and the port bound. `refused` is the advice when the port cannot be had, formatted with
    `port` and `reason`."""
    # shutdown_timeout: a request never keeps a stopping process for long.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigurationError(refused.format(port=port, reason=exc.strerror)) from exc
    return runner, int(runner.addresses[0][1])
