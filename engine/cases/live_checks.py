"""Which live check can test a hypothesis, and what its answer says about it.

A hypothesis's failure signature names what would prove it: a pool exhausted shows in the
database's connection count; an expired certificate in the TLS handshake; a refused
connection in a TCP connect; a name that does not resolve in a DNS lookup; lock trouble in
the blocked queries. A check is planned only when a source allowed in the case's channel can
answer it (and for network checks, when the hypothesis's own evidence names the host), and
its verdict is read from the numbers the tool returns (`ToolRun.facts`), never from prose.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.core.tool_runs import CheckResult, CheckVerdict, ToolBox, ToolRun
from engine.investigate.result import Hypothesis, Investigation
from engine.tools.registry import call_text
from engine.tools.sources import Source, Sources

Judge = Callable[[ToolRun], tuple[CheckVerdict, str]]

SATURATED = 0.9  # connections in use over the maximum that shows exhaustion
ROOMY = 0.6  # under it the database had room: the pool's limit is elsewhere, or not it
EXPIRING_DAYS = 14

_URL = re.compile(r"\bhttps://[A-Za-z0-9.-]+(?::\d{2,5})?", re.IGNORECASE)
_HOST_PORT = re.compile(r"\b((?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*):(\d{2,5})\b")
_HOST = re.compile(r"\b(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b")
_NOT_HOSTS = re.compile(r"\.(?:log|txt|json|ya?ml|py|java|go|js|ts|conf|cfg|csv)$", re.I)


@dataclass(frozen=True)
class PlannedCheck:
    hypothesis_key: str
    tool: str
    arguments: dict[str, Any]
    judge: Judge

    @property
    def call(self) -> str:
        return call_text(self.tool, self.arguments)


def _first_line(run: ToolRun) -> str:
    return next((line.strip() for line in run.output.splitlines() if line.strip()), "")


def _number(facts: dict[str, Any], key: str) -> float | None:
    value = facts.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def judge_connections(run: ToolRun) -> tuple[CheckVerdict, str]:
    used, most = _number(run.facts, "used"), _number(run.facts, "max")
    if used is None or not most:
        return "unclear", _first_line(run)
    share = used / most
    said = f"{used:.0f} of {most:.0f} connections in use ({share:.0%})"
    if share >= SATURATED:
        return "supports", said
    if share < ROOMY:
        return "contradicts", said
    return "unclear", said


def judge_blocked(run: ToolRun) -> tuple[CheckVerdict, str]:
    blocked = _number(run.facts, "blocked")
    if blocked is None:
        return "unclear", _first_line(run)
    if blocked > 0:
        return "supports", f"{blocked:.0f} queries blocked by another session's locks"
    # Lock trouble comes and goes: none now does not say it never happened.
    return "unclear", "no query is blocked now"


def judge_certificate(run: ToolRun) -> tuple[CheckVerdict, str]:
    days = _number(run.facts, "days_left")
    verified = run.facts.get("verified")
    if days is None:
        return "unclear", _first_line(run)
    if days < 0:
        return "supports", f"the certificate expired {-days:.0f} days ago"
    if verified is False:
        return "supports", f"the certificate does not verify ({run.facts.get('problem', '')})"
    if days < EXPIRING_DAYS:
        return "supports", f"the certificate expires in {days:.0f} days"
    return "contradicts", f"the certificate is valid for {days:.0f} more days and verifies"


def judge_resolution(run: ToolRun) -> tuple[CheckVerdict, str]:
    answers = _number(run.facts, "answers")
    rcode = str(run.facts.get("rcode", ""))
    if answers is None and not rcode:
        return "unclear", _first_line(run)
    if rcode and rcode != "NOERROR":
        return "supports", f"the name does not resolve ({rcode})"
    if answers:
        return "contradicts", f"the name resolves now ({answers:.0f} answers)"
    return "supports", "the name has no address"


def judge_connect(run: ToolRun) -> tuple[CheckVerdict, str]:
    connected = run.facts.get("connected")
    if not isinstance(connected, bool):
        return "unclear", _first_line(run)
    if connected:
        return "contradicts", "the port accepts connections now"
    return "supports", f"the port does not accept connections ({run.facts.get('error', '')})"


def _cited_text(hypothesis: Hypothesis) -> str:
    return "\n".join(c.text for c in hypothesis.supporting)


def _https_target(text: str) -> str | None:
    if match := _URL.search(text):
        return match.group(0)
    for host, port in _HOST_PORT.findall(text):
        if "." in host and not _NOT_HOSTS.search(host) and port in ("443", "8443"):
            return f"https://{host}:{port}"
    host = _host(text)
    return f"https://{host}" if host else None


def _host(text: str) -> str | None:
    for match in _HOST.finditer(text):
        if not _NOT_HOSTS.search(match.group(0)) and not match.group(0)[0].isdigit():
            return match.group(0)
    return None


def _host_port(text: str) -> tuple[str, int] | None:
    for host, port in _HOST_PORT.findall(text):
        if not _NOT_HOSTS.search(host) and 0 < int(port) < 65536:
            return host, int(port)
    return None


def _source_for(sources: list[Source], hypothesis: Hypothesis) -> Source | None:
    """The source named like the hypothesis's component, else the first of its kind."""
    if not sources:
        return None
    component = (hypothesis.component or "").lower()
    for source in sources:
        if component and (component in source.name or source.name in component):
            return source
    return sources[0]


def plan_check(
    hypothesis: Hypothesis, sources: Sources, tool_names: set[str]
) -> PlannedCheck | None:
    """The live check that can test `hypothesis` with the tools and sources of its place."""
    key = hypothesis.id
    # Stored hypotheses keep their signature in their key ("db-pool-exhausted:payments").
    signature = hypothesis.signature or key.partition(":")[0]
    cited = _cited_text(hypothesis) + "\n" + hypothesis.statement
    if signature in ("db-pool-exhausted", "deadlock") and "postgres_diagnose" in tool_names:
        source = _source_for(sources.of_kind("postgres"), hypothesis)
        if source is not None:
            check, judge = (
                ("connections", judge_connections)
                if signature == "db-pool-exhausted"
                else ("blocked", judge_blocked)
            )
            args = {"source": source.name, "check": check}
            return PlannedCheck(key, "postgres_diagnose", args, judge)
    if signature == "tls" and "http_probe" in tool_names and (url := _https_target(cited)):
        return PlannedCheck(key, "http_probe", {"url": url}, judge_certificate)
    if signature == "dns" and "dns_lookup" in tool_names and (name := _host(cited)):
        return PlannedCheck(key, "dns_lookup", {"name": name}, judge_resolution)
    target = _host_port(cited) if signature == "conn-refused" else None
    if target is not None and "tcp_connect" in tool_names:
        return PlannedCheck(
            key, "tcp_connect", {"host": target[0], "port": target[1]}, judge_connect
        )
    return None


def with_check_labels(
    result: Investigation, plan: Callable[[Hypothesis], PlannedCheck | None]
) -> Investigation:
    """The turn's hypotheses with the live check each can get (the summary's Run check)."""
    hypotheses = []
    for hypothesis in result.hypotheses:
        planned = plan(hypothesis) if hypothesis.status in ("proposed", "testing") else None
        hypotheses.append(
            hypothesis.model_copy(update={"live_check": planned.call if planned else None})
        )
    return result.model_copy(update={"hypotheses": hypotheses})


async def run_planned(
    box: ToolBox, planned: PlannedCheck, requested_by: str
) -> tuple[ToolRun, CheckResult]:
    """Run a planned check through `box` (validated, capped, masked, audited) and judge it."""
    run = await box.run(planned.tool, planned.arguments, requested_by=requested_by)
    verdict, said = planned.judge(run) if run.ok else ("unclear", run.error or "failed")
    return run, CheckResult(
        hypothesis_key=planned.hypothesis_key,
        tool=run.tool,
        call=run.call,
        query=run.query,
        ok=run.ok,
        verdict=verdict,
        summary=said,
        requested_by=requested_by,
    )
