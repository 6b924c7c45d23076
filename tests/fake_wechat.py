"""A local fake of the parts of WeChat's HTTP API the assistant calls, on loopback (never the internet).

    with FakeWeChat() as fake:            # http://127.0.0.1:<port>
        api = WeChatAPI(fake.app_id, fake.secret, base_url=fake.url)

- POST /cgi-bin/stable_token: like the real one with force_refresh=false, returns the same token while it is valid
  (`rotate()` makes the current token invalid, as if it had expired); counts calls in `token_calls`.
- POST /cgi-bin/message/custom/send: 40001 for a token that is not the current one; otherwise the next scripted
  answer (`fail_next(errcode, ...)`, or `http_error_next(status)`), else records (touser, content) in `sent`.
- POST /cgi-bin/menu/create: records the JSON body in `menus`.
- GET /cgi-bin/media/get: 40001 for a stale token; the next scripted answer; else the bytes put in
  `media[media_id]` = (content, content_type), or 40007 (invalid media_id) for an id it does not have.
Every request is in `requests` as (path, query, body).
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeWeChat:
    app_id = "wxfake0000000001"
    secret = "fake-secret"

    def __init__(self, token_delay: float = 0.0, send_delay: float = 0.0):
        self.token_delay = token_delay
        self.send_delay = send_delay
        self.lock = threading.Lock()
        self.generation = 0
        self.token_calls = 0
        self.token_bodies: list[dict] = []
        self.sent: list[tuple[str, str]] = []
        self.menus: list[dict] = []
        self.subscriptions: list[tuple[str, str, dict]] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.requests: list[tuple[str, dict, object]] = []
        self._script: deque = deque()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                fake._handle(self)

            def do_GET(self):  # noqa: N802
                fake._get(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeWeChat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ---- control -------------------------------------------------------------------------------------------
    @property
    def token(self) -> str | None:
        return f"TOKEN-{self.generation}" if self.generation > 0 else None

    def rotate(self) -> None:
        """The current token stops working (as when it expires); the next stable_token call gives a new one."""
        with self.lock:
            self.generation = -abs(self.generation) if self.generation else 0

    def fail_next(self, *errcodes: int) -> None:
        with self.lock:
            self._script.extend(("errcode", code) for code in errcodes)

    def http_error_next(self, *statuses: int) -> None:
        with self.lock:
            self._script.extend(("http", status) for status in statuses)

    # ---- serving -------------------------------------------------------------------------------------------
    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        raw = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            body = None
        with self.lock:
            self.requests.append((parts.path, query, body))
        if parts.path == "/cgi-bin/stable_token":
            status, answer = self._stable_token(body)
        elif parts.path in ("/cgi-bin/message/custom/send", "/cgi-bin/menu/create",
                            "/cgi-bin/message/subscribe/bizsend"):
            status, answer = self._api(parts.path, query, body, raw)
        else:
            status, answer = 404, {"errcode": 404, "errmsg": "not found"}
        data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _get(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        with self.lock:
            self.requests.append((parts.path, query, None))
            found = self.media.get(query.get("media_id", ""))
            if parts.path != "/cgi-bin/media/get":
                status, answer = 404, {"errcode": 404, "errmsg": "not found"}
            elif self.token is None or query.get("access_token") != self.token:
                status, answer = 200, {"errcode": 40001, "errmsg": "invalid credential"}
            elif self._script:
                kind, value = self._script.popleft()
                status, answer = (value, {"error": "server error"}) if kind == "http" else \
                    (200, {"errcode": value, "errmsg": f"fake error {value}"})
            elif found is None:
                status, answer = 200, {"errcode": 40007, "errmsg": "invalid media_id"}
            else:
                status, answer = 200, found
        if isinstance(answer, tuple):
            data, content_type = answer
        else:  # WeChat answers an error with JSON as text/plain
            data, content_type = json.dumps(answer).encode("utf-8"), "text/plain"
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _stable_token(self, body):
        if self.token_delay:
            time.sleep(self.token_delay)  # widens the window in which unsynchronised callers would all fetch
        with self.lock:
            self.token_calls += 1
            self.token_bodies.append(body)
            if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
                return 200, {"errcode": 40002, "errmsg": "invalid grant_type"}
            if body.get("appid") != self.app_id or body.get("secret") != self.secret:
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            if self.generation <= 0:
                self.generation = abs(self.generation) + 1
            return 200, {"access_token": self.token, "expires_in": 7200}

    def _api(self, path, query, body, raw):
        if self.send_delay:
            time.sleep(self.send_delay)
        with self.lock:
            if self.token is None or query.get("access_token") != self.token:
                return 200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
            if path == "/cgi-bin/menu/create":
                self.menus.append(body)
                return 200, {"errcode": 0, "errmsg": "ok"}
            if self._script:
                kind, value = self._script.popleft()
                if kind == "http":
                    return value, {"error": "server error"}
                return 200, {"errcode": value, "errmsg": f"fake error {value}"}
            if path == "/cgi-bin/message/subscribe/bizsend":
                if not isinstance(body, dict) or not body.get("template_id") or not isinstance(body.get("data"), dict):
                    return 200, {"errcode": 47003, "errmsg": "argument invalid"}
                self.subscriptions.append((body["touser"], body["template_id"], body["data"]))
                return 200, {"errcode": 0, "errmsg": "ok"}
            if not isinstance(body, dict) or body.get("msgtype") != "text":
                return 200, {"errcode": 40008, "errmsg": "invalid message type"}
            if b"\\u" in raw:
                return 200, {"errcode": 44003, "errmsg": "expected UTF-8 text, not \\u escapes"}
            self.sent.append((body["touser"], body["text"]["content"]))
            return 200, {"errcode": 0, "errmsg": "ok"}
