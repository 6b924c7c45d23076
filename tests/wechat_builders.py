"""Playing WeChat against the app in tests: `WeChat` posts what `bot.wechat.pushes.Pusher` builds through a Flask
test client and reads the replies; plus the app on a fresh data directory.

The builders themselves (push XML, signing, encryption, reading replies) live in bot/wechat/pushes.py, the one
implementation shared with the simulator; they are re-exported here for the tests that import them from this module.
"""
from __future__ import annotations

import secrets

from bot.wechat.protocol import signature as sha1_signature  # noqa: F401 - re-exported
from bot.wechat.pushes import (  # noqa: F401 - re-exported
    ACCOUNT, Pusher, event, message, next_msg_id, push_xml, text,
)

DEV_TOKEN, DEV_APP_ID = "bangban-dev", "wxbangbandev0000"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # the official sample key (wechat.md A8)
OLD_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


class WeChat(Pusher):
    """Plays WeChat's server against our Flask app: signs, encrypts, posts, and reads the replies."""

    def __init__(self, client, token: str = DEV_TOKEN, app_id: str = DEV_APP_ID, aes_key: str | None = None):
        super().__init__(token, app_id, aes_key)
        self.client = client

    def post(self, xml: str, mode: str | None = None, aes_key: str | None = None, app_id: str | None = None,
             query: dict[str, str] | None = None):
        """mode: "plain", "safe" or "compatible" (default: safe when an AES key is set, else plain)."""
        query, body = self.request(xml, mode, aes_key, app_id, query)
        return self.client.post("/wechat", query_string=query, data=body)

    def reply_text(self, response, aes_key: str | None = None) -> str | None:
        """The text of our passive reply (decrypted and its signature checked when encrypted); None for success."""
        fields = self.reply_fields(response, aes_key)
        return None if fields is None else fields["Content"]

    def reply_fields(self, response, aes_key: str | None = None) -> dict | None:
        assert response.status_code == 200, response.status_code
        fields = self.read_reply(response.get_data(as_text=True), aes_key)
        assert fields is None or fields["MsgType"] == "text"
        return fields


def random_user() -> str:
    return "oTest" + secrets.token_hex(12)  # 29 characters, like a real OpenID


def new_app(data_dir, **environ: str):
    """The real app on a fresh data directory (SQLite, embedded store unless REDIS_URL is given)."""
    from bot import create_app
    from bot.config import Config

    return create_app(Config.from_env({"BANGBAN_DATA_DIR": str(data_dir), **environ}))


def gateway_of(app):
    return app.extensions["bangban.wechat"]


def set_hall_clock(app, when):
    """Turns and the console of this app see the hall's time as `when` (aware; e.g. a Monday 10:00 Shanghai)."""
    app.extensions["bangban"].parts["clock"] = lambda: when
