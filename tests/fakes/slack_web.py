"""The Web API half of the fake Slack workspace: ``/api/<method>``, files, uploads.

Requests are parsed the way slack_sdk 3.x actually sends them (checked against
``slack_sdk/web/async_client.py`` and ``internal_utils._build_req_args``):

* ``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``, ``views.publish``:
  POST with a JSON body (``Content-Type: application/json;charset=utf-8``).
* ``auth.test``, ``apps.connections.open``, ``reactions.add/remove``,
  ``files.getUploadURLExternal``, ``files.completeUploadExternal``: POST with the
  arguments in the *query string* and an empty form body; the latter sends
  ``files`` as a JSON string.
* ``conversations.replies/info``, ``users.info``, ``files.info``,
  ``chat.getPermalink``: GET with a query string.
* The token always travels as ``Authorization: Bearer ...`` (slack_sdk pops a
  ``token=`` argument into the header); a ``token`` form/query field is accepted too.
* The upload URL from files.getUploadURLExternal gets a raw-bytes POST *without*
  an Authorization header, and slack_sdk expects a ``text/plain`` answer.

So the fake merges query string + JSON/form body, and decodes JSON-in-a-string
fields (``blocks``, ``metadata``, ``files``...) so tests can assert on structures.
"""

from __future__ import annotations

import contextlib
import json
import mimetypes
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp.web_request import FileField

from tests.fakes.slack_base import (
    Call,
    Download,
    Fault,
    PendingUpload,
    ResponseUrlPost,
    SlackState,
    StoredFile,
    Upload,
)

JSON_FIELDS = ("blocks", "attachments", "metadata", "files", "view")
CHUNK_SIZE = 16 * 1024
LOGIN_PAGE = (
    '<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8">'
    '<title>Slack</title></head><body class="signin">'
    '<h1>Sign in to fake-workspace</h1><form id="signin_form" action="/" method="post">'
    '<input type="email" name="email"><input type="password" name="password">'
    '<button type="submit">Sign in</button></form></body></html>'
)

Params = dict[str, Any]


class ApiError(Exception):
    """Raised by a method handler to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _truthy(value: Any) -> bool:
    return str(value).lower() in {"1", "true", "yes"}


def _require(params: Params, name: str, error: str = "invalid_arguments") -> Any:
    value = params.get(name)
    if value in (None, ""):
        raise ApiError(error, detail=f"missing required argument '{name}'")
    return value


async def read_params(request: web.Request) -> Params:
    """Query string + JSON or form body, JSON string fields decoded."""
    params: Params = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except json.JSONDecodeError as exc:
                raise ApiError("invalid_json") from exc
            if isinstance(body, dict):
                params.update(body)
        else:
            form = await request.post()
            for key, part in form.items():
                params[key] = part if isinstance(part, str) else _part_bytes(part)
    for key in JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(json.JSONDecodeError):
                params[key] = json.loads(value)
    return params


def _part_bytes(part: str | bytes | bytearray | FileField) -> bytes:
    """Bytes of one form/multipart field."""
    if isinstance(part, FileField):
        return bytes(part.file.read())
    if isinstance(part, str):
        return part.encode()
    return bytes(part)


class SlackWebApi(SlackState):
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
            "files.info": self._files_info,
            "files.upload": self._files_upload_v1,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "views.publish": self._views_publish,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
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
        self._calls.append(Call(method, params, self.now(), token, request.method, status, body))
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
        user_id = _require(params, "user", "user_not_found")
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

    def _conversations_info(self, params: Params) -> Params:
        channel = _require(params, "channel", "channel_not_found")
        return {"channel": self.channel_info(channel)}

    def channel_info(self, channel: str) -> Params:
        """Stored channel or a generated one; ids must look like C/G/D ids."""
        if channel in self.channels:
            return self.channels[channel]
        if channel[:1] not in ("C", "G", "D"):
            raise ApiError("channel_not_found")
        is_im = channel.startswith("D")
        return {
            "id": channel,
            "name": None if is_im else f"chan-{channel.lower()}",
            "is_channel": channel.startswith("C"),
            "is_group": channel.startswith("G"),
            "is_im": is_im,
            "is_private": not channel.startswith("C"),
            "is_member": True,
            "is_archived": False,
            "created": 1_700_000_000,
        }

    # ------------------------------------------------------------------ messages

    def store_message(self, channel: str, message: Params) -> Params:
        """Put a message into the thread store and keep the root's reply stats in sync."""
        self.messages[channel][message["ts"]] = message
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            root = self.messages[channel].get(thread_ts)
            if root is not None:
                root["thread_ts"] = thread_ts
                root["reply_count"] = root.get("reply_count", 0) + 1
                root["latest_reply"] = message["ts"]
                users = root.setdefault("reply_users", [])
                author = message.get("user")
                if author and author not in users:
                    users.append(author)
                root["reply_users_count"] = len(users)
                message.setdefault("parent_user_id", root.get("user"))
        return message

    def find_message(self, channel: str, ts: str) -> Params:
        """The stored message, or ``message_not_found`` like real Slack."""
        message = self.messages.get(channel, {}).get(ts)
        if message is None:
            raise ApiError("message_not_found")
        return message

    def bot_message(self, params: Params, ts: str) -> Params:
        """A message as Slack stores it when the bot posts ``params``."""
        message: Params = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": params.get("text") or "",
            "ts": ts,
            "bot_profile": {"id": self.bot_id, "app_id": self.app_id, "name": self.bot_name},
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts", "reply_broadcast"):
            if params.get(key) not in (None, ""):
                message[key] = params[key]
        return message

    def _chat_post_message(self, params: Params) -> Params:
        channel = _require(params, "channel", "channel_not_found")
        self.channel_info(channel)
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            raise ApiError("no_text")
        message = self.store_message(channel, self.bot_message(params, self.next_ts()))
        return {"channel": channel, "ts": message["ts"], "message": dict(message)}

    def _chat_update(self, params: Params) -> Params:
        channel = _require(params, "channel", "channel_not_found")
        message = self.find_message(channel, _require(params, "ts", "message_not_found"))
        if message.get("user") != self.bot_user_id:
            raise ApiError("cant_update_message")
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in params:
                message[key] = params[key]
        message["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": dict(message),
        }

    def _chat_delete(self, params: Params) -> Params:
        channel = _require(params, "channel", "channel_not_found")
        ts = _require(params, "ts", "message_not_found")
        self.find_message(channel, ts)
        del self.messages[channel][ts]
        return {"channel": channel, "ts": ts}

    def _chat_post_ephemeral(self, params: Params) -> Params:
        channel = _require(params, "channel", "channel_not_found")
        _require(params, "user", "user_not_in_channel")
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            raise ApiError("no_text")
        return {"message_ts": self.next_ts(), "channel": channel}

    def _chat_get_permalink(self, params: Params) -> Params:
        channel = _require(params, "channel", "channel_not_found")
        message = self.find_message(channel, _require(params, "message_ts", "message_not_found"))
        link = (
            f"https://{self.team_domain}.slack.com/archives/{channel}/"
            f"p{message['ts'].replace('.', '')}"
        )
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            link += f"?thread_ts={thread_ts}&cid={channel}"
        return {"channel": channel, "permalink": link}

    def thread(self, channel: str, ts: str, *, include_metadata: bool = True) -> list[Params]:
        """Root + replies of a thread in ts order (what conversations.replies shows)."""
        store = self.messages.get(channel, {})
        items = [m for m in store.values() if m["ts"] == ts or m.get("thread_ts") == ts]
        items.sort(key=lambda m: float(m["ts"]))
        return [dict(m) if include_metadata else _public(m) for m in items]

    def _conversations_replies(self, params: Params) -> Params:
        channel = _require(params, "channel", "channel_not_found")
        ts = _require(params, "ts", "thread_not_found")
        if ts not in self.messages.get(channel, {}):
            raise ApiError("thread_not_found")
        # Real Slack only returns message metadata when asked for it.
        keep_metadata = _truthy(params.get("include_all_metadata"))
        items = self.thread(channel, ts, include_metadata=keep_metadata)
        return self._page(items, params, "messages")

    def _conversations_history(self, params: Params) -> Params:
        channel = _require(params, "channel", "channel_not_found")
        store = self.messages.get(channel, {}).values()
        top = [m for m in store if m.get("thread_ts") in (None, m["ts"])]
        top.sort(key=lambda m: float(m["ts"]), reverse=True)
        keep_metadata = _truthy(params.get("include_all_metadata"))
        return self._page([m if keep_metadata else _public(m) for m in top], params, "messages")

    @staticmethod
    def _page(items: list[Params], params: Params, key: str) -> Params:
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 1000)
        page = items[start : start + limit]
        more = start + limit < len(items)
        return {
            key: [dict(m) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _views_publish(self, params: Params) -> Params:
        user_id = _require(params, "user_id", "invalid_arguments")
        view = _require(params, "view", "invalid_arguments")
        stored = {"id": self.next_id("V"), "team_id": self.team_id, **view}
        self.home_views[user_id] = stored
        return {"view": stored}

    def _reactions_add(self, params: Params) -> Params:
        message = self.find_message(
            _require(params, "channel", "channel_not_found"),
            _require(params, "timestamp", "message_not_found"),
        )
        name = _require(params, "name", "invalid_name")
        reactions = message.setdefault("reactions", [])
        for reaction in reactions:
            if reaction["name"] == name:
                if self.bot_user_id in reaction["users"]:
                    raise ApiError("already_reacted")
                reaction["users"].append(self.bot_user_id)
                reaction["count"] += 1
                return {}
        reactions.append({"name": name, "users": [self.bot_user_id], "count": 1})
        return {}

    def _reactions_remove(self, params: Params) -> Params:
        message = self.find_message(
            _require(params, "channel", "channel_not_found"),
            _require(params, "timestamp", "message_not_found"),
        )
        name = _require(params, "name", "invalid_name")
        for reaction in message.get("reactions", []):
            if reaction["name"] == name and self.bot_user_id in reaction["users"]:
                reaction["users"].remove(self.bot_user_id)
                reaction["count"] -= 1
                if not reaction["count"]:
                    message["reactions"].remove(reaction)
                return {}
        raise ApiError("no_reaction")

    # ------------------------------------------------------------------ files

    def make_file(
        self,
        name: str,
        content: bytes,
        *,
        channel: str | None,
        thread_ts: str | None = None,
        user: str = "U0USER",
        mimetype: str | None = None,
        filetype: str | None = None,
        title: str | None = None,
        status: int | None = None,
        html_instead: bool = False,
        file_id: str | None = None,
    ) -> Params:
        """Store a file and return the Slack-shaped file object."""
        file_id = file_id or self.next_id("F")
        guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
        filetype = filetype or (name.rsplit(".", 1)[-1].lower() if "." in name else "binary")
        quoted = quote(name)
        now = int(time.time())
        shares: Params = {}
        if channel:
            share: Params = {"ts": thread_ts or "", "channel_name": channel}
            if thread_ts:
                share["thread_ts"] = thread_ts
            shares = {("public" if channel.startswith("C") else "private"): {channel: [share]}}
        info: Params = {
            "id": file_id,
            "created": now,
            "timestamp": now,
            "name": name,
            "title": title or name,
            "mimetype": mimetype or guessed,
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": user,
            "user_team": self.team_id,
            "editable": False,
            "size": len(content),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(channel and channel.startswith("C")),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{self.root_url}/files/{file_id}/{quoted}",
            "url_private_download": f"{self.root_url}/files/{file_id}/download/{quoted}",
            "permalink": f"https://{self.team_domain}.slack.com/files/{user}/{file_id}/{quoted}",
            "permalink_public": f"https://slack-files.com/{self.team_id}-{file_id}-fake",
            "channels": [channel] if channel and channel.startswith("C") else [],
            "groups": [channel] if channel and channel.startswith("G") else [],
            "ims": [channel] if channel and channel.startswith("D") else [],
            "comments_count": 0,
            "has_rich_preview": False,
            "file_access": "visible",
            "shares": shares,
        }
        self.files[file_id] = StoredFile(info, content, status, html_instead)
        return dict(info)

    def _files_info(self, params: Params) -> Params:
        stored = self.files.get(_require(params, "file", "file_not_found"))
        if stored is None:
            raise ApiError("file_not_found")
        return {"file": dict(stored.info), "comments": [], "response_metadata": {"next_cursor": ""}}

    def _files_upload_v1(self, params: Params) -> Params:
        # files.upload was sunset by Slack; bots must use files_upload_v2.
        raise ApiError("method_deprecated")

    def _files_get_upload_url(self, params: Params) -> Params:
        filename = _require(params, "filename")
        length = int(_require(params, "length"))
        upload_id = uuid.uuid4().hex
        file_id = self.next_id("F")
        self.pending_uploads[upload_id] = PendingUpload(file_id, filename, length)
        return {"upload_url": f"{self.root_url}/upload/v1/{upload_id}", "file_id": file_id}

    async def _handle_upload(self, request: web.Request) -> web.Response:
        pending = self.pending_uploads.get(request.match_info["upload_id"])
        if pending is None:
            return web.Response(status=404, text="upload url not found", content_type="text/plain")
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            field = next((v for v in form.values() if isinstance(v, FileField)), None)
            pending.content = _part_bytes(field) if field is not None else b""
        else:
            pending.content = await request.read()
        return web.Response(text=f"OK - {len(pending.content)}", content_type="text/plain")

    def _files_complete_upload(self, params: Params) -> Params:
        entries = _require(params, "files")
        if not isinstance(entries, list):
            raise ApiError("invalid_arguments")
        channel = params.get("channel_id") or None
        channels = [c for c in str(params.get("channels") or "").split(",") if c]
        channel = channel or (channels[0] if channels else None)
        thread_ts = params.get("thread_ts") or None
        comment = params.get("initial_comment") or None
        by_file_id = {p.file_id: (key, p) for key, p in self.pending_uploads.items()}
        done: list[Params] = []
        for entry in entries:
            key, pending = by_file_id.get(entry.get("id"), (None, None))
            if pending is None or pending.content is None or key is None:
                raise ApiError("file_not_found", detail=f"not uploaded: {entry.get('id')}")
            del self.pending_uploads[key]
            title = entry.get("title") or pending.filename
            # Keep the id the SDK was promised by files.getUploadURLExternal.
            info = self.make_file(
                pending.filename,
                pending.content,
                channel=channel,
                thread_ts=thread_ts,
                user=self.bot_user_id,
                title=title,
                file_id=pending.file_id,
            )
            done.append(info)
            upload = Upload(
                file_id=pending.file_id,
                filename=pending.filename,
                title=title,
                content=pending.content,
                channel_id=channel,
                thread_ts=thread_ts,
                initial_comment=comment,
                at=self.now(),
            )
            self._uploads.append(upload)
        if channel and done:
            share = {"text": comment or "", "thread_ts": thread_ts}
            message = self.bot_message(share, self.next_ts())
            message.update({"subtype": "file_share", "files": done, "upload": True})
            self.store_message(channel, message)
        return {"files": done}

    async def _handle_file_download(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        stored = self.files.get(file_id)
        auth = request.headers.get("Authorization", "")
        authorized = auth == f"Bearer {self.bot_token}"

        def record(status: int, served: str) -> None:
            self._downloads.append(Download(file_id, authorized, status, served, self.now()))

        if stored is None:
            record(404, "error")
            return web.Response(status=404, text="file not found", content_type="text/plain")
        if stored.status is not None and stored.status != 200:
            record(stored.status, "error")
            return web.Response(status=stored.status, text="simulated failure")
        if not authorized or stored.html_instead:
            # Real Slack answers 200 with its sign-in page, not 401/403.
            record(200, "html")
            return web.Response(text=LOGIN_PAGE, content_type="text/html")
        headers = {
            "Content-Type": stored.info["mimetype"],
            "Content-Length": str(len(stored.content)),
        }
        response = web.StreamResponse(headers=headers)
        await response.prepare(request)
        for start in range(0, len(stored.content), CHUNK_SIZE):
            await response.write(stored.content[start : start + CHUNK_SIZE])
        await response.write_eof()
        record(200, "bytes")
        return response

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


def _public(message: Params) -> Params:
    """A copy without message metadata (what Slack returns unless metadata is requested)."""
    return {k: v for k, v in message.items() if k != "metadata"}
