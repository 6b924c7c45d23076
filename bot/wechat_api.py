"""A small client for the WeChat HTTP API the assistant calls: customer-service messages, the custom menu and the
photos citizens send (temporary media, kept by WeChat for 3 days).

The access token is shared by every process (wechat.md A7, D2). It comes from `POST /cgi-bin/stable_token` with
`force_refresh: false`, which returns the same token to every caller during its life instead of rotating it, so
processes that fetch at the same moment do not invalidate each other's token. It is kept

- with Redis: under one key with the token's remaining life as TTL; a process that finds no token takes a Redis
  lock (SET NX EX), looks again (another process may just have stored one) and only then asks WeChat;
- without Redis (embedded mode, one process): in memory, behind a threading lock.

It is never fetched per request. When WeChat answers 40001/40014/42001 (token invalid or expired), the token that
failed is replaced once — unless another process already did — and the call is retried once.

Written with `requests` rather than wechatpy's `WeChatClient`: wechatpy 1.8 has no `stable_token`, takes no lock
around a refresh, and on 40001 fetches a new token unconditionally and retries without bound. Overriding all of that
would leave little of the class; what remains is two POSTs with a JSON body.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import requests

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.weixin.qq.com"
TIMEOUT = (3.05, 10)  # connect, read (seconds)

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})  # invalid credential, invalid token, expired token
# Errors that say this message can never reach this user now; retrying would not help.
UNDELIVERABLE_ERRCODES = {
    45015: "outside the 48 h window, or the user unfollowed",
    45047: "customer-service message quota used up",
    43004: "the user does not follow the account",
    40003: "invalid openid",
    43101: "the user has not accepted (or has used up) this subscription message",
}

MAX_MEDIA_BYTES = 10 * 2**20  # WeChat's own limit for an image
INVALID_MEDIA_ERRCODE = 40007  # "invalid media_id": gone (older than 3 days) or never existed

TOKEN_SAFETY_SECONDS = 60  # stop using a token this long before WeChat says it expires
LOCK_SECONDS = 30  # a refresh lock older than this is abandoned (its holder died)
LOCK_WAIT_SECONDS = 15  # how long a process waits for another one's refresh


class WeChatAPIError(Exception):
    """WeChat answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str, path: str):
        self.errcode = errcode
        self.errmsg = errmsg
        self.path = path
        super().__init__(f"{path}: errcode {errcode}: {errmsg}")

    @property
    def undeliverable(self) -> bool:
        return self.errcode in UNDELIVERABLE_ERRCODES


class WeChatUnavailable(Exception):
    """WeChat could not be reached or did not answer with JSON (network, timeout, HTTP error): try again later."""


class MediaTooLarge(Exception):
    """The medium is over MAX_MEDIA_BYTES: trying again would fetch the same file."""


@dataclass(frozen=True)
class Media:
    content: bytes
    content_type: str  # as WeChat sent it, e.g. "image/jpeg"


class TokenCache(Protocol):
    def get(self) -> str | None: ...

    def refresh(self, stale: str | None, fetch: Callable[[], tuple[str, int]]) -> str: ...


class MemoryTokenCache:
    """One process: the token in memory, one refresh at a time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        self._clock = clock

    def get(self) -> str | None:
        token = self._token
        return token if token is not None and self._clock() < self._expires else None

    def refresh(self, stale: str | None, fetch: Callable[[], tuple[str, int]]) -> str:
        with self._lock:
            current = self.get()
            if current is not None and current != stale:
                return current  # another thread refreshed while this one waited
            token, seconds = fetch()
            self._token, self._expires = token, self._clock() + seconds
            return token


class RedisTokenCache:
    """Every process: the token under one Redis key, refreshed by one process at a time under a Redis lock."""

    _RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

    def __init__(self, client, key: str, lock_wait: float = LOCK_WAIT_SECONDS):
        self._redis = client
        self.key = key
        self.lock_key = f"{key}:lock"
        self._lock_wait = lock_wait

    def get(self) -> str | None:
        value = self._redis.get(self.key)
        return value.decode("utf-8") if isinstance(value, bytes) else value

    def refresh(self, stale: str | None, fetch: Callable[[], tuple[str, int]]) -> str:
        deadline = time.monotonic() + self._lock_wait
        while True:
            current = self.get()
            if current is not None and current != stale:
                return current
            owner = uuid.uuid4().hex
            if self._redis.set(self.lock_key, owner, nx=True, ex=LOCK_SECONDS):
                try:
                    current = self.get()  # looked again under the lock: the previous holder may have stored one
                    if current is not None and current != stale:
                        return current
                    token, seconds = fetch()
                    self._redis.set(self.key, token, ex=seconds)
                    return token
                finally:
                    self._redis.eval(self._RELEASE, 1, self.lock_key, owner)
            if time.monotonic() > deadline:
                raise WeChatUnavailable("another process holds the access-token refresh lock; gave up waiting")
            time.sleep(0.05)


class WeChatAPI:
    """Customer-service text messages and the custom menu, with the shared access token."""

    def __init__(self, app_id: str, app_secret: str, base_url: str = DEFAULT_API_BASE, redis=None,
                 cache: TokenCache | None = None, timeout: tuple[float, float] = TIMEOUT):
        if not app_id or not app_secret:
            raise ValueError("the WeChat AppID and AppSecret are needed to call the WeChat API")
        self.app_id = app_id
        self._secret = app_secret
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        if cache is None:
            cache = (MemoryTokenCache() if redis is None
                     else RedisTokenCache(redis, f"bangban:wechat:{app_id}:access_token"))
        self.tokens = cache
        self._local = threading.local()  # one requests.Session per thread
        self.token_fetches = 0  # how many times this instance asked WeChat for a token

    @classmethod
    def from_config(cls, config, redis=None, server_url: str | None = None) -> "WeChatAPI":
        """The API of this configuration (`config.api_base(server_url)`: with the development credentials, the
        simulator's fake in the app at `server_url`)."""
        return cls(config.wechat_app_id, config.wechat_app_secret, base_url=config.api_base(server_url),
                   redis=redis)

    def __repr__(self) -> str:
        return f"<WeChatAPI {self.app_id} {self.base_url}>"

    # ---- calls ----------------------------------------------------------------------------------------------
    def send_text(self, openid: str, content: str) -> dict:
        """A customer-service text message. Raises WeChatAPIError (see .undeliverable) or WeChatUnavailable."""
        return self.call("/cgi-bin/message/custom/send",
                         {"touser": openid, "msgtype": "text", "text": {"content": content}})

    def send_subscription(self, openid: str, message: dict) -> dict:
        """A subscription message (订阅通知): `message` holds template_id, data and optionally page."""
        return self.call("/cgi-bin/message/subscribe/bizsend", {"touser": openid, **message})

    def create_menu(self, menu: dict) -> dict:
        """Publish the custom menu (`{"button": [...]}`) as given."""
        return self.call("/cgi-bin/menu/create", menu)

    def get_media(self, media_id: str) -> Media:
        """A temporary medium (a photo a citizen sent) by its media id: `GET /cgi-bin/media/get`, which answers
        with the file itself, or with JSON when it cannot (40007: no such medium any more). Raises WeChatAPIError,
        WeChatUnavailable (network, HTTP error) or MediaTooLarge (a file over MAX_MEDIA_BYTES)."""
        path = "/cgi-bin/media/get"
        token = self.access_token()
        answer = self._get_file(path, {"media_id": media_id}, token)
        if isinstance(answer, dict) and _errcode(answer) in TOKEN_ERRCODES:
            token = self.tokens.refresh(token, self._fetch_token)
            answer = self._get_file(path, {"media_id": media_id}, token)
        if isinstance(answer, dict):
            raise WeChatAPIError(_errcode(answer) or -1, _short(str(answer.get("errmsg") or "no file in the answer")),
                                 path)
        return answer

    def call(self, path: str, body: dict) -> dict:
        """POST `body` as JSON to `path` with the access token; the answer's JSON when errcode is 0 or absent."""
        token = self.access_token()
        result = self._post(path, body, token)
        if _errcode(result) in TOKEN_ERRCODES:
            log.info("wechat: %s said the access token is invalid (errcode %s); refreshing it once",
                     path, _errcode(result))
            token = self.tokens.refresh(token, self._fetch_token)
            result = self._post(path, body, token)
        errcode = _errcode(result)
        if errcode != 0:
            raise WeChatAPIError(errcode, _short(str(result.get("errmsg", ""))), path)
        return result

    def access_token(self) -> str:
        return self.tokens.get() or self.tokens.refresh(None, self._fetch_token)

    # ---- HTTP -----------------------------------------------------------------------------------------------
    def _fetch_token(self) -> tuple[str, int]:
        """A token and how many seconds to use it, from `stable_token` (never rotates a valid token)."""
        self.token_fetches += 1
        log.info("wechat: fetching the access token (stable_token)")
        result = self._post("/cgi-bin/stable_token", {"grant_type": "client_credential", "appid": self.app_id,
                                                      "secret": self._secret, "force_refresh": False}, None)
        token, expires_in = result.get("access_token"), result.get("expires_in")
        if not token or not isinstance(expires_in, int):
            raise WeChatAPIError(_errcode(result) or -1,
                                 _short(str(result.get("errmsg") or "no access_token in the answer")),
                                 "/cgi-bin/stable_token")
        return token, max(1, expires_in - TOKEN_SAFETY_SECONDS if expires_in > 2 * TOKEN_SAFETY_SECONDS
                          else expires_in // 2)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _get_file(self, path: str, params: dict[str, str], token: str) -> Media | dict[str, Any]:
        """The file at `path`, or WeChat's JSON answer when it sent no file."""
        try:
            with self._session().get(self.base_url + path, params={"access_token": token, **params},
                                     timeout=self.timeout, stream=True) as response:
                if response.status_code != 200:
                    raise WeChatUnavailable(f"{path}: HTTP {response.status_code}")
                content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                received = bytearray()
                for chunk in response.iter_content(64 * 1024):
                    received += chunk
                    if len(received) > MAX_MEDIA_BYTES:
                        raise MediaTooLarge(f"{path}: the file is over {MAX_MEDIA_BYTES // 2**20} MB")
        except requests.RequestException as exc:
            raise WeChatUnavailable(f"{path}: {type(exc).__name__}: {scrub(str(exc))}") from None
        content = bytes(received)
        if content_type in ("application/json", "text/plain") or content.startswith(b"{"):
            try:
                answer = json.loads(content.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                answer = None
            if isinstance(answer, dict):
                return answer
        return Media(content, content_type or "application/octet-stream")

    def _post(self, path: str, body: dict, token: str | None) -> dict[str, Any]:
        session = self._session()
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            response = session.post(self.base_url + path, params={"access_token": token} if token else None,
                                    data=data, timeout=self.timeout,
                                    headers={"Content-Type": "application/json; charset=utf-8"})
        except requests.RequestException as exc:
            raise WeChatUnavailable(f"{path}: {type(exc).__name__}: {scrub(str(exc))}") from None
        if response.status_code != 200:
            raise WeChatUnavailable(f"{path}: HTTP {response.status_code}")
        try:
            result = json.loads(response.content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise WeChatUnavailable(f"{path}: the answer is not JSON") from None
        if not isinstance(result, dict):
            raise WeChatUnavailable(f"{path}: the answer is not a JSON object")
        return result


def scrub(text: str) -> str:
    """`text` without access tokens or secrets (request errors quote the URL), shortened."""
    text = re.sub(r"(access_token|secret)=[^&\s'\")]+", r"\1=***", text)
    return _short(text)


def _errcode(result: dict) -> int:
    try:
        return int(result.get("errcode") or 0)
    except (TypeError, ValueError):
        return -1


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
