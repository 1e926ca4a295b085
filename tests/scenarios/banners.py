"""Start-up and shut-down lines of a container, per stack: Spring Boot (checkout, payments),
Node (cart), Go (the others; inventory also says it reached its database)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tests.scenarios.sim import Sim

JAVA = "com.shopfast"


@dataclass(frozen=True)
class Said:
    """One line of a banner, `at` seconds after the container started (from the end if
    `from_end`). Strings are format strings of service, version, app, took and running."""

    at: float
    msg: str
    logger: str = ""
    thread: str = ""
    fields: Mapping[str, object] = field(default_factory=dict)
    from_end: bool = False


@dataclass(frozen=True)
class Banner:
    """A container's start-up or shut-down lines, over a time drawn from `takes`."""

    takes: tuple[float, float] | float
    lines: tuple[Said, ...]

    def write(self, sim: Sim, service: str, pod: str, t: float, version: str = "") -> float:
        """Logs the lines from `t` on; returns when it is done."""
        takes = self.takes
        done = t + (sim.rng.uniform(*takes) if isinstance(takes, tuple) else takes)
        names = {
            "service": service,
            "version": version,
            "app": service.title() + "Application",
            "took": done - t,
            "running": done - t + 0.8,
        }
        for said in self.lines:
            at = (done if said.from_end else t) + said.at
            fields = {
                k: v.format(**names) if isinstance(v, str) else v for k, v in said.fields.items()
            }
            msg, logger = said.msg.format(**names), said.logger.format(**names)
            sim.log(
                service,
                at,
                "INFO",
                msg,
                pod=pod,
                logger=logger,
                thread=said.thread,
                stack=(),
                **fields,
            )
        return done


SPRING_APP = JAVA + ".{service}.{app}"
SPRING_START = Banner(
    (9, 14),
    (
        Said(0.0, "Starting {app} v{version} using Java 21.0.4 with PID 1", SPRING_APP, "main"),
        Said(0.05, 'The following 1 profile is active: "prod"', SPRING_APP, "main"),
        Said(4.1, "HikariPool-1 - Starting...", "com.zaxxer.hikari.HikariDataSource", "main"),
        Said(4.4, "HikariPool-1 - Start completed.", "com.zaxxer.hikari.HikariDataSource", "main"),
        Said(
            -0.3,
            "Tomcat started on port 8080 (http) with context path '/'",
            "o.s.b.w.embedded.tomcat.TomcatWebServer",
            "main",
            from_end=True,
        ),
        Said(
            0.0,
            "Started {app} in {took:.3f} seconds (process running for {running:.3f})",
            SPRING_APP,
            "main",
            from_end=True,
        ),
    ),
)
NODE_START = Banner(
    (1.5, 3),
    (
        Said(0.0, "cart-service v{version} starting", fields={"node": "v20.17.0"}),
        Said(0.8, "redis connected", fields={"host": "cart-cache", "port": 6379}),
        Said(0.0, "server listening", fields={"port": 8080}, from_end=True),
    ),
)
GO_STARTING = Said(
    0.0, "starting", "cmd/main.go:41", fields={"version": "{version}", "go": "go1.22.6"}
)
GO_LISTENING = Said(
    0.0, "http server listening", "cmd/main.go:41", fields={"addr": ":8080"}, from_end=True
)
GO_START = Banner((0.6, 2.0), (GO_STARTING, GO_LISTENING))
GO_START_WITH_DB = Banner(
    (0.6, 2.0),
    (
        GO_STARTING,
        Said(
            0.2,
            "connected to database",
            "store/pg.go:29",
            fields={"host": "inventory-db", "pool_max": 20},
        ),
        GO_LISTENING,
    ),
)
STARTS = {
    "checkout": SPRING_START,
    "payments": SPRING_START,
    "cart": NODE_START,
    "inventory": GO_START_WITH_DB,
}
SPRING_STOP = Banner(
    (0.3, 2.0),
    (
        Said(
            0.0,
            "Commencing graceful shutdown. Waiting for active requests to complete",
            "o.s.b.w.e.tomcat.GracefulShutdown",
            "SpringApplicationShutdownHook",
        ),
        Said(
            0.0,
            "Graceful shutdown complete",
            "o.s.b.w.e.tomcat.GracefulShutdown",
            "tomcat-shutdown",
            from_end=True,
        ),
    ),
)
NODE_STOP = Banner(
    0.4,
    (
        Said(0.0, "received SIGTERM, draining connections"),
        Said(0.0, "server closed", from_end=True),
    ),
)
GO_STOP = Banner(
    0.3,
    (Said(0.0, "shutting down", "cmd/main.go:88", fields={"signal": "terminated"}),),
)
STOPS = {"checkout": SPRING_STOP, "payments": SPRING_STOP, "cart": NODE_STOP}


def start_up(sim: Sim, service: str, pod: str, t: float, version: str) -> float:
    """The start-up lines of one container; returns when it is ready."""
    return STARTS.get(service, GO_START).write(sim, service, pod, t, version)


def shut_down(sim: Sim, service: str, pod: str, t: float) -> float:
    """The shut-down lines of one container; returns when it is gone."""
    return STOPS.get(service, GO_STOP).write(sim, service, pod, t)
