"""Web API methods on the fake workspace's messages: chat, conversations, reactions, pins.

Messages live in ``SlackState.messages`` (channel -> ts -> message), roots and
replies alike; :meth:`SlackMessages.store_message` keeps a thread root's reply
stats in sync the way Slack shows them in conversations.replies/history.
"""

from __future__ import annotations

import time

from tests.fakes.slack_base import SlackState
from tests.fakes.slack_params import ApiError, Params, require, truthy


class SlackMessages(SlackState):
    """The thread store and the Web API methods that read or change it."""

    # ------------------------------------------------------------------ channels

    def _conversations_info(self, params: Params) -> Params:
        channel = require(params, "channel", "channel_not_found")
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

    def _users_conversations(self, params: Params) -> Params:
        """The channels a user is in: those they were added to (`join`), plus any they
        wrote in, as Slack would list them for the bot."""
        user = require(params, "user", "user_not_found")
        joined = set(self.members.get(user, set()))
        joined |= {
            channel
            for channel, messages in self.messages.items()
            if any(m.get("user") == user for m in messages.values())
        }
        return {
            "channels": [self.channel_info(c) for c in sorted(joined)],
            "response_metadata": {"next_cursor": ""},
        }

    def join(self, user: str, channel: str) -> None:
        self.members.setdefault(user, set()).add(channel)

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
        channel = require(params, "channel", "channel_not_found")
        self.channel_info(channel)
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            raise ApiError("no_text")
        message = self.store_message(channel, self.bot_message(params, self.next_ts()))
        return {"channel": channel, "ts": message["ts"], "message": dict(message)}

    def _chat_update(self, params: Params) -> Params:
        channel = require(params, "channel", "channel_not_found")
        message = self.find_message(channel, require(params, "ts", "message_not_found"))
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
        channel = require(params, "channel", "channel_not_found")
        ts = require(params, "ts", "message_not_found")
        self.find_message(channel, ts)
        del self.messages[channel][ts]
        self.pins[channel].pop(ts, None)  # deleting a message unpins it
        return {"channel": channel, "ts": ts}

    def _chat_post_ephemeral(self, params: Params) -> Params:
        channel = require(params, "channel", "channel_not_found")
        require(params, "user", "user_not_in_channel")
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            raise ApiError("no_text")
        return {"message_ts": self.next_ts(), "channel": channel}

    def _chat_get_permalink(self, params: Params) -> Params:
        channel = require(params, "channel", "channel_not_found")
        message = self.find_message(channel, require(params, "message_ts", "message_not_found"))
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
        channel = require(params, "channel", "channel_not_found")
        ts = require(params, "ts", "thread_not_found")
        if ts not in self.messages.get(channel, {}):
            raise ApiError("thread_not_found")
        # Real Slack only returns message metadata when asked for it.
        keep_metadata = truthy(params.get("include_all_metadata"))
        items = self.thread(channel, ts, include_metadata=keep_metadata)
        return self._page(items, params, "messages")

    def _conversations_history(self, params: Params) -> Params:
        channel = require(params, "channel", "channel_not_found")
        store = self.messages.get(channel, {}).values()
        top = [m for m in store if m.get("thread_ts") in (None, m["ts"])]
        top.sort(key=lambda m: float(m["ts"]), reverse=True)
        keep_metadata = truthy(params.get("include_all_metadata"))
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

    # ------------------------------------------------------------------ reactions

    def _reactions_add(self, params: Params) -> Params:
        message = self.find_message(
            require(params, "channel", "channel_not_found"),
            require(params, "timestamp", "message_not_found"),
        )
        name = require(params, "name", "invalid_name")
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
            require(params, "channel", "channel_not_found"),
            require(params, "timestamp", "message_not_found"),
        )
        name = require(params, "name", "invalid_name")
        for reaction in message.get("reactions", []):
            if reaction["name"] == name and self.bot_user_id in reaction["users"]:
                reaction["users"].remove(self.bot_user_id)
                reaction["count"] -= 1
                if not reaction["count"]:
                    message["reactions"].remove(reaction)
                return {}
        raise ApiError("no_reaction")

    # ------------------------------------------------------------------ pins

    def _pinned_message(self, params: Params) -> tuple[str, Params]:
        channel = require(params, "channel", "channel_not_found")
        self.channel_info(channel)
        ts = require(params, "timestamp", "no_item_specified")
        return channel, self.find_message(channel, ts)

    def _pins_add(self, params: Params) -> Params:
        channel, message = self._pinned_message(params)
        if message["ts"] in self.pins[channel]:
            raise ApiError("already_pinned")
        self.pins[channel][message["ts"]] = {
            "created": int(time.time()),
            "created_by": self.bot_user_id,
        }
        message["pinned_to"] = [*message.get("pinned_to", []), channel]
        return {}

    def _pins_remove(self, params: Params) -> Params:
        channel, message = self._pinned_message(params)
        if self.pins[channel].pop(message["ts"], None) is None:
            raise ApiError("no_pin")
        pinned_to = [c for c in message.get("pinned_to", []) if c != channel]
        if pinned_to:
            message["pinned_to"] = pinned_to
        else:
            message.pop("pinned_to", None)
        return {}

    def _pins_list(self, params: Params) -> Params:
        channel = require(params, "channel", "channel_not_found")
        self.channel_info(channel)
        items = []
        for ts, pin in reversed(self.pins[channel].items()):  # newest pin first, like Slack
            message = self.messages.get(channel, {}).get(ts)
            if message is None:  # deleted after pinning: Slack drops the pin
                continue
            items.append({"type": "message", "channel": channel, **pin, "message": dict(message)})
        return {"items": items}

    def pinned(self, channel: str) -> list[str]:
        """The ts of every message pinned in ``channel``, in pinning order."""
        return list(self.pins.get(channel, {}))


def _public(message: Params) -> Params:
    """A copy without message metadata (what Slack returns unless metadata is requested)."""
    return {k: v for k, v in message.items() if k != "metadata"}
