"""WeChat's push protocol, without Flask: signatures, decryption with key rotation, hostile-input checks,
parsing into a dialogs `Inbound`, the key that de-duplicates retries, and rendering the reply.

Facts and sources: ../shared/docs/wechat.md (A1 signatures, A2 encryption, A3 fields, A4 retries, A5 replies).
wechatpy 1.8.18 does the cipher; what it does not do is done here: constant-time comparisons (its checks use
`!=`), trying the previous EncodingAESKey, refusing DOCTYPE/ENTITY declarations before any parser sees them, and
turning every parse failure into `BadPush`. A push is parsed once, into its fields; the reply is rendered from
them (wechatpy's message and reply objects would parse and render the same XML again).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from xml.etree import ElementTree
from typing import Any, Mapping

from wechatpy.crypto import WeChatCrypto

from dialogs import messages as m
from dialogs.messages import Inbound

MAX_BODY_BYTES = 64 * 1024
MAX_OPENID_LENGTH = 64  # an OpenID has 28 characters; the database keeps up to 64
_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)

# Inbound kinds of the standard messages WeChat pushes (MsgType → kind)
_MESSAGE_KINDS = {"text": m.TEXT, "voice": m.VOICE, "image": m.IMAGE, "location": m.LOCATION, "video": m.VIDEO,
                  "shortvideo": m.VIDEO, "link": m.LINK, "file": m.FILE}
# Events with a name of their own in dialogs.messages (wechatpy's lower-case names)
_EVENTS = {"subscribe": m.SUBSCRIBE, "scan": m.SCAN, "unsubscribe": m.UNSUBSCRIBE, "click": m.CLICK, "view": m.VIEW,
           "location": m.LOCATION_REPORT}
QR_SCENE_PREFIX = "qrscene_"


class Rejected(Exception):
    """A push that is not processed. `reason` is safe to log: no openid, no content."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadPush(Rejected):
    """Malformed, hostile or oversized: 400."""


class Forbidden(Rejected):
    """Not from WeChat for this account (signature, AppID or key): 403."""

    status = 403


# ---- signatures ------------------------------------------------------------------------------------------


def signature(*parts: str) -> str:
    """sha1 over the sorted parts, lower-case hex (wechat.md A1/A2): plain signature = signature(token, timestamp,
    nonce); msg_signature = signature(token, timestamp, nonce, encrypt)."""
    return hashlib.sha1(b"".join(sorted(part.encode("utf-8") for part in parts))).hexdigest()


def same(expected: str, given: str | None) -> bool:
    """Constant-time comparison of two signatures (any text given, never an exception)."""
    return given is not None and hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def check_plain_signature(token: str, args: Mapping[str, str]) -> None:
    timestamp, nonce = args.get("timestamp"), args.get("nonce")
    if not timestamp or not nonce or not same(signature(token, timestamp, nonce), args.get("signature")):
        raise Forbidden("bad or missing signature")


# ---- decryption ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    """The account's token and AppID, and its EncodingAESKeys: the current one first, then the previous one."""

    token: str
    app_id: str
    cryptos: tuple[WeChatCrypto, ...]

    @classmethod
    def of(cls, token: str, app_id: str, *aes_keys: str | None) -> "Keys":
        return cls(token, app_id, tuple(WeChatCrypto(token, key, app_id) for key in aes_keys if key))

    def decrypt(self, envelope: str, args: Mapping[str, str]) -> tuple[str, WeChatCrypto]:
        """The plaintext XML of a safe/compatible-mode push and the crypto (key) that opened it."""
        if not self.cryptos:
            raise Forbidden("encrypted push but WECHAT_ENCODING_AES_KEY is not set")
        timestamp, nonce, given = args.get("timestamp"), args.get("nonce"), args.get("msg_signature")
        fields = _xml_fields(envelope)
        encrypt = fields.get("Encrypt")
        if not isinstance(encrypt, str) or not encrypt.strip():
            raise BadPush("encrypted push without an Encrypt element")
        if not timestamp or not nonce or not same(signature(self.token, timestamp, nonce, encrypt), given):
            raise Forbidden("bad or missing msg_signature")
        for crypto in self.cryptos:
            try:
                return _open(crypto, encrypt), crypto
            except Exception:  # noqa: BLE001 - a wrong key yields garbage that fails in many ways; try the next
                continue
        raise Forbidden("cannot decrypt with the configured EncodingAESKey(s), or the AppID differs")


def _open(crypto: WeChatCrypto, encrypt: str) -> str:
    from wechatpy.crypto import PrpCrypto

    # Raises InvalidAppIdException on another AppID; a wrong key gives garbage that fails here in some other way.
    # What opens with our AppID is then parsed like any push (malformed content: 400, not 403).
    return PrpCrypto(crypto.key).decrypt(encrypt, crypto.app_id)


def encrypt_reply(crypto: WeChatCrypto, reply_xml: str, nonce: str) -> str:
    return crypto.encrypt_message(reply_xml, nonce, str(int(time.time())))


# ---- parsing ---------------------------------------------------------------------------------------------


def decode_body(body: bytes) -> str:
    """The body as text, refused when oversized, not UTF-8 or carrying DTD declarations (entity expansion)."""
    if len(body) > MAX_BODY_BYTES:
        raise BadPush(f"body over {MAX_BODY_BYTES // 1024} KB")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadPush("body is not UTF-8") from None
    check_no_declarations(text)
    return text


def check_no_declarations(text: str) -> None:
    if _DECLARATION.search(text):
        raise BadPush("XML with a DOCTYPE or ENTITY declaration")


_NOT_TEXT = object()  # a field that is not plain text


def _xml_fields(text: str) -> dict[str, Any]:
    """The <xml> root's fields: text (None when empty), or _NOT_TEXT for a field with elements or attributes inside
    or given twice (WeChat sends those only in events; `_text` refuses them)."""
    check_no_declarations(text)
    try:
        root = ElementTree.fromstring(text)
    except Exception:  # noqa: BLE001 - expat errors, and anything else a hostile document provokes
        raise BadPush("not well-formed XML") from None
    if root.tag != "xml" or not len(root):
        raise BadPush("the root element is not <xml> with fields")
    fields: dict[str, Any] = {}
    for field in root:
        plain = not len(field) and not field.attrib and field.tag not in fields
        fields[field.tag] = (field.text.strip() or None if field.text else None) if plain else _NOT_TEXT
    return fields


@dataclass(frozen=True)
class Push:
    """One parsed push: what dialogs reads, the account it was sent to (to address the reply), the retry key."""

    account: str  # ToUserName: the public account's original ID
    inbound: Inbound
    key: str  # msg:<MsgId>, or evt:<FromUserName>:<CreateTime>:<event>[:<EventKey digest>] (wechat.md A4)
    create_time: int
    window: str | None  # for the outbox's sending window: "message", "event" or None (does not open one)


def parse_push(xml: str) -> Push:
    raw = _xml_fields(xml)
    if not isinstance(raw.get("MsgType"), str) or not raw["MsgType"].strip():
        raise BadPush("no MsgType")
    user = (_text(raw, "FromUserName") or "").strip()
    if not user:
        raise BadPush("no FromUserName")
    account = (_text(raw, "ToUserName") or "").strip()
    if not account:
        raise BadPush("no ToUserName")
    if len(user) > MAX_OPENID_LENGTH or not user.isprintable():
        raise BadPush(f"FromUserName is not an OpenID (over {MAX_OPENID_LENGTH} characters or unprintable)")
    try:
        create_time = int(_text(raw, "CreateTime") or "")
    except ValueError:
        raise BadPush("CreateTime is not a number") from None
    msg_type = (_text(raw, "MsgType") or "").strip().lower()
    inbound = _inbound(user, msg_type, raw)
    if msg_type == "event" or msg_type.startswith("device_"):
        # With its EventKey: two menu buttons tapped within one second are two events, a retry is the same one.
        said = (_text(raw, "EventKey") or "").strip()
        key = f"evt:{user}:{create_time}:{(_text(raw, 'Event') or '').strip().lower()}" + (
            f":{hashlib.sha1(said.encode('utf-8')).hexdigest()[:12]}" if said else "")
    else:
        msg_id = (_text(raw, "MsgId") or "").strip()
        if msg_id and not msg_id.isdigit():
            raise BadPush("MsgId is not a number")
        key = f"msg:{msg_id}" if msg_id else f"evt:{user}:{create_time}:{msg_type}"
    return Push(account, inbound, key, create_time, _window(inbound))


def _inbound(user: str, msg_type: str, raw: Mapping[str, Any]) -> Inbound:
    kind = _MESSAGE_KINDS.get(msg_type)
    if kind == m.TEXT:
        return Inbound(user, m.TEXT, text=_text(raw, "Content") or "")
    if kind == m.VOICE:
        recognition = (_text(raw, "Recognition") or "").strip()
        return Inbound(user, m.VOICE, text=recognition or None, media_id=_text(raw, "MediaId"))
    if kind in (m.IMAGE, m.VIDEO):
        return Inbound(user, kind, media_id=_text(raw, "MediaId"))
    if kind == m.LOCATION:
        return Inbound(user, m.LOCATION, latitude=_number(raw, "Location_X"), longitude=_number(raw, "Location_Y"),
                       label=_text(raw, "Label"))
    if kind is not None:  # LINK, FILE
        return Inbound(user, kind)
    if msg_type != "event":
        return Inbound(user, m.OTHER)  # unknown types, device messages
    event = (_text(raw, "Event") or "").strip().lower()
    key = _text(raw, "EventKey")
    if event == "subscribe" and key and key.startswith(QR_SCENE_PREFIX):
        return Inbound(user, m.EVENT, event=m.SUBSCRIBE_SCAN, key=key[len(QR_SCENE_PREFIX):])
    if event == "location":
        return Inbound(user, m.EVENT, event=m.LOCATION_REPORT, latitude=_number(raw, "Latitude"),
                       longitude=_number(raw, "Longitude"))
    return Inbound(user, m.EVENT, event=_EVENTS.get(event, event or None), key=key or None)


def _window(inbound: Inbound) -> str | None:
    if inbound.kind in (m.TEXT, m.VOICE, m.IMAGE, m.LOCATION, m.VIDEO, m.LINK, m.FILE):
        return "message"
    if inbound.kind == m.EVENT and inbound.event in (m.SUBSCRIBE, m.SUBSCRIBE_SCAN, m.SCAN, m.CLICK):
        return "event"
    return None


def _text(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None or isinstance(value, str):
        return value
    raise BadPush(f"{name} is not a plain text field")


def _number(raw: Mapping[str, Any], name: str) -> float | None:
    try:
        return float((_text(raw, name) or "").strip())
    except ValueError:
        return None


# ---- replies ---------------------------------------------------------------------------------------------


def text_reply(push: Push, text: str) -> str:
    """A passive text reply to `push` (from the account to the citizen), as WeChat expects it (wechat.md A5)."""
    return (f"<xml><ToUserName>{_cdata(push.inbound.user)}</ToUserName><FromUserName>{_cdata(push.account)}"
            f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content>{_cdata(text)}</Content></xml>")


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"  # an end marker in the text is split
