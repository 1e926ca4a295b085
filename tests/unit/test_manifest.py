"""manifest.yml against the code: the Slack app it creates gets every event, command and click
the bot listens for, and every scope the Web API methods it calls need, and no more; in socket
mode as pasted, and in HTTP mode as `faultmaven manifest --http URL` prints it.

What the code registers is read from the real Bolt app that bot.app.build_app returns (every
listener registration is recorded as it is made), and the Web API methods from bot/'s source,
so a new listener or call fails here until the manifest (and the tables below) say so.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from typer.testing import CliRunner

import bot.app
from bot.cli.main import app as cli
from bot.deps import BotDeps
from bot.serving.http_mode import EVENTS_PATH, http_manifest_text, manifest_text, request_url
from engine.core.errors import ConfigurationError

ROOT = Path(__file__).parents[2]
MANIFEST = ROOT / "manifest.yml"
BOT_SOURCES = sorted((ROOT / "bot").rglob("*.py"))
URL = "https://faultmaven.example.com/slack/events"

#: Bot scopes each Web API method needs (api.slack.com/methods), for the conversation types
#: the bot works in: public and private channels and DMs.
METHOD_SCOPES: dict[str, set[str]] = {
    "auth_test": set(),
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_delete": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_getPermalink": set(),
    "pins_add": {"pins:write"},
    "pins_remove": {"pins:write"},
    "pins_list": {"pins:read"},
    "files_info": {"files:read"},
    "files_list": {"files:read"},
    "files_upload_v2": {"files:write"},
    "files_getUploadURLExternal": {"files:write"},
    "files_completeUploadExternal": {"files:write"},
    "files_delete": {"files:write"},
    "conversations_replies": {"channels:history", "groups:history", "im:history"},
    "conversations_history": {"channels:history", "groups:history", "im:history"},
    "conversations_info": {"channels:read", "groups:read", "im:read"},
    "users_conversations": {"channels:read", "groups:read"},  # types public + private
    "users_info": {"users:read"},
    "users_list": {"users:read"},
    "users_lookupByEmail": {"users:read", "users:read.email"},
    "views_publish": set(),
    "views_open": set(),
    "views_update": set(),
    "views_push": set(),
    "reactions_add": {"reactions:write"},
    "reactions_remove": {"reactions:write"},
    "reactions_get": {"reactions:read"},
    "team_info": {"team:read"},
    "usergroups_list": {"usergroups:read"},
    "bookmarks_add": {"bookmarks:write"},
}
#: Bot scopes each subscribable bot event needs (api.slack.com/events).
EVENT_SCOPES: dict[str, set[str]] = {
    "app_home_opened": set(),
    "app_mention": {"app_mentions:read"},
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
    "message.im": {"im:history"},
    "message.mpim": {"mpim:history"},
    "file_shared": {"files:read"},
    "reaction_added": {"reactions:read"},
    "reaction_removed": {"reactions:read"},
    "member_joined_channel": {"channels:read", "groups:read"},
    "channel_created": {"channels:read"},
    "team_join": {"users:read"},
}
#: AsyncApp methods that register a listener, and what they listen for.
EVENT_METHODS = {"event", "message"}
COMMAND_METHODS = {"command"}
INTERACTIVE_METHODS = {
    "action",
    "block_action",
    "attachment_action",
    "dialog_submission",
    "dialog_cancellation",
    "dialog_suggestion",
    "options",
    "block_suggestion",
    "shortcut",
    "global_shortcut",
    "message_shortcut",
    "view",
    "view_submission",
    "view_closed",
}


@dataclass
class Registered:
    """What the app listens for, as its listener registrations said."""

    events: set[str] = field(default_factory=set)
    commands: set[str] = field(default_factory=set)
    interactive: list[tuple[str, object]] = field(default_factory=list)
    count: int = 0


def _event_type(constraint: object) -> str:
    if isinstance(constraint, str):
        return constraint
    if isinstance(constraint, dict) and isinstance(constraint.get("type"), str):
        return str(constraint["type"])
    raise AssertionError(f"cannot check an event listener for {constraint!r} against manifest")


def _recording_app(registered: Registered) -> type[AsyncApp]:
    """AsyncApp recording each listener registration (outermost call only: some methods
    delegate to others)."""
    depth = 0

    def recorder(name: str) -> Callable[..., Any]:
        original = getattr(AsyncApp, name)

        def method(self: AsyncApp, *args: Any, **kwargs: Any) -> Any:
            nonlocal depth
            if depth == 0:
                what = args[0] if args else next(iter(kwargs.values()), None)
                if name == "message":  # app.message(keyword) listens to message events
                    registered.events.add("message")
                elif name in EVENT_METHODS:
                    registered.events.add(_event_type(what))
                elif name in COMMAND_METHODS:
                    registered.commands.add(str(what))
                else:
                    registered.interactive.append((name, what))
                registered.count += 1
            depth += 1
            try:
                return original(self, *args, **kwargs)
            finally:
                depth -= 1

        return method

    methods = EVENT_METHODS | COMMAND_METHODS | INTERACTIVE_METHODS
    return type("RecordingApp", (AsyncApp,), {name: recorder(name) for name in methods})


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> Registered:
    found = Registered()
    monkeypatch.setattr(bot.app, "AsyncApp", _recording_app(found))
    client = AsyncWebClient(token="xoxb-manifest-test")
    app = bot.app.build_app(cast(BotDeps, None), client, signing_secret="manifest-test")
    # Every listener the app holds came through a recorded registration.
    listeners = app._async_listeners
    assert len(listeners) == found.count, "a listener was registered some other way"
    assert found.events and found.commands  # the reading works
    return found


def web_api_calls() -> dict[str, set[str]]:
    """Web API methods bot/ calls (slack_sdk method names), each with the files calling it:
    `<anything>.<method>(...)` for each AsyncWebClient method, `.api_call("x.y")`, and Bolt's
    `say(...)` (chat.postMessage)."""
    methods = {name for name in vars(AsyncWebClient) if not name.startswith("_")}
    calls: dict[str, set[str]] = {}
    for path in BOT_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name: str | None = None
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in methods:
                name = func.attr
            elif isinstance(func, ast.Attribute) and func.attr == "api_call" and node.args:
                arg = node.args[0]
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                    raise AssertionError(f"{path}: api_call with a computed method name")
                name = arg.value.replace(".", "_")
            elif isinstance(func, ast.Name) and func.id == "say":
                name = "chat_postMessage"
            if name:
                calls.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return calls


def socket_manifest() -> dict[str, Any]:
    return cast(dict[str, Any], yaml.safe_load(MANIFEST.read_text()))


def http_variant() -> dict[str, Any]:
    return cast(dict[str, Any], yaml.safe_load(http_manifest_text(MANIFEST.read_text(), URL)))


VARIANTS = pytest.mark.parametrize(
    "manifest", [socket_manifest(), http_variant()], ids=["socket", "http"]
)


def bot_events(manifest: dict[str, Any]) -> set[str]:
    return set(manifest["settings"]["event_subscriptions"]["bot_events"])


def granted(manifest: dict[str, Any]) -> set[str]:
    return set(manifest["oauth_config"]["scopes"]["bot"])


@VARIANTS
def test_the_manifest_subscribes_to_exactly_the_events_the_code_listens_to(
    manifest: dict[str, Any], registered: Registered
) -> None:
    # "message" listeners get message.channels / .groups / .im / .mpim, each a subscription.
    subscribed = {event.split(".")[0] for event in bot_events(manifest)}
    unsubscribed, unhandled = registered.events - subscribed, subscribed - registered.events
    assert not unsubscribed, f"listened to, not subscribed in manifest.yml: {unsubscribed}"
    assert not unhandled, f"subscribed in manifest.yml, never handled: {unhandled}"
    home = "app_home_opened" in registered.events
    assert manifest["features"]["app_home"]["home_tab_enabled"] is home


@VARIANTS
def test_the_manifest_declares_exactly_the_slash_commands_the_code_handles(
    manifest: dict[str, Any], registered: Registered
) -> None:
    declared = {c["command"] for c in manifest["features"].get("slash_commands") or []}
    assert declared == registered.commands
    assert "commands" in granted(manifest) or not registered.commands


@VARIANTS
def test_interactivity_is_on_when_the_code_handles_clicks(
    manifest: dict[str, Any], registered: Registered
) -> None:
    assert registered.interactive, "the Confirm / Rule out buttons are listened for"
    enabled = manifest["settings"].get("interactivity", {}).get("is_enabled", False)
    assert enabled is bool(registered.interactive)
    if any(name in ("options", "block_suggestion") for name, _ in registered.interactive):
        assert manifest["settings"]["interactivity"].get("message_menu_options_url")


@VARIANTS
def test_the_scopes_cover_every_call_and_event_and_nothing_more(
    manifest: dict[str, Any], registered: Registered
) -> None:
    calls = web_api_calls()
    assert {"chat_postMessage", "views_publish"} <= set(calls)  # the scan finds calls
    unknown = {m: files for m, files in calls.items() if m not in METHOD_SCOPES}
    assert not unknown, f"add the scopes of these methods to METHOD_SCOPES: {unknown}"
    unlisted = bot_events(manifest) - set(EVENT_SCOPES)
    assert not unlisted, f"add the scopes of these events to EVENT_SCOPES: {unlisted}"
    needs: dict[str, set[str]] = {}
    for method in calls:
        for scope in METHOD_SCOPES[method]:
            needs.setdefault(scope, set()).add(method)
    for event in bot_events(manifest):
        for scope in EVENT_SCOPES[event]:
            needs.setdefault(scope, set()).add(event)
    if registered.commands:
        needs.setdefault("commands", set()).update(registered.commands)
    missing = {scope: why for scope, why in needs.items() if scope not in granted(manifest)}
    assert not missing, f"manifest.yml lacks scopes (scope: what needs it): {missing}"
    unused = granted(manifest) - set(needs)
    assert not unused, f"manifest.yml grants scopes nothing uses: {sorted(unused)}"


def test_the_pasted_manifest_is_for_socket_mode() -> None:
    manifest = socket_manifest()
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert "request_url" not in settings["event_subscriptions"]
    assert "request_url" not in settings.get("interactivity", {})
    assert all("url" not in c for c in manifest["features"]["slash_commands"])


def test_the_http_variant_sends_everything_to_the_request_url() -> None:
    manifest, pasted = http_variant(), socket_manifest()
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is False
    assert settings["event_subscriptions"]["request_url"] == URL
    assert settings["interactivity"]["request_url"] == URL
    assert [c["url"] for c in manifest["features"]["slash_commands"]] == [URL] * len(
        pasted["features"]["slash_commands"]
    )
    # Nothing else changes: same scopes, events, commands and texts.
    assert granted(manifest) == granted(pasted) and bot_events(manifest) == bot_events(pasted)
    assert manifest["display_information"] == pasted["display_information"]


def test_a_request_url_is_https_and_gets_the_events_path() -> None:
    assert request_url("https://fm.example.com") == "https://fm.example.com" + EVENTS_PATH
    assert request_url("https://fm.example.com/") == "https://fm.example.com" + EVENTS_PATH
    assert request_url("https://lb.example.com/fm/events") == "https://lb.example.com/fm/events"
    for bad in ("http://fm.example.com/slack/events", "fm.example.com", "https://"):
        with pytest.raises(ConfigurationError, match="https"):
            request_url(bad)


runner = CliRunner()


def test_faultmaven_manifest_prints_either_variant(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # found beside the package, not only in the current directory
    pasted = runner.invoke(cli, ["manifest"])
    assert pasted.exit_code == 0 and pasted.output == MANIFEST.read_text()

    http = runner.invoke(cli, ["manifest", "--http", "https://faultmaven.example.com"])
    assert http.exit_code == 0, http.output
    printed = yaml.safe_load(http.output)
    assert printed == http_variant()
    assert re.search(r"^# .*SLACK_SIGNING_SECRET", http.output, re.MULTILINE)

    refused = runner.invoke(cli, ["manifest", "--http", "http://faultmaven.example.com"])
    assert refused.exit_code == 2 and "Slack only sends requests to https://" in refused.output


def test_faultmaven_manifest_names_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yml"
    result = runner.invoke(cli, ["manifest", "--file", str(missing)])
    assert result.exit_code == 2 and f"No manifest.yml found (looked at {missing})" in result.output
    with pytest.raises(ConfigurationError):
        manifest_text(missing)
