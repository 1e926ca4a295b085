"""Log formats with known truth: Loghub messages under the headers real logging tools write.

Each `Layout` copies one real tool's line format (log4j/logback patterns, Python `logging`,
Go `log`, zap, klog, syslog, journald, nginx, Apache, Windows, container runtimes, logfmt,
Rails, .NET, Kubernetes, ...; the pattern or the tool is named in each layout's `source`).
`render(layout, dataset)` writes every message of a Loghub-2k set (its ground-truth
`Content`) under that layout's header, filling the header's fields from a seeded random
generator: times advance, levels are drawn, pids, threads, hosts, loggers and request ids
vary. The message, its event id and its true template are the Loghub line's, so grouping
and parsing accuracy can be measured on a file whose header no miner has seen.

Header fields are drawn independently of the message on purpose: a header token a miner
leaves in the message then splits its event, and shows in GA, instead of riding along with
the event it happens to correlate with.

Layouts are copied from the tools, never chosen or adjusted to suit a miner. Where a record
holds its message as a JSON string or a logfmt value (`Layout.encoding`), the message is
escaped the way the tool escapes it; every other layout holds it verbatim.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import TypeVar

from tests.bench import loghub

T = TypeVar("T")
PLAIN, JSON, LOGFMT = "plain", "json", "logfmt"  # how a record holds its message

# Canonical levels and how often each is drawn: mostly INFO, as in a service's own log.
LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
_LEVEL_WEIGHTS = (10, 70, 12, 8)
MEAN_GAP_S = 0.4  # mean time between two records


@dataclass(frozen=True)
class Layout:
    name: str
    source: str  # the tool and pattern the layout copies
    write: Callable[[Fields, str], str]  # one record (header and message) of a message
    encoding: str = PLAIN


@dataclass(frozen=True)
class Rendered:
    """A Loghub set written under one layout: one record per Loghub line, with its truth."""

    layout: str
    dataset: str
    records: list[str]  # a record is one line, except for layouts that write two
    contents: list[str]  # the message of each record
    event_ids: list[str]
    templates: list[str]
    # The header's truth per record: the level drawn (None when the layout writes none)
    # and the clock's time when it was written.
    levels: list[str | None] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)

    def data(self) -> bytes:
        """The file a user would hand over."""
        return ("\n".join(self.records) + "\n").encode()

    def first_lines(self) -> list[int]:
        """The 1-based line each record starts on."""
        starts, line = [], 1
        for record in self.records:
            starts.append(line)
            line += record.count("\n") + 1
        return starts


LAYOUTS: dict[str, Layout] = {}


def _layout(
    name: str, source: str, encoding: str = PLAIN
) -> Callable[[Callable[[Fields, str], str]], Callable[[Fields, str], str]]:
    """Registers the decorated writer in LAYOUTS, in file order (the order tables print in)."""

    def register(write: Callable[[Fields, str], str]) -> Callable[[Fields, str], str]:
        LAYOUTS[name] = Layout(name, source, write, encoding)
        return write

    return register


def render(
    layout: Layout, dataset: loghub.Dataset, lines: int | None = None, seed: int = 0
) -> Rendered:
    """The first `lines` messages of `dataset` (all by default) written under `layout`."""
    count = len(dataset.contents) if lines is None else min(lines, len(dataset.contents))
    # A string seed is hashed with SHA-512 by `random`, so it is stable across runs.
    fields = Fields(random.Random(f"{layout.name}/{dataset.name}/{seed}"))
    records, levels, times = [], [], []
    for message in dataset.contents[:count]:
        fields.tick()
        fields.drawn_level = None
        records.append(layout.write(fields, message))
        levels.append(fields.drawn_level)
        times.append(fields.now)
    return Rendered(
        layout.name,
        dataset.name,
        records,
        dataset.contents[:count],
        dataset.event_ids[:count],
        dataset.templates[:count],
        levels,
        times,
    )


# --- Values the headers are filled with ---------------------------------------------------

_JAVA_LOGGERS = (
    "org.springframework.web.servlet.DispatcherServlet",
    "org.springframework.boot.web.embedded.tomcat.TomcatWebServer",
    "org.apache.catalina.core.StandardService",
    "org.apache.kafka.clients.consumer.internals.ConsumerCoordinator",
    "org.hibernate.engine.jdbc.spi.SqlExceptionHelper",
    "com.zaxxer.hikari.pool.HikariPool",
    "io.netty.channel.DefaultChannelPipeline",
    "com.acme.orders.OrderService",
    "com.acme.orders.web.OrderController",
    "com.acme.billing.invoice.InvoiceScheduler",
    "org.elasticsearch.cluster.service.MasterService",
    "org.elasticsearch.node.Node",
)
_JAVA_METHODS = ("run", "process", "handle", "doFilter", "poll", "execute", "onMessage", "init")
_PY_LOGGERS = (
    "root",
    "__main__",
    "app",
    "app.worker",
    "app.api.orders",
    "urllib3.connectionpool",
    "sqlalchemy.engine.Engine",
    "celery.worker.strategy",
    "django.request",
    "botocore.credentials",
)
_GO_FILES = (
    "server.go",
    "handler.go",
    "main.go",
    "client.go",
    "controller.go",
    "reconciler.go",
    "watcher.go",
    "leaderelection.go",
)
_GO_DIRS = ("internal/server", "pkg/api", "cmd/agent", "internal/store", "pkg/client")
_DOTNET_CATEGORIES = (
    "Microsoft.Hosting.Lifetime",
    "Microsoft.AspNetCore.Hosting.Diagnostics",
    "Microsoft.AspNetCore.Routing.EndpointMiddleware",
    "Microsoft.EntityFrameworkCore.Database.Command",
    "Shop.Api.Controllers.OrdersController",
    "Shop.Worker.QueueConsumer",
)
_PROGRAMS = (
    "sshd",
    "systemd",
    "kernel",
    "CRON",
    "dockerd",
    "kubelet",
    "nginx",
    "postfix/smtpd",
    "sudo",
)
_WINDOWS_EXES = ("chrome.exe", "svchost.exe", "Dropbox.exe", "Teams.exe", "OUTLOOK.EXE")
_K8S_APPS = ("api", "worker", "frontend", "payments", "ingress-nginx-controller")


class Fields:
    """The header values of one file: a clock that advances, and pools values are drawn from.

    Per-file pools (a few pids, hosts, threads) mimic one service's log, where those values
    repeat; levels, loggers and request ids are drawn fresh for every record.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        zone = timezone(timedelta(minutes=rng.choice((0, 60, -300, 330, 480))))
        self.now = datetime(
            rng.randint(2019, 2024), rng.randint(1, 12), rng.randint(1, 28), tzinfo=zone
        )
        self.now += timedelta(seconds=rng.randint(0, 86_399))
        self.started = self.now
        self.count = 0  # records so far
        self.drawn_level: str | None = None  # the last record's level, for the truth
        self._pids = [rng.randint(300, 65_000) for _ in range(rng.randint(1, 3))]
        self._tids = [rng.randint(300, 65_000) for _ in range(6)]
        self._hosts = [self._hostname() for _ in range(rng.randint(1, 4))]

    def tick(self) -> None:
        """Moves the clock on, by gaps as uneven as a real service's."""
        self.now += timedelta(microseconds=int(self.rng.expovariate(1 / MEAN_GAP_S) * 1e6) + 1)
        self.count += 1

    # Draws
    def pick(self, values: Sequence[T]) -> T:
        return self.rng.choice(values)

    def level(self) -> str:
        self.drawn_level = self.rng.choices(LEVELS, _LEVEL_WEIGHTS)[0]
        return self.drawn_level

    def pid(self) -> int:
        return self.rng.choice(self._pids)

    def tid(self) -> int:
        return self.rng.choice(self._tids)

    def host(self) -> str:
        return self.rng.choice(self._hosts)

    def number(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def hex(self, digits: int) -> str:
        return f"{self.rng.getrandbits(4 * digits):0{digits}x}"

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def ip(self) -> str:
        return f"10.{self.number(0, 255)}.{self.number(0, 255)}.{self.number(1, 254)}"

    def java_thread(self) -> str:
        # Java thread names, spaces and brackets included, as servers name them.
        return self.pick(
            (
                "main",
                f"http-nio-8080-exec-{self.number(1, 200)}",
                f"pool-{self.number(1, 9)}-thread-{self.number(1, 32)}",
                f"kafka-coordinator-heartbeat-thread | orders-{self.number(1, 4)}",
                f"ForkJoinPool.commonPool-worker-{self.number(1, 15)}",
                "scheduling-1",
                f"RMI TCP Connection({self.number(1, 40)})-{self.ip()}",
            )
        )

    def go_caller(self, with_dir: bool = False) -> str:
        file = self.pick(_GO_FILES)
        if with_dir:
            file = f"{self.pick(_GO_DIRS)}/{file}"
        return f"{file}:{self.number(20, 900)}"

    def pod(self) -> tuple[str, str]:
        """A Deployment's pod and its container: ('api-7d9f8b6c4-x2k1p', 'api')."""
        app = self.pick(_K8S_APPS)
        return f"{app}-{self.hex(10)[:9]}-{self.hex(5)}", app

    def _hostname(self) -> str:
        return self.pick(
            (
                f"web-{self.number(1, 12):02d}",
                f"ip-10-0-{self.number(0, 255)}-{self.number(1, 254)}",
                f"node-{self.number(1, 64)}",
                f"db-{self.number(1, 3)}.prod.example.com",
            )
        )

    # Clock readings
    def frac(self, digits: int) -> str:
        """The fraction of the current second, `digits` long (nanoseconds padded at random)."""
        micro = f"{self.now.microsecond:06d}"
        return (micro + f"{self.number(0, 999):03d}")[:digits]

    def clock(self, form: str, digits: int = 0, sep: str = ".") -> str:
        """`strftime(form)`, then the fraction of a second when `digits` is set."""
        text = self.now.strftime(form)
        return f"{text}{sep}{self.frac(digits)}" if digits else text

    def offset(self, colon: bool = True) -> str:
        text = self.now.strftime("%z")
        return f"{text[:3]}:{text[3:]}" if colon else text

    def utc(self, digits: int) -> str:
        """RFC 3339 in UTC with a `Z`, as container runtimes and Go's time.RFC3339Nano write."""
        moment = self.now.astimezone(UTC)
        return f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{self.frac(digits)}Z"

    def epoch(self) -> int:
        return int(self.now.timestamp())

    def syslog_day(self) -> str:
        """`Mar  4 09:26:53`: RFC 3164 pads the day with a space."""
        return f"{self.now.strftime('%b')} {self.now.day:2d} {self.now.strftime('%H:%M:%S')}"


# --- Helpers shared by several layouts ----------------------------------------------------


def abbreviate(name: str, width: int) -> str:
    """logback's `%logger{width}`: packages cut to one letter, from the left, until it fits."""
    parts = name.split(".")
    for i in range(len(parts) - 1):
        if len(".".join(parts)) <= width:
            break
        parts[i] = parts[i][:1]
    return ".".join(parts)


def fit(text: str, width: int, left: bool = True) -> str:
    """A `%-W.Ww` / `%W.Ww` pattern field: padded to `width`, cut from the start if longer."""
    text = text[-width:]
    return text.ljust(width) if left else text.rjust(width)


def simple_name(logger: str) -> str:
    return logger.rsplit(".", 1)[-1]


def go_json(value: object) -> str:
    """Go's encoding/json: compact, with <, > and & escaped as HTML-safe \\u sequences."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_LOGFMT_BARE = re.compile(r"[^\s=\"\\]+")


def logfmt_value(value: str) -> str:
    """go-logfmt: bare when it has no space, '=', quote or backslash; else a quoted string."""
    return value if _LOGFMT_BARE.fullmatch(value) else json.dumps(value, ensure_ascii=False)


def _spell(level: str, names: Sequence[str]) -> str:
    """The tool's word for a canonical level; `names` follow the order of LEVELS."""
    return names[LEVELS.index(level)]


# --- Java ---------------------------------------------------------------------------------


@_layout("log4j_hadoop", "log4j 1.x '%d{ISO8601} %p %c: %m%n' (Hadoop's log4j.properties)")
def _log4j_hadoop(f: Fields, msg: str) -> str:
    return f"{f.clock('%Y-%m-%d %H:%M:%S', 3, ',')} {f.level()} {f.pick(_JAVA_LOGGERS)}: {msg}"


@_layout("log4j_location", "log4j 1.x '%d{ISO8601} %-5p %c{2} (%F:%M(%L)) - %m%n' (Hadoop DRFAS)")
def _log4j_location(f: Fields, msg: str) -> str:
    logger = f.pick(_JAVA_LOGGERS)
    short = ".".join(logger.split(".")[-2:])
    where = f"({simple_name(logger)}.java:{f.pick(_JAVA_METHODS)}({f.number(20, 900)}))"
    return f"{f.clock('%Y-%m-%d %H:%M:%S', 3, ',')} {f.level():<5} {short} {where} - {msg}"


@_layout("log4j_ttcc", "log4j 1.x TTCCLayout '%r [%t] %-5p %c %x - %m%n' (empty NDC)")
def _log4j_ttcc(f: Fields, msg: str) -> str:
    elapsed = int((f.now - f.started).total_seconds() * 1000) + 150
    return f"{elapsed} [{f.java_thread()}] {f.level():<5} {f.pick(_JAVA_LOGGERS)}  - {msg}"


@_layout("logback_default", "logback '%d{HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg%n'")
def _logback_default(f: Fields, msg: str) -> str:
    logger = abbreviate(f.pick(_JAVA_LOGGERS), 36)
    return f"{f.clock('%H:%M:%S', 3)} [{f.java_thread()}] {f.level():<5} {logger} - {msg}"


@_layout(
    "spring_boot",
    "Spring Boot 2.x console '%d{yyyy-MM-dd HH:mm:ss.SSS}  %5p %PID --- [%15.15t] "
    "%-40.40logger{39} : %m%n'",
)
def _spring_boot(f: Fields, msg: str) -> str:
    logger = fit(abbreviate(f.pick(_JAVA_LOGGERS), 39), 40)
    thread = fit(f.java_thread(), 15, left=False)
    when = f.clock("%Y-%m-%d %H:%M:%S", 3)
    # %5p right-aligns the level: "2023-03-14 09:26:53.589  INFO 4242 --- [..."
    return f"{when} {f.level():>5} {f.pid()} --- [{thread}] {logger} : {msg}"


@_layout("zookeeper", "ZooKeeper 3.5 '%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n'")
def _zookeeper(f: Fields, msg: str) -> str:
    where = f"{f.java_thread()}:{simple_name(f.pick(_JAVA_LOGGERS))}@{f.number(20, 900)}"
    when = f.clock("%Y-%m-%d %H:%M:%S", 3, ",")
    return f"{when} [myid:{f.number(1, 5)}] - {f.level():<5} [{where}] - {msg}"


@_layout(
    "elasticsearch",
    "Elasticsearch log4j2 '[%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n'",
)
def _elasticsearch(f: Fields, msg: str) -> str:
    logger = f.pick(_JAVA_LOGGERS).split(".")
    short = ".".join([p[:1] for p in logger[:-1]] + logger[-1:])
    when = f.clock("%Y-%m-%dT%H:%M:%S", 3, ",")
    return f"[{when}][{f.level():<5}][{short:<25}] [{f.host()}] {msg}"


@_layout("spark", "Spark log4j-defaults '%d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n'")
def _spark(f: Fields, msg: str) -> str:
    return f"{f.clock('%y/%m/%d %H:%M:%S')} {f.level()} {simple_name(f.pick(_JAVA_LOGGERS))}: {msg}"


@_layout(
    "logstash_json",
    "logstash-logback-encoder LogstashEncoder (@timestamp, message, logger_name, level, ...)",
    JSON,
)
def _logstash_json(f: Fields, msg: str) -> str:
    level = f.level()
    record = {
        "@timestamp": f"{f.clock('%Y-%m-%dT%H:%M:%S', 3)}{f.offset()}",
        "@version": "1",
        "message": msg,
        "logger_name": f.pick(_JAVA_LOGGERS),
        "thread_name": f.java_thread(),
        "level": level,
        "level_value": 10_000 * (LEVELS.index(level) + 1),
    }
    return json.dumps(record, separators=(",", ":"))


# --- Python -------------------------------------------------------------------------------

_PY_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@_layout(
    "python_basic", "Python logging.basicConfig() default '%(levelname)s:%(name)s:%(message)s'"
)
def _python_basic(f: Fields, msg: str) -> str:
    return f"{_spell(f.level(), _PY_LEVELS)}:{f.pick(_PY_LOGGERS)}:{msg}"


@_layout(
    "python_asctime",
    "Python logging '%(asctime)s - %(name)s - %(levelname)s - %(message)s' (logging cookbook)",
)
def _python_asctime(f: Fields, msg: str) -> str:
    level = _spell(f.level(), _PY_LEVELS)
    return f"{f.clock('%Y-%m-%d %H:%M:%S', 3, ',')} - {f.pick(_PY_LOGGERS)} - {level} - {msg}"


@_layout("flask", "Flask default handler '[%(asctime)s] %(levelname)s in %(module)s: %(message)s'")
def _flask(f: Fields, msg: str) -> str:
    module = simple_name(f.pick(_PY_LOGGERS))
    level = _spell(f.level(), _PY_LEVELS)
    return f"[{f.clock('%Y-%m-%d %H:%M:%S', 3, ',')}] {level} in {module}: {msg}"


@_layout("gunicorn", "gunicorn error log '%(asctime)s [%(process)d] [%(levelname)s] %(message)s'")
def _gunicorn(f: Fields, msg: str) -> str:
    when = f"{f.clock('%Y-%m-%d %H:%M:%S')} {f.offset(colon=False)}"
    return f"[{when}] [{f.pid()}] [{f.level().replace('WARN', 'WARNING')}] {msg}"


@_layout("celery", "Celery worker '[%(asctime)s: %(levelname)s/%(processName)s] %(message)s'")
def _celery(f: Fields, msg: str) -> str:
    process = f.pick(("MainProcess", f"ForkPoolWorker-{f.number(1, 8)}"))
    level = _spell(f.level(), _PY_LEVELS)
    return f"[{f.clock('%Y-%m-%d %H:%M:%S', 3, ',')}: {level}/{process}] {msg}"


@_layout("uvicorn", "uvicorn DefaultFormatter '%(levelprefix)s %(message)s'")
def _uvicorn(f: Fields, msg: str) -> str:
    level = _spell(f.level(), _PY_LEVELS)
    return f"{level}:{' ' * (8 - len(level))} {msg}"


# --- Go -----------------------------------------------------------------------------------


@_layout("go_log", "Go log.Println with log.LstdFlags")
def _go_log(f: Fields, msg: str) -> str:
    return f"{f.clock('%Y/%m/%d %H:%M:%S')} {msg}"


@_layout("go_log_file", "Go log with LstdFlags|Lmicroseconds|Lshortfile")
def _go_log_file(f: Fields, msg: str) -> str:
    return f"{f.clock('%Y/%m/%d %H:%M:%S', 6)} {f.go_caller()}: {msg}"


@_layout("zap_console", "zap NewDevelopment() console encoder (tab-separated)")
def _zap_console(f: Fields, msg: str) -> str:
    when = f"{f.clock('%Y-%m-%dT%H:%M:%S', 3)}{f.offset(colon=False)}"
    return f"{when}\t{f.level()}\t{f.go_caller(with_dir=True)}\t{msg}"


@_layout("zap_json", "zap NewProduction() JSON encoder (level, ts, caller, msg)", JSON)
def _zap_json(f: Fields, msg: str) -> str:
    level = f.level().lower()
    ts = repr(f.now.timestamp())  # zap writes the shortest float that reads back the same
    caller = json.dumps(f.go_caller(with_dir=True))
    return f'{{"level":"{level}","ts":{ts},"caller":{caller},"msg":{json.dumps(msg)}}}'


@_layout(
    "logfmt_prometheus",
    "go-kit log logfmt as Prometheus writes it (ts, caller, level, msg)",
    LOGFMT,
)
def _logfmt_prometheus(f: Fields, msg: str) -> str:
    when = f.utc(3)
    caller = f.go_caller()
    return f"ts={when} caller={caller} level={f.level().lower()} msg={logfmt_value(msg)}"


@_layout("logrus_text", "logrus TextFormatter without a TTY (time, level, msg)", LOGFMT)
def _logrus_text(f: Fields, msg: str) -> str:
    when = f"{f.clock('%Y-%m-%dT%H:%M:%S')}{f.offset()}"
    level = f.level().lower().replace("warn", "warning")
    return f'time="{when}" level={level} msg={logfmt_value(msg)}'


@_layout("klog", "klog/glog 'Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg'")
def _klog(f: Fields, msg: str) -> str:
    return f"{_klog_head(f)} {msg}"


def _klog_head(f: Fields) -> str:
    letter = f.level()[0].replace("D", "I")  # klog has no debug letter: V-levels print as I
    return f"{letter}{f.clock('%m%d %H:%M:%S', 6)} {f.tid():7d} {f.go_caller()}]"


# --- Kubernetes and containers ------------------------------------------------------------


@_layout("cri", "CRI container log (containerd, CRI-O): 'RFC3339Nano stream P|F msg'")
def _cri(f: Fields, msg: str) -> str:
    return f"{f.utc(9)} {f.pick(('stdout', 'stdout', 'stderr'))} F {msg}"


@_layout("cri_klog", "a Kubernetes component under containerd: CRI line holding a klog line")
def _cri_klog(f: Fields, msg: str) -> str:
    return f"{f.utc(9)} stderr F {_klog_head(f)} {msg}"


@_layout("docker_json", "Docker json-file log driver ({log, stream, time})", JSON)
def _docker_json(f: Fields, msg: str) -> str:
    stream = f.pick(("stdout", "stdout", "stderr"))
    return go_json({"log": msg + "\n", "stream": stream, "time": f.utc(9)})


@_layout("kubectl_prefix", "kubectl logs --prefix --timestamps")
def _kubectl_prefix(f: Fields, msg: str) -> str:
    pod, container = f.pod()
    return f"[pod/{pod}/{container}] {f.utc(9)} {msg}"


@_layout("compose", "docker compose logs: service name padded, then '| '")
def _compose(f: Fields, msg: str) -> str:
    service = f.pick(("api-1", "worker-1", "worker-2", "db-1", "proxy-1"))
    return f"{service:<8} | {msg}"


# --- Unix daemons -------------------------------------------------------------------------

_SYSLOG_SEVERITY = {"DEBUG": 7, "INFO": 6, "WARN": 4, "ERROR": 3}


def _program(f: Fields) -> str:
    program = f.pick(_PROGRAMS)
    return f"{program}[{f.pid()}]" if program != "kernel" else program


@_layout("syslog_rfc3164", "syslog RFC 3164 on the wire: '<PRI>Mmm dd hh:mm:ss host tag[pid]: msg'")
def _syslog_rfc3164(f: Fields, msg: str) -> str:
    pri = 8 * f.pick((1, 3, 4, 10, 16)) + _SYSLOG_SEVERITY[f.level()]
    return f"<{pri}>{f.syslog_day()} {f.host()} {_program(f)}: {msg}"


@_layout("rsyslog_precise", "rsyslog RSYSLOG_FileFormat (Debian 12 /var/log/syslog)")
def _rsyslog_precise(f: Fields, msg: str) -> str:
    when = f"{f.clock('%Y-%m-%dT%H:%M:%S', 6)}{f.offset()}"
    return f"{when} {f.host()} {_program(f)}: {msg}"


@_layout("syslog_rfc5424", "syslog RFC 5424 '<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG'")
def _syslog_rfc5424(f: Fields, msg: str) -> str:
    pri = 8 * f.pick((1, 3, 16)) + _SYSLOG_SEVERITY[f.level()]
    when = f"{f.clock('%Y-%m-%dT%H:%M:%S', 3)}{f.offset()}"
    app = f.pick(("orders", "billing", "gateway", "auth"))
    sd = f.pick(("-", "-", f'[origin ip="{f.ip()}"]', f'[meta sequenceId="{f.number(1, 9999)}"]'))
    msgid = f.pick(("-", "ID47", "REQ", "AUDIT"))
    return f"<{pri}>1 {when} {f.host()} {app} {f.pid()} {msgid} {sd} {msg}"


@_layout("journald_short_iso", "journalctl -o short-iso")
def _journald_short_iso(f: Fields, msg: str) -> str:
    when = f"{f.clock('%Y-%m-%dT%H:%M:%S')}{f.offset(colon=False)}"
    return f"{when} {f.host()} {_program(f)}: {msg}"


@_layout("nginx_error", "nginx error_log 'yyyy/mm/dd hh:mm:ss [level] pid#tid: *cid msg'")
def _nginx_error(f: Fields, msg: str) -> str:
    level = _spell(f.level(), ("debug", "notice", "warn", "error"))
    connection = f.pick(("", f"*{f.number(1, 99_999)} "))
    return f"{f.clock('%Y/%m/%d %H:%M:%S')} [{level}] {f.pid()}#{f.tid()}: {connection}{msg}"


@_layout("apache_error", "Apache httpd 2.4 default ErrorLogFormat")
def _apache_error(f: Fields, msg: str) -> str:
    module = f.pick(("core", "mpm_event", "proxy", "ssl", "authz_core"))
    level = _spell(f.level(), ("debug", "notice", "warn", "error"))
    when = f.clock("%a %b %d %H:%M:%S", 6) + f.now.strftime(" %Y")
    client = f.pick(("", f"[client {f.ip()}:{f.number(1024, 65_535)}] "))
    return f"[{when}] [{module}:{level}] [pid {f.pid()}:tid {f.tid()}] {client}{msg}"


@_layout("postgres", "PostgreSQL log_line_prefix '%m [%p] ' (Debian default)")
def _postgres(f: Fields, msg: str) -> str:
    level = _spell(f.level(), ("DEBUG1", "LOG", "WARNING", "ERROR"))
    when = f"{f.clock('%Y-%m-%d %H:%M:%S', 3)} UTC"
    return f"{when} [{f.pid()}] {level}:  {msg}"


@_layout("mysql", "MySQL 8 error log 'time thread [level] [code] [subsystem] msg'")
def _mysql(f: Fields, msg: str) -> str:
    level = _spell(f.level(), ("Note", "System", "Warning", "ERROR"))
    code = f"MY-{f.number(10_000, 13_999):06d}"
    subsystem = f.pick(("Server", "Server", "InnoDB", "Repl"))
    return f"{f.utc(6)} {f.number(0, 40)} [{level}] [{code}] [{subsystem}] {msg}"


@_layout("redis", "Redis 'pid:role dd Mmm yyyy hh:mm:ss.mmm level-char msg'")
def _redis(f: Fields, msg: str) -> str:
    mark = _spell(f.level(), (".", "*", "#", "#"))
    role = f.pick(("M", "M", "S", "C"))
    return f"{f.pid()}:{role} {f.clock('%d %b %Y %H:%M:%S', 3)} {mark} {msg}"


@_layout("rails", "Ruby Logger / Rails with request-id tags 'L, [time #pid] LEVEL -- : [id] msg'")
def _rails(f: Fields, msg: str) -> str:
    level = f.level()
    when = f.clock("%Y-%m-%dT%H:%M:%S", 6)
    return f"{level[0]}, [{when} #{f.pid()}] {level:>5} -- : [{f.uuid()}] {msg}"


@_layout("hpc_record_id", "Loghub HPC: 'record-id node component state epoch flag msg'")
def _hpc_record_id(f: Fields, msg: str) -> str:
    record_id = 100_000 + 3 * f.count + f.number(0, 2)  # ids rise, with gaps
    component = f.pick(("unix.hw", "node", "action", "gige", "switch_module"))
    state = f.pick(("state_change.unavailable", "boot.start", "status", "error", "halt"))
    return f"{record_id} node-{f.number(1, 256)} {component} {state} {f.epoch()} 1 {msg}"


@_layout("grep_filename", "grep -H over rotated logs: 'path:line' (Python asctime lines)")
def _grep_filename(f: Fields, msg: str) -> str:
    path = f"/var/log/app/worker-{f.number(1, 4)}.log"
    level = _spell(f.level(), _PY_LEVELS)
    return f"{path}:{f.clock('%Y-%m-%d %H:%M:%S', 3, ',')} {level} {msg}"


# --- Android ------------------------------------------------------------------------------

_LOGCAT_TAGS = (
    "ActivityManager",
    "WindowManager",
    "PowerManagerService",
    "chatty",
    "NetworkMonitor",
)
_LOGCAT_LEVELS = ("D", "I", "W", "E")


@_layout("logcat_threadtime", "Android logcat -v threadtime")
def _logcat_threadtime(f: Fields, msg: str) -> str:
    level = _spell(f.level(), _LOGCAT_LEVELS)
    head = f"{f.clock('%m-%d %H:%M:%S', 3)} {f.pid():5d} {f.tid():5d} {level}"
    return f"{head} {f.pick(_LOGCAT_TAGS):<8}: {msg}"


@_layout("logcat_epoch", "Android logcat -v epoch (epoch seconds first)")
def _logcat_epoch(f: Fields, msg: str) -> str:
    level = _spell(f.level(), _LOGCAT_LEVELS)
    head = f"{f.epoch():>19}.{f.frac(3)} {f.pid():5d} {f.tid():5d} {level}"
    return f"{head} {f.pick(_LOGCAT_TAGS):<8}: {msg}"


# --- Windows and .NET ---------------------------------------------------------------------


@_layout("windows_cbs", "Windows CBS.log / setupact.log 'time, Level  Component  msg'")
def _windows_cbs(f: Fields, msg: str) -> str:
    level = _spell(f.level(), ("Info", "Info", "Warning", "Error"))
    component = f.pick(("CBS", "CSI", "DISM", "SQM", "DPX"))
    return f"{f.clock('%Y-%m-%d %H:%M:%S')}, {level:<22}{component:<7}{msg}"


@_layout("windows_eventlog_text", "Event Viewer 'Save as Text' (tab-separated columns)")
def _windows_eventlog_text(f: Fields, msg: str) -> str:
    level = _spell(f.level(), ("Information", "Information", "Warning", "Error"))
    hour = f.now.hour % 12 or 12
    when = f"{f.now.month}/{f.now.day}/{f.now.year} {hour}:{f.now.strftime('%M:%S %p')}"
    source = f.pick(("Service Control Manager", "EventLog", "Application Error", "MsiInstaller"))
    return f"{level}\t{when}\t{source}\t{f.number(1000, 7999)}\tNone\t{msg}"


@_layout("proxifier", "Proxifier log '[MM.DD hh:mm:ss] program - msg' (no year)")
def _proxifier(f: Fields, msg: str) -> str:
    return f"[{f.clock('%m.%d %H:%M:%S')}] {f.pick(_WINDOWS_EXES)} - {msg}"


@_layout("healthapp_pipe", "Huawei HealthApp 'yyyymmdd-hh:mm:ss:mmm|component|pid|msg'")
def _healthapp_pipe(f: Fields, msg: str) -> str:
    component = f.pick(("Step_LSC", "Step_StandReportReceiver", "Step_SPUtils", "HiH_HiSyncUtil"))
    when = f.clock("%Y%m%d-%H:%M:%S", 3, ":")
    return f"{when}|{component}|{30_000_000 + f.pid()}|{msg}"


@_layout("dotnet_console", "Microsoft.Extensions.Logging console, default: 2 lines per record")
def _dotnet_console(f: Fields, msg: str) -> str:
    level = _spell(f.level(), ("dbug", "info", "warn", "fail"))
    return (
        f"{level}: {f.pick(_DOTNET_CATEGORIES)}[{f.pick(('0', '1', '14', '20101'))}]\n      {msg}"
    )


@_layout(
    "serilog_file",
    "Serilog file sink default '{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} [{Level:u3}]'",
)
def _serilog_file(f: Fields, msg: str) -> str:
    level = _spell(f.level(), ("DBG", "INF", "WRN", "ERR"))
    return f"{f.clock('%Y-%m-%d %H:%M:%S', 3)} {f.offset()} [{level}] {msg}"


@_layout("nlog", "NLog default '${longdate}|${level:uppercase=true}|${logger}|${message}'")
def _nlog(f: Fields, msg: str) -> str:
    logger = f.pick(_DOTNET_CATEGORIES)
    return f"{f.clock('%Y-%m-%d %H:%M:%S', 4)}|{f.level()}|{logger}|{msg}"
