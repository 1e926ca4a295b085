"""A real public knowledge corpus for tests/bench/bench_knowledge.py: the alert rules of
"Awesome Prometheus alerts" (samber/awesome-prometheus-alerts, by Samuel Berthe and
contributors, CC BY 4.0), read from ../shared/data/awesome-prometheus-alerts/rules.yml and
never copied into the repository.

Each service (PostgreSQL, Kubernetes, Caddy...) becomes one Markdown page, written to a
folder and imported from there as `faultmaven kb import FOLDER` does (read_documents, then
import_document): a page per service is what a team keeps as "the Redis alerts runbook", a
rule alone is two lines (a name, a sentence, a query) that no one would file as a page, and
the pages range from one rule (Patroni, Linkerd) to fifty (Mimir, Thanos), the mix of short
and long pages that search must rank fairly. Under the page's title each exporter is a
section and each rule a subsection: its name, its description, the rule as the project's
site gives it (`alert: PostgresqlTooManyConnections`: the name in CamelCase, as deployed
rules carry it and as it arrives in an incident channel when it fires) and its comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

RULES = Path(__file__).resolve().parents[3] / "shared" / "data" / "awesome-prometheus-alerts"
RULES_FILE = RULES / "rules.yml"


@dataclass(frozen=True)
class Page:
    slug: str  # the file's stem: what the labelled queries expect
    title: str
    text: str
    rules: int


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def alert_name(rule_name: str) -> str:
    """The rule's name as the site writes it in a rule file: each word capitalised (the rest
    of the word in lower case), joined; signs dropped ("MySQL too many connections (> 80%)"
    -> MysqlTooManyConnections80)."""
    words = (w[:1].upper() + w[1:].lower() for w in rule_name.split())
    return re.sub(r"[^A-Za-z0-9]", "", "".join(words))


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rule(rule: dict[str, object]) -> str:
    name = str(rule["name"])
    description = " ".join(str(rule.get("description", "")).split())
    lines = [
        f"### {name}",
        "",
        description,
        "",
        "```yaml",
        f"- alert: {alert_name(name)}",
        f"  expr: {rule['query']}",
        f"  for: {rule.get('for', '0m')}",
        "  labels:",
        f"    severity: {rule.get('severity', 'warning')}",
        "  annotations:",
        f"    summary: {_quoted(name + ' (instance {{ $labels.instance }})')}",
        f"    description: {_quoted(description)}",
        "```",
    ]
    comments = " ".join(str(rule.get("comments") or "").split())
    if comments:
        lines += ["", comments]
    return "\n".join(lines)


def pages(rules_file: Path = RULES_FILE) -> list[Page]:
    """One page per service, in the order of the rules file."""
    data = yaml.safe_load(rules_file.read_text())
    found: list[Page] = []
    for group in data["groups"]:
        for service in group["services"]:
            title = str(service["name"])
            parts = [
                f"# {title}",
                "",
                f"Prometheus alert rules for {title} ({group['name']}), from Awesome Prometheus"
                " alerts (CC BY 4.0).",
            ]
            count = 0
            for exporter in service["exporters"]:
                parts += ["", f"## {exporter.get('name') or exporter['slug']}"]
                if exporter.get("comments"):
                    parts += ["", " ".join(str(exporter["comments"]).split())]
                for rule in exporter.get("rules") or []:
                    parts += ["", _rule(rule)]
                    count += 1
            found.append(Page(slug(title), title, "\n".join(parts) + "\n", count))
    return found


def write_pages(folder: Path, rules_file: Path = RULES_FILE) -> list[Page]:
    """The pages as Markdown files `<slug>.md` in `folder`, for an import of the folder."""
    written = pages(rules_file)
    for page in written:
        (folder / f"{page.slug}.md").write_text(page.text)
    return written
