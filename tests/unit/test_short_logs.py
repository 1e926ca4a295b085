"""Short logs without timestamps or levels still yield errors.

`kubectl logs` of a failing container is often a few bare lines: a shell error, an exception,
"connection refused". Their level is read from their wording (engine/evidence/logs/wording.py)
and the file is reported as a log with error groups, while Markdown, scripts and code stay
text and ordinary prose ("0 errors", "errorHandler registered") raises nothing.

The real outputs are read from ../shared/data/k8s-troubleshooting at run time, never copied.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.evidence.analyze import summarize_report
from engine.evidence.logs.analyze import analyze_log
from engine.evidence.logs.records import iter_records
from engine.evidence.logs.report import LogReport
from engine.evidence.logs.wording import level_from_wording
from engine.evidence.suspects.ranking import rank_case_suspects
from engine.investigate.signatures import match

K8S = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "k8s-troubleshooting"


def _log(text: str, name: str = "pod.log") -> LogReport:
    return analyze_log(name, text.encode())


def _errors(report: LogReport) -> list[str]:
    return [group.example for group in report.error_groups]


# -- one phrase family per case ------------------------------------------------------------

ERRORS = [
    # shells
    "/entrypoint.sh: line 3: syntax error near unexpected token `fi'",
    "/app/start.sh: line 12: DATABASE_URL: unbound variable",
    "sh: 1: FOO: parameter not set",
    "bash: kubectl: command not found",
    "/bin/sh: 1: migrate: not found",
    # the C library
    "cat: /etc/app/config.yaml: No such file or directory",
    "mkdir: cannot create directory '/data': Permission denied",
    "exec /usr/local/bin/server: exec format error",
    "OSError: [Errno 98] Address already in use",
    # network and DNS
    "java.net.ConnectException: Connection refused (Connection refused)",
    "dial tcp 10.0.0.5:5432: connect: connection refused",
    "read tcp 10.0.0.7:41234->10.0.0.5:6379: read: connection reset by peer",
    "curl: (28) Connection timed out after 5001 milliseconds",
    "curl: (6) Could not resolve host: db.internal",
    "getaddrinfo ENOTFOUND redis",
    "ping: orders-db: Name or service not known",
    "** server can't find orders-db.shop.svc: NXDOMAIN",
    "x509: certificate has expired or is not yet valid",
    # exceptions and runtimes
    "ModuleNotFoundError: No module named 'flask'",
    "Error: Cannot find module 'express'",
    "npm ERR! code ELIFECYCLE",
    "Unable to connect to Database",
    # ends
    "process exited with code 1",
    "subprocess.CalledProcessError: Command 'make' returned non-zero exit status 2.",
    "Segmentation fault (core dumped)",
    "Killed",
    # something that should be up says it is not
    "Peer down",
    "bgp: link to 10.0.3.2 went down",
    "upstream server is down, failing over",
    "lost connection to MySQL server during query",
]


@pytest.mark.parametrize("line", ERRORS)
def test_a_line_that_reads_as_an_error_is_one(line: str) -> None:
    assert level_from_wording(line) == "ERROR"
    report = _log(line + "\n")  # a file of one line is evidence too
    assert report.kind == "log"
    assert report.level_counts.get("ERROR") == 1, line
    [example] = _errors(report)
    assert line.endswith(example)  # "Error: x" says its level: the message is "x"


@pytest.mark.parametrize(
    "line",
    [
        "panic: runtime error: invalid memory address or nil pointer dereference",
        "thread 'main' panicked at 'called `Option::unwrap()` on a `None` value', src/main.rs:2:5",
        'psql: FATAL: password authentication failed for user "app"',
        "git: fatal: not a git repository",
    ],
)
def test_panics_and_fatal_words_are_fatal(line: str) -> None:
    report = _log(line + "\n")
    assert report.kind == "log" and report.level_counts == {"FATAL": 1}


@pytest.mark.parametrize(
    "line",
    [
        "warning: unable to access '/root/.config/git/attributes': Permission denied",
        "npm WARN deprecated request@2.88.2: request has been deprecated",
        "(node:1) DeprecationWarning: Buffer() is deprecated",
    ],
)
def test_warnings_are_warnings_even_when_they_mention_a_failure(line: str) -> None:
    assert level_from_wording(line) == "WARN"


def test_a_program_s_own_lower_level_word_comes_first() -> None:
    # A database logs dropped clients at LOG level: noise, not an error.
    line = "LOG:  could not receive data from client: Connection reset by peer"
    assert level_from_wording(line) == "INFO"
    assert level_from_wording("INFO mapred.task.id is deprecated") == "INFO"


NOT_ERRORS = [
    "0 errors",
    "errors: 0",
    "error_count=0",
    "no errors found",
    "errorHandler registered",
    "onError callback set",
    "ErrorBoundary mounted",
    "registered handler for /error",
    "retrying after error... succeeded",
    "Request completed without error",
    "error: none",
    "err=<nil>",
    "ERROR_THRESHOLD=5",
    "exited with code 0",
    "except ValueError:",
    "killed 3 idle workers",
    "Listening on :8080",
    "App now running in production mode on port 8079",
    "shutting down gracefully",
    "scaled down to 2 replicas",
    "peers down: 0",
]


@pytest.mark.parametrize("line", NOT_ERRORS)
def test_ordinary_lines_raise_no_error(line: str) -> None:
    assert level_from_wording(line) is None


def test_chatter_stays_text() -> None:
    # "error: none" alone opens with a level word, which the header parser reads as a level.
    report = _log("\n".join(line for line in NOT_ERRORS if line != "error: none") + "\n")
    assert report.kind == "text" and not report.error_groups


# -- records and reports -------------------------------------------------------------------


def test_the_note_says_levels_were_inferred() -> None:
    report = _log("starting worker\nbash: kubectl: command not found\nworker stopped\n")
    assert report.kind == "log"
    assert "levels inferred from wording: 1 line had none (1 ERROR)" in report.notes
    summary = summarize_report(report)
    assert "1 ERROR" in summary and "command not found" in summary


def test_an_exception_after_a_bare_line_is_its_own_record() -> None:
    text = (
        "Starting order service\n"
        "java.net.ConnectException: Connection refused (Connection refused)\n"
        "\tat java.net.PlainSocketImpl.socketConnect(Native Method)\n"
        "\tat java.net.Socket.connect(Socket.java:607)\n"
    )
    records = list(iter_records(text.splitlines()))
    assert [r.message for r in records] == [
        "Starting order service",
        "java.net.ConnectException: Connection refused (Connection refused)",
    ]
    assert records[0].level is None and records[1].level == "ERROR"
    assert len(records[1].continuation) == 2  # the stack frames stay with their exception


def test_a_traceback_stays_one_record() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/app/main.py", line 3, in <module>\n'
        "    import flask\n"
        "ModuleNotFoundError: No module named 'flask'\n"
    )
    report = _log(text)
    assert report.record_count == 1
    assert _errors(report) == ["ModuleNotFoundError: No module named 'flask'"]


def test_one_error_in_chatter_makes_a_log() -> None:
    chatter = "".join(f"processed batch {n}\n" for n in range(40))
    report = _log(chatter + "Error: connect ECONNREFUSED 10.0.0.5:5432\n")
    assert report.kind == "log"
    assert _errors(report) == ["connect ECONNREFUSED 10.0.0.5:5432"]


def test_the_errors_reach_the_failure_signatures() -> None:
    text = (
        "java.net.ConnectException: Connection refused (Connection refused)\n"
        "dial tcp: lookup orders-db on 10.96.0.10:53: no such host\n"
    )
    ids = {sig.id for example in _errors(_log(text)) for sig in match(example)}
    assert {"conn-refused", "dns"} <= ids


def test_go_kit_lines_without_a_level_are_logfmt_and_their_err_is_an_error() -> None:
    text = (
        'ts=2026-11-21T14:00:00Z caller=main.go:108 err="dial tcp: connection refused"\n'
        "ts=2026-11-21T14:00:01Z caller=main.go:136 transport=HTTP port=80\n"
        "ts=2026-11-21T14:00:02Z caller=main.go:140 err=<nil> took=3ms\n"
    )
    report = _log(text)
    assert report.kind == "log" and report.formats == ["logfmt"]
    assert report.level_counts == {"ERROR": 1}
    assert _errors(report) == ["dial tcp: connection refused"]


# -- what stays text ---------------------------------------------------------------------


def test_a_runbook_that_names_errors_stays_markdown() -> None:
    text = (
        "# Payments runbook\n\n"
        "If the pod logs say connection refused, check the database service.\n"
        "bash: kubectl: command not found means the tools image is wrong.\n"
    )
    report = _log(text, "runbook.md")
    assert report.kind == "text" and report.language == "Markdown"


def test_a_script_that_prints_errors_stays_a_script() -> None:
    text = (
        "#!/bin/bash\n"
        "set -euo pipefail\n"
        'command -v kubectl || echo "kubectl: command not found"\n'
        'echo "Error: connection refused" >&2\n'
    )
    report = _log(text, "check.sh")
    assert report.kind == "text" and report.language == "shell"


def test_code_that_raises_stays_code() -> None:
    text = (
        "import socket\n\n"
        "def connect(host):\n"
        "    raise ConnectionError('Connection refused')\n"
        "except ValueError:\n"
    )
    report = _log(text, "client.py")
    assert report.kind == "text" and report.language == "Python"


# -- real `kubectl logs` output ------------------------------------------------------------


def _case_log(case: str, pattern: str) -> Path:
    folder = K8S / case
    if not folder.is_dir():
        pytest.skip(f"k8s-troubleshooting data not present at {folder}")
    found = sorted(folder.glob(pattern))
    if not found:
        pytest.skip(f"no {pattern} in {folder}")
    return found[0]


def _real(case: str, pattern: str) -> LogReport:
    path = _case_log(case, pattern)
    return analyze_log(path.name, path.read_bytes())


def test_an_exec_format_error_is_the_error_of_a_short_log() -> None:
    report = _real(
        "test_ask_holmes__158_slack_chat_correct_date",
        "kubectl_logs_frontend-service_default_2025-*.log",
    )
    assert report.kind == "log"
    [group] = report.error_groups
    assert group.count == 2 and "exec format error" in group.example
    assert any(note.startswith("levels inferred from wording") for note in report.notes)


def test_a_go_kit_log_reports_its_database_error() -> None:
    report = _real(
        "test_ask_holmes__43_slack_deployment_logs", "kubectl_logs_catalogue-*_21600.log"
    )
    assert report.kind == "log" and report.first_ts is not None
    [group] = report.error_groups
    assert group.example == "Unable to connect to Database" and group.count == 1


def test_a_shell_that_lacks_a_command_is_an_error() -> None:
    path = _case_log("test_ask_holmes__04_related_k8s_events", "kubectl_lineage_parents_*.txt")
    report = analyze_log(path.name, path.read_bytes())
    assert report.kind == "log"
    assert any("not found" in example for example in _errors(report))


@pytest.mark.parametrize(
    ("case", "pattern"),
    [
        ("test_ask_holmes__93_calling_datadog", "kubectl_logs_catalogue-*.log"),
        ("test_ask_holmes__44_slack_statefulset_logs", "kubectl_logs_alertmanager-0_app-44.log"),
        ("test_ask_holmes__45_fetch_deployment_logs_simple", "kubectl_logs_*.log"),
    ],
)
def test_healthy_pods_have_no_errors(case: str, pattern: str) -> None:
    report = _real(case, pattern)
    assert report.kind == "log" and not report.error_groups


@pytest.mark.parametrize(
    ("case", "pattern"),
    [
        ("test_ask_holmes__08_sock_shop_frontend", "kubectl_logs_*.log"),
        ("test_ask_holmes__158_slack_chat_correct_date", "kubectl_logs_*_throttle-*.log"),
    ],
)
def test_output_without_a_failure_raises_none(case: str, pattern: str) -> None:
    report = _real(case, pattern)
    assert not report.error_groups


def test_a_peer_that_went_down_is_an_error() -> None:
    report = _real("test_ask_holmes__20_long_log_file_search", "kubectl_logs_*.log")
    assert [group.example for group in report.error_groups] == ["Peer down"]


def test_the_errors_of_a_short_log_without_times_make_its_writer_a_suspect() -> None:
    """`kubectl logs` of a pod that says "Peer down": no times, no baseline, yet it is what
    is wrong now. A long log of occasional untimed errors stays noise."""
    short = analyze_log("kubectl_logs_network-connector_app-20.log", b"Peer down\n")
    [suspect] = rank_case_suspects([short])
    assert suspect.component == "network-connector"
    assert any("`Peer down`" in reason for reason in suspect.reasons)
    chatter = "\n".join(
        "connection refused by cache" if i % 40 == 0 else f"handled request {i} ok"
        for i in range(400)
    )
    long = analyze_log("kubectl_logs_worker_app.log", (chatter + "\n").encode())
    assert long.error_groups and rank_case_suspects([long]) == []
