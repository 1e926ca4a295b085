"""How the fake Slack Web API reads requests: query string, JSON and form bodies.

Requests are parsed the way slack_sdk 3.x actually sends them (checked against
``slack_sdk/web/async_client.py`` and ``internal_utils._build_req_args``):

* ``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``, ``views.publish``:
  POST with a JSON body (``Content-Type: application/json;charset=utf-8``).
* ``auth.test``, ``apps.connections.open``, ``reactions.add/remove``, ``pins.add/remove``,
  ``files.getUploadURLExternal``, ``files.completeUploadExternal``: POST with the
  arguments in the *query string* and an empty form body; the latter sends
  ``files`` as a JSON string.
* ``conversations.replies/info``, ``users.info``, ``files.info``, ``pins.list``,
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
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

JSON_FIELDS = ("blocks", "attachments", "metadata", "files", "view")

Params = dict[str, Any]


class ApiError(Exception):
    """Raised by a method handler to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def truthy(value: Any) -> bool:
    """Slack's boolean arguments arrive as "true"/"1" strings in query and form bodies."""
    return str(value).lower() in {"1", "true", "yes"}


def require(params: Params, name: str, error: str = "invalid_arguments") -> Any:
    """``params[name]``, or the Slack ``error`` that a missing argument gets."""
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
                params[key] = part if isinstance(part, str) else part_bytes(part)
    for key in JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(json.JSONDecodeError):
                params[key] = json.loads(value)
    return params


def part_bytes(part: str | bytes | bytearray | FileField) -> bytes:
    """Bytes of one form/multipart field."""
    if isinstance(part, FileField):
        return bytes(part.file.read())
    if isinstance(part, str):
        return part.encode()
    return bytes(part)
