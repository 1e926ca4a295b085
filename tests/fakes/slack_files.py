"""Web API methods and endpoints for files: files.info, the files_upload_v2 flow, downloads.

slack_sdk's ``files_upload_v2`` calls files.getUploadURLExternal, POSTs the raw
bytes to the returned upload URL *without* an Authorization header (expecting a
``text/plain`` answer), then calls files.completeUploadExternal. ``url_private``
downloads need ``Authorization: Bearer <bot token>``; without it real Slack
answers HTTP 200 with an HTML sign-in page, which the fake reproduces.
"""

from __future__ import annotations

import mimetypes
import time
import uuid
from urllib.parse import quote

from aiohttp import web
from aiohttp.web_request import FileField

from tests.fakes.slack_base import Download, PendingUpload, StoredFile, Upload
from tests.fakes.slack_messages import SlackMessages
from tests.fakes.slack_params import ApiError, Params, part_bytes, require

CHUNK_SIZE = 16 * 1024
LOGIN_PAGE = (
    '<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8">'
    '<title>Slack</title></head><body class="signin">'
    '<h1>Sign in to fake-workspace</h1><form id="signin_form" action="/" method="post">'
    '<input type="email" name="email"><input type="password" name="password">'
    '<button type="submit">Sign in</button></form></body></html>'
)


class SlackFiles(SlackMessages):
    """Stored files, uploads and ``url_private`` downloads."""

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
        url_private: str | None = None,
    ) -> Params:
        """Store a file and return the Slack-shaped file object.

        ``url_private`` replaces both download links (a link off Slack, as a forged or
        tampered event could carry); the file is then not served by the fake.
        """
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
            "url_private": url_private or f"{self.root_url}/files/{file_id}/{quoted}",
            "url_private_download": url_private
            or f"{self.root_url}/files/{file_id}/download/{quoted}",
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
        stored = self.files.get(require(params, "file", "file_not_found"))
        if stored is None:
            raise ApiError("file_not_found")
        return {"file": dict(stored.info), "comments": [], "response_metadata": {"next_cursor": ""}}

    def _files_upload_v1(self, params: Params) -> Params:
        # files.upload was sunset by Slack; bots must use files_upload_v2.
        raise ApiError("method_deprecated")

    def _files_get_upload_url(self, params: Params) -> Params:
        filename = require(params, "filename")
        length = int(require(params, "length"))
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
            pending.content = part_bytes(field) if field is not None else b""
        else:
            pending.content = await request.read()
        return web.Response(text=f"OK - {len(pending.content)}", content_type="text/plain")

    def _files_complete_upload(self, params: Params) -> Params:
        entries = require(params, "files")
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
