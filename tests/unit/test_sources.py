"""The sources file an admin writes: what is accepted, what is refused and how it says so,
and where each source may be used."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.tools.base import ToolError
from engine.tools.sources import TERMINAL, SourcesError, load_sources, parse_sources, pick_source


def test_a_sources_file_is_read_with_channels_and_secrets_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n"
        "  - name: prod-prom\n    kind: prometheus\n    url: http://prom:9090\n"
        "    credentials_env: PROM_TOKEN\n    channels: ['#incidents', C0OPS]\n"
        "  - name: orders-db\n    kind: postgres\n    url: postgresql://ro@db/orders\n"
        "    channels: ['*']\n"
    )
    monkeypatch.setenv("PROM_TOKEN", "s3cr3t-token")
    sources = load_sources(path)
    prom = sources.get("prod-prom")
    assert prom is not None and prom.secret() == "s3cr3t-token"
    assert prom.allowed_in("C0OPS") and prom.allowed_in("C0X", "incidents")
    assert not prom.allowed_in("C0OTHER", "random")
    assert prom.allowed_in(TERMINAL)  # the operator's own terminal
    assert [s.name for s in sources.allowed_in("C0OTHER")] == ["orders-db"]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("sources:\n  - name: p\n    kind: graphite\n", "source 'p': kind"),
        ("sources:\n  - name: Bad Name\n    kind: redis\n", "name"),
        ("sources:\n  - name: p\n    kind: redis\n    password: hunter2\n", "password"),
        ("sources: {name: p}\n", "must be a list"),
        ("sources: [\n", "not valid YAML"),
    ],
)
def test_a_wrong_sources_file_is_refused_naming_what_is_wrong(
    tmp_path: Path, text: str, said: str
) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(text)
    with pytest.raises(SourcesError, match=said):
        load_sources(path)


def test_two_sources_with_one_name_are_refused() -> None:
    with pytest.raises(SourcesError, match="two sources are named 'a'"):
        parse_sources({"sources": [{"name": "a", "kind": "redis"}, {"name": "a", "kind": "http"}]})


def test_a_tool_names_its_source_or_takes_the_only_one() -> None:
    sources = parse_sources([{"name": "a", "kind": "redis"}, {"name": "b", "kind": "redis"}])
    both = sources.of_kind("redis")
    assert pick_source(both[:1], None, "redis").name == "a"
    assert pick_source(both, "b", "redis").name == "b"
    with pytest.raises(ToolError, match="say which redis source to use: a, b"):
        pick_source(both, None, "redis")
    with pytest.raises(ToolError, match="no redis source named 'c' may be used here"):
        pick_source(both, "c", "redis")
