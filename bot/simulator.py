"""The simulator: try the assistant without a WeChat account, in a browser (`/simulator`) or a terminal
(`bangban chat`, bot/chat.py).

On by default only with the development credentials (`Config.simulator`, BANGBAN_SIMULATOR); when it is off none
of these routes exists (404).

    GET  /simulator                     a chat page that looks like a phone chat (bot/templates/simulator.html)
    POST /simulator/send                one thing a user does (text, menu click, location, image, follow,
                                        unfollow) → the push WeChat would send, delivered to /wechat → the reply
    GET  /simulator/inbox?user=&after=  customer-service messages that reached that user since message `after`,
                                        and how many the outbox still holds for them
    POST /simulator/api/cgi-bin/stable_token, /simulator/api/cgi-bin/message/custom/send,
    GET  /simulator/api/cgi-bin/media/get
                                        a fake of WeChat's HTTP API: the outbox worker's customer-service
                                        messages land in the table simulator_messages, and the photo of a
                                        simulated image push is a picture drawn from its media id (with the
                                        development credentials the worker calls here: `Config.api_base`)

`/simulator/send` builds the push exactly as WeChat does (bot/wechat/pushes.py: XML with ToUserName,
FromUserName, CreateTime, MsgType, MsgId; signed with the configured token; encrypted with the configured
EncodingAESKey in safe mode, with encrypt_type=aes and msg_signature) and delivers it through the real endpoint
stack: an in-process WSGI call through Werkzeug's test client (`WSGITransport`) — Flask's routing, request parsing
and the /wechat view, everything but the socket. The answer is read as WeChat reads it (its MsgSignature checked
and decrypted in safe mode). `bangban chat --url` sends the same pushes over HTTP instead (`HTTPTransport`).

The simulator speaks only for simulated users, whose OpenIDs start with "sim-", so that it can never act as, or
read the messages of, a real follower.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import struct
import threading
import tomllib
import zlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from flask import Blueprint, Flask, current_app, jsonify, render_template, request
from sqlalchemy import Integer, String, Text, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, session_factory
from .db import UTCDateTime, utcnow
from .outbox import PENDING, OutboxMessage
from .wechat import pushes
from .wechat.pushes import Pusher, ReplyError, reply_content

if TYPE_CHECKING:
    from .app import Services

EXTENSION = "bangban.simulator"
USER_PATTERN = re.compile(r"sim-[A-Za-z0-9_-]{1,60}")
SIM_MEDIA_PREFIX = "sim-media-"
SIM_MEDIA = re.compile(re.escape(SIM_MEDIA_PREFIX) + r"[0-9a-f]{24}")
MAX_TEXT = 2000  # characters a simulated user may type in one message
INBOX_LIMIT = 50
POLL_SECONDS = 2  # how often the page asks for customer-service messages
NEAR_THE_HALL = (0.0025, 0.0015)  # a simulated location: about 300 m north-east of the hall
ACTIONS = ("text", "click", "view", "location", "image", "subscribe", "unsubscribe")
TOKEN_SECONDS = 7200

bp = Blueprint("simulator", __name__, url_prefix="/simulator", template_folder="templates")


# ---- what the fake API delivered --------------------------------------------------------------------------------


class SimulatorMessage(Base):
    """One customer-service message that reached a simulated user through the fake API."""

    __tablename__ = "simulator_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


# ---- one thing a user does, and the push it becomes ---------------------------------------------------------------


class BadAction(ValueError):
    """What the page or the terminal asked for cannot be sent; the message is shown to the person."""


@dataclass(frozen=True)
class Action:
    kind: str  # one of ACTIONS
    text: str = ""  # text: what was typed
    key: str = ""  # click: the menu key; view: the URL
    latitude: float | None = None  # location; None: near the hall
    longitude: float | None = None
    label: str = ""

    @classmethod
    def from_json(cls, data: Any) -> "Action":
        if not isinstance(data, dict):
            raise BadAction("请求应为 JSON 对象")
        kind = data.get("type")
        if kind not in ACTIONS:
            raise BadAction(f"type 应为 {', '.join(ACTIONS)} 之一")
        text, key, label = (data.get(name) or "" for name in ("text", "key", "label"))
        if not all(isinstance(value, str) for value in (text, key, label)):
            raise BadAction("text、key、label 应为文字")
        latitude, longitude = data.get("latitude"), data.get("longitude")
        for value in (latitude, longitude):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise BadAction("latitude、longitude 应为数字")
        return cls(kind, text, key, latitude, longitude, label).checked()

    def checked(self) -> "Action":
        if self.kind == "text" and not self.text.strip():
            raise BadAction("请输入要发送的文字")
        if len(self.text) > MAX_TEXT or len(self.label) > 100:
            raise BadAction(f"文字太长（最多 {MAX_TEXT} 字）")
        if self.kind in ("click", "view") and not 1 <= len(self.key.encode("utf-8")) <= 1024:
            raise BadAction("菜单按钮缺少 key")
        for value, low, high in ((self.latitude, -90, 90), (self.longitude, -180, 180)):
            if value is not None and not low <= value <= high:
                raise BadAction("纬度应在 -90 到 90 之间，经度在 -180 到 180 之间")
        return self

    def shown(self) -> str:
        """What the user did, in a few words (Exchange.shown)."""
        return {"text": self.text, "click": f"[点击菜单] {self.label or self.key}", "view": f"[打开链接] {self.key}",
                "location": f"[位置] {self.label or '服务大厅附近'}", "image": "[图片]", "subscribe": "[关注公众号]",
                "unsubscribe": "[取消关注]"}[self.kind]


def check_user(user: Any) -> str:
    if not isinstance(user, str) or not USER_PATTERN.fullmatch(user):
        raise BadAction("模拟用户的 OpenID 应以 sim- 开头，后跟 1 到 60 个字母、数字、- 或 _")
    return user


def new_user() -> str:
    return "sim-" + secrets.token_hex(5)


def hall_position(hall_dir: Path) -> tuple[float, float] | None:
    """The hall's latitude and longitude from its hall.toml (checked by `bangban catalogue check`), or None."""
    try:
        hall = tomllib.loads((Path(hall_dir) / "hall.toml").read_text(encoding="utf-8"))
        latitude, longitude = float(hall["latitude"]), float(hall["longitude"])
    except (OSError, ValueError, KeyError, TypeError, tomllib.TOMLDecodeError):
        return None
    return latitude, longitude


# ---- delivering a push ------------------------------------------------------------------------------------------


class Transport(Protocol):
    def post(self, path: str, query: dict[str, str], body: bytes) -> tuple[int, str]: ...

    def get_json(self, path: str, params: dict[str, str]) -> tuple[int, Any]: ...


class WSGITransport:
    """Calls an app in this process through Werkzeug's test client: the whole WSGI stack (routing, request
    parsing, the view), no socket. A new client per call, so that threads never share one."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def post(self, path: str, query: dict[str, str], body: bytes) -> tuple[int, str]:
        response = self.app.test_client().post(path, query_string=query, data=body,
                                               headers={"Content-Type": "text/xml"})
        return response.status_code, response.get_data(as_text=True)

    def get_json(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        response = self.app.test_client().get(path, query_string=params)
        return response.status_code, response.get_json(silent=True)


class HTTPTransport:
    """Calls a running server over HTTP (`bangban chat --url`)."""

    def __init__(self, base_url: str, timeout: tuple[float, float] = (3.05, 30)) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def post(self, path: str, query: dict[str, str], body: bytes) -> tuple[int, str]:
        response = self.session.post(self.base_url + path, params=query, data=body, timeout=self.timeout,
                                     headers={"Content-Type": "text/xml"})
        return response.status_code, response.content.decode("utf-8", errors="replace")

    def get_json(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        response = self.session.get(self.base_url + path, params=params, timeout=self.timeout)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None


@dataclass
class Exchange:
    """One push and what came back."""

    shown: str  # what the user did, as shown in the chat
    status: int  # HTTP status of /wechat
    reply: str | None  # the passive reply's text; None: "success" (nothing now) or an error
    mode: str  # plain or safe
    push: str  # the push's XML before encryption
    query: dict[str, str] = field(default_factory=dict)
    body: str = ""  # what was posted (the encrypted envelope in safe mode)
    answer: str = ""  # what /wechat answered, as it came
    error: str | None = None  # why there is no reply, for a person

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Simulator:
    """Plays WeChat for simulated users: builds each push, delivers it to /wechat through `transport`, reads the
    reply; reads customer-service messages from /simulator/inbox."""

    def __init__(self, pusher: Pusher, transport: Transport, hall: tuple[float, float] | None) -> None:
        self.pusher = pusher
        self.transport = transport
        self.hall = hall

    def push_for(self, user: str, action: Action) -> str:
        if action.kind == "text":
            return pushes.text(user, action.text)
        if action.kind == "click":
            return pushes.event(user, "CLICK", action.key)
        if action.kind == "view":
            return pushes.event(user, "VIEW", action.key)
        if action.kind == "image":
            return pushes.image(user, SIM_MEDIA_PREFIX + secrets.token_hex(12))
        if action.kind == "location":
            latitude, longitude = action.latitude, action.longitude
            if latitude is None or longitude is None:
                if self.hall is None:
                    raise BadAction("服务大厅没有配置坐标：请给出纬度和经度")
                latitude, longitude = self.hall[0] + NEAR_THE_HALL[0], self.hall[1] + NEAR_THE_HALL[1]
                label = action.label or "服务大厅附近（模拟位置）"
            else:
                label = action.label or "模拟位置"
            return pushes.location(user, latitude, longitude, label)
        return pushes.event(user, action.kind)  # subscribe, unsubscribe

    def send(self, user: str, action: Action) -> Exchange:
        check_user(user)
        xml = self.push_for(user, action.checked())
        query, body = self.pusher.request(xml, openid=user)
        status, answer = self.transport.post("/wechat", query, body)
        exchange = Exchange(action.shown(), status, None, self.pusher.mode, xml, query,
                            body.decode("utf-8"), answer)
        if status != 200:
            exchange.error = f"该公众号暂时无法提供服务，请稍后再试（/wechat 答复 HTTP {status}）"
            return exchange
        try:
            exchange.reply = reply_content(self.pusher.read_reply(answer))
        except ReplyError as exc:
            exchange.error = f"微信不会接受这个答复：{exc}"
        return exchange

    def inbox(self, user: str, after: int = 0) -> tuple[list[dict[str, Any]], int | None]:
        """(customer-service messages to `user` after id `after`, outbox messages still pending for them);
        ([], None) when the server has no simulator."""
        status, data = self.transport.get_json("/simulator/inbox", {"user": check_user(user), "after": str(after)})
        if status != 200 or not isinstance(data, dict):
            return [], None
        return list(data.get("messages") or []), data.get("pending")


# ---- the Flask side ---------------------------------------------------------------------------------------------


class State:
    def __init__(self, app: Flask, services: "Services") -> None:
        config = services.config
        self.config = config
        self.engine = services.engine
        self.sessions = session_factory(services.engine)
        self.simulator = Simulator(Pusher.for_config(config), WSGITransport(app), hall_position(config.hall_dir))
        self.access_token = "SIM_" + hmac.new(config.wechat_app_secret.encode("utf-8"),
                                              config.wechat_app_id.encode("utf-8"), hashlib.sha256).hexdigest()[:48]
        self._table_ready = False
        self._lock = threading.Lock()

    def ensure_table(self) -> None:
        """simulator_messages exists (made here, not by the schema: only where the simulator is on)."""
        if self._table_ready:
            return
        with self._lock:
            for attempt in range(3):  # two workers creating it at once: the loser finds it there
                try:
                    SimulatorMessage.__table__.create(self.engine, checkfirst=True)
                    break
                except SQLAlchemyError:
                    if attempt == 2:
                        raise
            self._table_ready = True


def init_simulator(app: Flask, services: "Services") -> None:
    state = State(app, services)
    app.extensions[EXTENSION] = state
    try:
        state.ensure_table()
    except SQLAlchemyError:  # the database is down at start-up: /health says so; tried again when used
        pass
    app.register_blueprint(bp)


def _state() -> State:
    return current_app.extensions[EXTENSION]


def menu_buttons() -> list[dict[str, str]]:
    """The custom menu's buttons that push an event (click: CLICK with its key, view: VIEW with its URL)."""
    from .menu import load_menu

    buttons = []
    for top in load_menu()["button"]:
        for button in top.get("sub_button") or [top]:
            if button.get("type") == "click":
                buttons.append({"name": button["name"], "type": "click", "key": button["key"]})
            elif button.get("type") == "view":
                buttons.append({"name": button["name"], "type": "view", "key": button["url"]})
    return buttons


def _hall_name(hall_dir: Path) -> str:
    try:
        name = tomllib.loads((Path(hall_dir) / "hall.toml").read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError, tomllib.TOMLDecodeError):
        name = None
    return name if isinstance(name, str) and name.strip() else "帮办代办"


@bp.get("")
@bp.get("/")
def page():
    state = _state()
    return render_template("simulator.html", buttons=menu_buttons(), account=_hall_name(state.config.hall_dir),
                           safe_mode=state.config.safe_mode, poll_ms=POLL_SECONDS * 1000,
                           has_location=state.simulator.hall is not None)


def _bad(message: str, status: int = 400):
    response = jsonify(error=message)
    response.status_code = status
    return response


@bp.post("/send")
def send():
    data = request.get_json(silent=True)
    try:
        user = check_user((data or {}).get("user") if isinstance(data, dict) else None)
        action = Action.from_json(data)
        exchange = _state().simulator.send(user, action)
    except BadAction as exc:
        return _bad(str(exc))
    response = jsonify(exchange.as_json())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/inbox")
def inbox():
    try:
        user = check_user(request.args.get("user"))
    except BadAction as exc:
        return _bad(str(exc))
    after = request.args.get("after", "0")
    if not after.isdigit() or len(after) > 18:
        return _bad("after 应为消息编号")
    state = _state()
    state.ensure_table()
    with state.sessions() as session:
        rows = session.scalars(
            select(SimulatorMessage).where(SimulatorMessage.openid == user, SimulatorMessage.id > int(after))
            .order_by(SimulatorMessage.id).limit(INBOX_LIMIT)).all()
        pending = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.openid == user, OutboxMessage.status.in_(PENDING)))
    messages = [{"id": row.id, "text": row.content, "at": row.created_at.isoformat()} for row in rows]
    response = jsonify(messages=messages, pending=pending or 0)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- the fake of WeChat's HTTP API ------------------------------------------------------------------------------

# Served under SIMULATOR_API_PATH (/simulator/api), where Config.api_base points the outbox worker.


def _api_answer(answer: dict[str, Any]):
    return current_app.response_class(json.dumps(answer, ensure_ascii=False), status=200,
                                      content_type="application/json; charset=utf-8")


def _json_body() -> Any:
    try:
        return json.loads(request.get_data(as_text=False).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


@bp.post("/api/cgi-bin/stable_token")
def api_stable_token():
    """Like WeChat's with force_refresh=false: the same token for the configured AppID and AppSecret."""
    state, body = _state(), _json_body()
    if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
        return _api_answer({"errcode": 40002, "errmsg": "invalid grant_type"})
    if body.get("appid") != state.config.wechat_app_id:
        return _api_answer({"errcode": 40013, "errmsg": "invalid appid"})
    if not isinstance(body.get("secret"), str) or not hmac.compare_digest(
            body["secret"].encode("utf-8"), state.config.wechat_app_secret.encode("utf-8")):
        return _api_answer({"errcode": 40125, "errmsg": "invalid appsecret"})
    return _api_answer({"access_token": state.access_token, "expires_in": TOKEN_SECONDS})


@bp.post("/api/cgi-bin/message/custom/send")
def api_custom_send():
    """A customer-service text message: kept for the simulated user's page (any other type: 40008)."""
    state, body = _state(), _json_body()
    token = request.args.get("access_token", "")
    if not hmac.compare_digest(token.encode("utf-8"), state.access_token.encode("utf-8")):
        return _api_answer({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"})
    if not isinstance(body, dict) or body.get("msgtype") != "text" or not isinstance(body.get("text"), dict):
        return _api_answer({"errcode": 40008, "errmsg": "invalid message type"})
    user, content = body.get("touser"), body["text"].get("content")
    if not isinstance(user, str) or not 1 <= len(user) <= 64:
        return _api_answer({"errcode": 40003, "errmsg": "invalid openid"})
    if not isinstance(content, str) or not content or len(content.encode("utf-8")) > 2048:
        return _api_answer({"errcode": 44003, "errmsg": "empty or too long content"})
    state.ensure_table()
    with state.sessions.begin() as session:
        session.add(SimulatorMessage(openid=user, content=content, created_at=utcnow()))
    return _api_answer({"errcode": 0, "errmsg": "ok"})


@bp.get("/api/cgi-bin/media/get")
def api_media_get():
    """The photo of a simulated image push (media id "sim-media-…"): a PNG drawn from the id; any other: 40007."""
    token = request.args.get("access_token", "")
    if not hmac.compare_digest(token.encode("utf-8"), _state().access_token.encode("utf-8")):
        return _api_answer({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"})
    media_id = request.args.get("media_id", "")
    if not SIM_MEDIA.fullmatch(media_id):
        return _api_answer({"errcode": 40007, "errmsg": "invalid media_id"})
    return current_app.response_class(sample_photo(media_id), status=200, content_type="image/png")


def sample_photo(seed: str, width: int = 240, height: int = 160) -> bytes:
    """A PNG picture (a coloured card with a darker band, like a document on a desk), its colours from `seed`."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    paper, band = digest[:3], bytes(c // 2 for c in digest[3:6])
    rows = b"".join(b"\x00" + (band if height // 3 <= y < height // 2 else paper) * width for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@bp.route("/api/<path:anything>", methods=["GET", "POST"])
def api_other(anything: str):
    return _api_answer({"errcode": 48001, "errmsg": "api unauthorized (the simulator fakes only stable_token, "
                                                     "message/custom/send and media/get)"})

