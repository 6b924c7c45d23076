"""What WeChat's server sends to `/wechat`, built as WeChat builds it, and reading what the endpoint answers.

The one implementation of WeChat's side of the push protocol in this project: the simulator (`/simulator`,
`bangban chat`) speaks it to the real endpoint, and the tests use it to play WeChat.

- `push_xml` / `text` / `event` / `message`: the XML of a push (wechat.md A3): ToUserName, FromUserName,
  CreateTime, MsgType, the type's own fields, and MsgId for messages (events have none); text in CDATA,
  numbers bare.
- `Pusher`: signs a push with the account's token (`signature`, `timestamp`, `nonce`, `openid` in the query,
  wechat.md A1), and in safe mode encrypts it with the EncodingAESKey (`encrypt_type=aes` and `msg_signature`,
  A2); `read_reply` checks and decrypts the endpoint's answer.

Signatures are `protocol.signature`; the cipher is wechatpy's `WeChatCrypto`. Both are pinned by the official
vectors in tests/test_wechat_protocol.py.
"""
from __future__ import annotations

import itertools
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Iterator, Mapping

import xmltodict
from wechatpy.crypto import WeChatCrypto

from ..config import DEV_WECHAT_APP_ID, DEV_WECHAT_TOKEN
from .protocol import check_no_declarations, same, signature

ACCOUNT = "gh_bangban0000"  # ToUserName: the account's original id (gh_…); the endpoint does not read it
MODES = ("plain", "compatible", "safe")
_TO_USER = re.compile(r"<ToUserName><!\[CDATA\[(.*?)\]\]></ToUserName>", re.DOTALL)

# MsgIds are 64-bit numbers and the endpoint de-duplicates on them across users: counting on from a random start,
# two processes (two simulators, a test and a benchmark) do not hand out the same ones.
_msg_ids = itertools.count(10**18 + secrets.randbelow(8 * 10**18))


def next_msg_id() -> int:
    return next(_msg_ids)


def cdata(value: str) -> str:
    """`value` as a CDATA section (an end marker inside it split, as WeChat and wechatpy do)."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def push_xml(user: str, msg_type: str, fields: Mapping[str, str | int | float] | None = None,
             create_time: int | None = None, msg_id: int | None = None, to: str = ACCOUNT) -> str:
    """A push as WeChat formats it: text fields in CDATA, numbers bare, MsgId last."""
    parts = [f"<ToUserName>{cdata(to)}</ToUserName>", f"<FromUserName>{cdata(user)}</FromUserName>",
             f"<CreateTime>{create_time if create_time is not None else int(time.time())}</CreateTime>",
             f"<MsgType>{cdata(msg_type)}</MsgType>"]
    for name, value in (fields or {}).items():
        parts.append(f"<{name}>{cdata(value) if isinstance(value, str) else value}</{name}>")
    if msg_id is not None:
        parts.append(f"<MsgId>{msg_id}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


def text(user: str, content: str, msg_id: int | None = None, create_time: int | None = None) -> str:
    """A text message."""
    return push_xml(user, "text", {"Content": content}, create_time,
                    msg_id if msg_id is not None else next_msg_id())


def event(user: str, name: str, key: str | None = None, create_time: int | None = None, **more) -> str:
    """An event (subscribe, unsubscribe, CLICK with the menu key, VIEW with the URL, SCAN ...): no MsgId."""
    fields: dict = {"Event": name}
    if key is not None:
        fields["EventKey"] = key
    fields.update(more)
    return push_xml(user, "event", fields, create_time)


def message(user: str, msg_type: str, **fields) -> str:
    """Any other message (image, voice, location, video, link, file) with its fields, in the order given."""
    return push_xml(user, msg_type, fields, msg_id=next_msg_id())


def image(user: str, media_id: str, pic_url: str = "") -> str:
    return message(user, "image", PicUrl=pic_url or f"https://example.invalid/simulated/{media_id}.jpg",
                   MediaId=media_id)


def location(user: str, latitude: float, longitude: float, label: str = "", scale: int = 15) -> str:
    """A location message: Location_X is the latitude, Location_Y the longitude (wechat.md A3)."""
    return message(user, "location", Location_X=round(latitude, 6), Location_Y=round(longitude, 6), Scale=scale,
                   Label=label)


class ReplyError(Exception):
    """The endpoint's answer is not one WeChat would accept (bad signature, not XML, cannot be decrypted)."""


def _nonces() -> Iterator[str]:
    return (str(secrets.randbelow(10**9)) for _ in itertools.count())


@dataclass
class Pusher:
    """Plays WeChat's server for one account: the signed query and the (encrypted) body of each push, and the
    reading of the answer. Sends nothing itself: the caller posts `request(...)` to `/wechat` however it likes."""

    token: str = DEV_WECHAT_TOKEN
    app_id: str = DEV_WECHAT_APP_ID
    aes_key: str | None = None  # set: pushes go encrypted (safe mode) unless a mode says otherwise
    nonces: Iterator[str] = field(default_factory=_nonces)

    @classmethod
    def for_config(cls, config) -> "Pusher":
        """As WeChat sends to this configuration: its token and AppID, encrypted when it has an EncodingAESKey."""
        return cls(config.wechat_token, config.wechat_app_id, config.wechat_encoding_aes_key)

    @property
    def mode(self) -> str:
        return "safe" if self.aes_key else "plain"

    def query(self, body_encrypt: str | None = None, openid: str = "oOpenIdInQuery") -> dict[str, str]:
        """The query string of a push: signature/timestamp/nonce/openid, plus encrypt_type and msg_signature when
        the body is encrypted."""
        timestamp, nonce = str(int(time.time())), str(next(self.nonces))
        query = {"signature": signature(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                 "openid": openid}
        if body_encrypt is not None:
            query.update(encrypt_type="aes", msg_signature=signature(self.token, timestamp, nonce, body_encrypt))
        return query

    def crypto(self, aes_key: str | None = None, app_id: str | None = None) -> WeChatCrypto:
        key = aes_key or self.aes_key
        if not key:
            raise ValueError("no EncodingAESKey: the push cannot be encrypted")
        return WeChatCrypto(self.token, key, app_id or self.app_id)

    def seal(self, xml: str, aes_key: str | None = None, app_id: str | None = None,
             compatible: bool = False) -> tuple[str, str]:
        """(body, Encrypt) of an encrypted push: safe mode holds only ToUserName and Encrypt, compatible mode the
        plain fields as well."""
        envelope = self.crypto(aes_key, app_id).encrypt_message(xml, "1", "1")
        encrypt = xmltodict.parse(envelope)["xml"]["Encrypt"]
        if compatible:
            return xml.replace("</xml>", f"<Encrypt>{cdata(encrypt)}</Encrypt></xml>"), encrypt
        found = _TO_USER.search(xml)  # the push may be deliberately broken: no parsing here
        to = found.group(1) if found else ACCOUNT
        return f"<xml><ToUserName>{cdata(to)}</ToUserName><Encrypt>{cdata(encrypt)}</Encrypt></xml>", encrypt

    def request(self, xml: str, mode: str | None = None, aes_key: str | None = None, app_id: str | None = None,
                query: dict[str, str] | None = None, openid: str | None = None) -> tuple[dict[str, str], bytes]:
        """(query, body) to POST to /wechat for the push `xml`. mode: "plain", "safe" or "compatible" (default:
        safe with an EncodingAESKey, else plain); `openid` goes into the query as WeChat puts it there."""
        mode = mode or self.mode
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        extra = {} if openid is None else {"openid": openid}
        if mode == "plain":
            return query or self.query(**extra), xml.encode("utf-8")
        body, encrypt = self.seal(xml, aes_key, app_id, compatible=(mode == "compatible"))
        return query or self.query(encrypt, **extra), body.encode("utf-8")

    def read_reply(self, body: str, aes_key: str | None = None) -> dict | None:
        """The fields of the passive reply in an answer's body (decrypted, its MsgSignature checked, when
        encrypted); None for "success" or an empty body (nothing to show). Raises ReplyError."""
        if body.strip() in ("", "success"):
            return None
        try:
            check_no_declarations(body)
            fields = xmltodict.parse(body, disable_entities=True)["xml"]
        except Exception:  # noqa: BLE001 - expat errors, a missing <xml>
            raise ReplyError("the answer is neither success nor an XML reply") from None
        if isinstance(fields, dict) and "Encrypt" in fields:
            parts = [fields.get(name) for name in ("TimeStamp", "Nonce", "Encrypt", "MsgSignature")]
            if not all(isinstance(part, str) for part in parts):
                raise ReplyError("an encrypted reply without TimeStamp, Nonce or MsgSignature")
            timestamp, nonce, encrypt, given = parts
            if not same(signature(self.token, timestamp, nonce, encrypt), given):
                raise ReplyError("the encrypted reply's MsgSignature is wrong")
            try:
                plain = self.crypto(aes_key).decrypt_message(body, given, timestamp, nonce)
                fields = xmltodict.parse(plain, disable_entities=True)["xml"]
            except Exception:  # noqa: BLE001 - wrong key or AppID, a broken plaintext
                raise ReplyError("the encrypted reply cannot be decrypted with the EncodingAESKey") from None
        if not isinstance(fields, dict) or not isinstance(fields.get("MsgType"), str):
            raise ReplyError("the reply has no MsgType")
        return fields


def reply_content(fields: Mapping | None) -> str | None:
    """What the citizen sees of a reply: its text, a note for another type, None for no reply."""
    if fields is None:
        return None
    if fields.get("MsgType") == "text":
        return fields.get("Content") or ""
    return f"[{fields.get('MsgType')} 消息]"
