"""Builders for what WeChat sends: push XML, the signed query string, encrypted bodies; and reading our replies.

Written from wechat.md (A1-A3), independently of bot/wechat; encryption is wechatpy's own `WeChatCrypto`, which the
official vectors pin (tests/test_wechat_protocol.py).
"""
from __future__ import annotations

import hashlib
import itertools
import secrets
import time
from dataclasses import dataclass, field

import xmltodict
from wechatpy.crypto import WeChatCrypto

DEV_TOKEN, DEV_APP_ID = "bangban-dev", "wxbangbandev0000"
ACCOUNT = "gh_bangban0000"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # the official sample key (wechat.md A8)
OLD_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"

_msg_ids = itertools.count(int(time.time()) * 1000)


def next_msg_id() -> int:
    return next(_msg_ids)


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def push_xml(user: str, msg_type: str, fields: dict[str, str | int | float] | None = None,
             create_time: int | None = None, msg_id: int | None = None, to: str = ACCOUNT) -> str:
    """A push as WeChat formats it: text fields in CDATA, numbers bare."""
    parts = [f"<ToUserName>{_cdata(to)}</ToUserName>", f"<FromUserName>{_cdata(user)}</FromUserName>",
             f"<CreateTime>{create_time if create_time is not None else int(time.time())}</CreateTime>",
             f"<MsgType>{_cdata(msg_type)}</MsgType>"]
    for name, value in (fields or {}).items():
        parts.append(f"<{name}>{_cdata(value) if isinstance(value, str) else value}</{name}>")
    if msg_id is not None:
        parts.append(f"<MsgId>{msg_id}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


def text(user: str, content: str, msg_id: int | None = None, create_time: int | None = None) -> str:
    return push_xml(user, "text", {"Content": content}, create_time,
                    msg_id if msg_id is not None else next_msg_id())


def event(user: str, name: str, key: str | None = None, create_time: int | None = None, **more) -> str:
    fields: dict = {"Event": name}
    if key is not None:
        fields["EventKey"] = key
    fields.update(more)
    return push_xml(user, "event", fields, create_time)


def message(user: str, msg_type: str, **fields) -> str:
    return push_xml(user, msg_type, fields, msg_id=next_msg_id())


@dataclass
class WeChat:
    """Plays WeChat's server against our Flask app: signs, encrypts, posts, and reads the replies."""

    client: object
    token: str = DEV_TOKEN
    app_id: str = DEV_APP_ID
    aes_key: str | None = None  # set: pushes go encrypted (safe mode) unless mode says otherwise
    nonces: itertools.count = field(default_factory=lambda: itertools.count(1000))

    def query(self, body_encrypt: str | None = None, openid: str = "oOpenIdInQuery") -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), str(next(self.nonces))
        query = {"signature": sha1_signature(self.token, timestamp, nonce), "timestamp": timestamp,
                 "nonce": nonce, "openid": openid}
        if body_encrypt is not None:
            query.update(encrypt_type="aes", msg_signature=sha1_signature(self.token, timestamp, nonce, body_encrypt))
        return query

    def crypto(self, aes_key: str | None = None, app_id: str | None = None) -> WeChatCrypto:
        return WeChatCrypto(self.token, aes_key or self.aes_key, app_id or self.app_id)

    def seal(self, xml: str, aes_key: str | None = None, app_id: str | None = None,
             compatible: bool = False) -> tuple[str, str]:
        """(body, Encrypt) of an encrypted push; safe mode holds only ToUserName and Encrypt."""
        envelope = self.crypto(aes_key, app_id).encrypt_message(xml, "1", "1")
        encrypt = xmltodict.parse(envelope)["xml"]["Encrypt"]
        if compatible:
            return xml.replace("</xml>", f"<Encrypt>{_cdata(encrypt)}</Encrypt></xml>"), encrypt
        return f"<xml><ToUserName>{_cdata(ACCOUNT)}</ToUserName><Encrypt>{_cdata(encrypt)}</Encrypt></xml>", encrypt

    def post(self, xml: str, mode: str | None = None, aes_key: str | None = None, app_id: str | None = None,
             query: dict[str, str] | None = None):
        """mode: "plain", "safe" or "compatible" (default: safe when an AES key is set, else plain)."""
        mode = mode or ("safe" if self.aes_key else "plain")
        if mode == "plain":
            return self.client.post("/wechat", query_string=query or self.query(), data=xml.encode("utf-8"))
        body, encrypt = self.seal(xml, aes_key, app_id, compatible=(mode == "compatible"))
        return self.client.post("/wechat", query_string=query or self.query(encrypt), data=body.encode("utf-8"))

    def reply_text(self, response, aes_key: str | None = None) -> str | None:
        """The text of our passive reply (decrypted and its signature checked when encrypted); None for success."""
        fields = self.reply_fields(response, aes_key)
        return None if fields is None else fields["Content"]

    def reply_fields(self, response, aes_key: str | None = None) -> dict | None:
        assert response.status_code == 200, response.status_code
        body = response.get_data(as_text=True)
        if body == "success":
            return None
        fields = xmltodict.parse(body)["xml"]
        if "Encrypt" in fields:
            expected = sha1_signature(self.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
            assert fields["MsgSignature"] == expected, "reply signature"
            plain = self.crypto(aes_key).decrypt_message(body, fields["MsgSignature"], fields["TimeStamp"],
                                                         fields["Nonce"])
            fields = xmltodict.parse(plain)["xml"]
        assert fields["MsgType"] == "text"
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
