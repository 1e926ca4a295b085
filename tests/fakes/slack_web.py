"""The Web API half of the fake Slack workspace: ``/api/<method>`` dispatch, auth, faults.

The methods themselves live in :mod:`tests.fakes.slack_messages` (chat,
conversations, reactions) and :mod:`tests.fakes.slack_files` (files, uploads,
downloads); :mod:`tests.fakes.slack_params` describes how slack_sdk encodes the
requests and how the fake reads them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from aiohttp import web

from tests.fakes.slack_base import Call, Fault, ResponseUrlPost
from tests.fakes.slack_files import SlackFiles
from tests.fakes.slack_params import ApiError, Params, read_params, require

#: Longest a held answer waits for ``Hold.release`` (a forgotten release must not hang the app).
HOLD_LIMIT_S = 60.0


class SlackWebApi(SlackFiles):
    """Implements the Web API methods the bot uses, plus files and response URLs."""

    def web_routes(self) -> list[web.RouteDef]:
        """aiohttp routes for everything except the WebSocket."""
        return [
            web.route("*", "/api/{method}", self._handle_api),
            web.get("/files/{file_id}/download/{name}", self._handle_file_download),
            web.get("/files/{file_id}/{name}", self._handle_file_download),
            web.post("/upload/v1/{upload_id}", self._handle_upload),
            web.post("/response/{response_id}", self._handle_response_url),
        ]

    def _handlers(self) -> dict[str, Callable[[Params], Params]]:
        return {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.replies": self._conversations_replies,
            "conversations.history": self._conversations_history,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
            "users.conversations": self._users_conversations,
            "files.info": self._files_info,
            "files.upload": self._files_upload_v1,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "views.publish": self._views_publish,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "pins.add": self._pins_add,
            "pins.remove": self._pins_remove,
            "pins.list": self._pins_list,
        }

    # ------------------------------------------------------------------ dispatch

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        status, headers = 200, {}
        params: Params = {}
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.startswith("Bearer ") else None
        try:
            params = await read_params(request)
            form_token = params.pop("token", None)
            token = token or form_token
            fault = self._take_fault(method)
            if fault is not None:
                # The fault replaces the answer and skips side effects:
                # a rate-limited chat.postMessage must not post.
                status, body = fault.status, {"ok": False, "error": fault.error}
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(fault.retry_after)
            else:
                body = self._dispatch(method, params, token)
        except ApiError as exc:
            body = {"ok": False, "error": exc.error, **exc.extra}
        call = Call(method, params, self.now(), token, request.method, status, body)
        self._calls.append(call)
        hold = next((h for h in self.holds if call.ok and h.matches(method, params)), None)
        if hold is not None:
            hold.hold(call)
            await hold.wait_released(HOLD_LIMIT_S)
        return web.json_response(body, status=status, headers=headers)

    def _take_fault(self, method: str) -> Fault | None:
        queue = self.faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    def _dispatch(self, method: str, params: Params, token: str | None) -> Params:
        handler = self._handlers().get(method)
        if handler is None:
            raise ApiError("unknown_method")
        wanted = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != wanted:
            if token in (self.bot_token, self.app_token):
                raise ApiError("not_allowed_token_type")
            raise ApiError("invalid_auth")
        return {"ok": True, **handler(params)}

    # ------------------------------------------------------------------ identity

    def _auth_test(self, params: Params) -> Params:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": "Fake Workspace",
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, params: Params) -> Params:
        ticket = uuid.uuid4().hex
        self.issue_ticket(ticket)
        return {"url": f"ws://{self.host}:{self.port}/socket?ticket={ticket}&app_id={self.app_id}"}

    def _users_info(self, params: Params) -> Params:
        user_id = require(params, "user", "user_not_found")
        return {"user": self.user_info(user_id)}

    def user_info(self, user_id: str) -> Params:
        """Stored user or a generated minimal one."""
        if user_id in self.users:
            return self.users[user_id]
        name = self.bot_name if user_id == self.bot_user_id else f"user-{user_id.lower()}"
        return {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": name.title(),
            "tz": "UTC",
            "tz_offset": 0,
            "is_bot": user_id == self.bot_user_id,
            "deleted": False,
            "profile": {"display_name": name, "real_name": name.title()},
        }

    def _views_publish(self, params: Params) -> Params:
        user_id = require(params, "user_id", "invalid_arguments")
        view = require(params, "view", "invalid_arguments")
        stored = {"id": self.next_id("V"), "team_id": self.team_id, **view}
        self.home_views[user_id] = stored
        return {"view": stored}

    # ------------------------------------------------------------------ response_url

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            body = await request.json()
        else:
            form = await request.post()
            raw = form.get("payload")
            body = json.loads(raw) if isinstance(raw, str) else dict(form)
        self._responses.append(ResponseUrlPost(request.match_info["response_id"], body, self.now()))
        return web.json_response({"ok": True})
