"""The WeChat public-account endpoint `/wechat`.

    protocol.py   signatures, decryption (current and previous EncodingAESKey), hostile-input checks, parsing a
                  push into a dialogs `Inbound`, the retry key, the text reply
    endpoint.py   the request side: verification, one push → claim → turn within the reply budget → reply
    turn.py       one user turn under the user's lock, its effects in one transaction, the outbox handover

`init_wechat(app, services)` is called by the app factory: it loads the knowledge base (once per process, shared
by every app made in it), opens the conversation store and puts the gateway in front of Flask for `/wechat`.
"""
from __future__ import annotations

import gc
import threading
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.wsgi import get_input_stream

from ..db import Schema, session_factory
from ..shared_consultations import consultations
from ..store import RedisStore, open_store
from .endpoint import Answer, Gateway
from .protocol import MAX_BODY_BYTES, Keys
from ..clock import real_hall_now
from .turn import TurnRunner

if TYPE_CHECKING:
    from ..app import Services
    from ..knowledge_base import KnowledgeBase

EXTENSION = "bangban.wechat"

_knowledge_bases: dict[tuple[tuple[Path, ...], Path], "KnowledgeBase"] = {}
_knowledge_lock = threading.Lock()


def knowledge_base_for(config) -> "KnowledgeBase":
    """The knowledge base of this configuration's catalogue and hall, loaded once per process."""
    from ..knowledge_base import load_knowledge_base

    key = (tuple(config.catalogue_paths), config.hall_dir)
    with _knowledge_lock:
        if key not in _knowledge_bases:
            _knowledge_bases[key] = load_knowledge_base(config)
            # It lives as long as the process: its ~400,000 objects are taken out of the cyclic garbage collector's
            # full collections, which otherwise stop a worker for about 90 ms now and then.
            gc.collect()
            gc.freeze()
        return _knowledge_bases[key]


def init_wechat(app: Flask, services: "Services", schema: Schema) -> Gateway:
    config = services.config
    keys = Keys.of(config.wechat_token, config.wechat_app_id, config.wechat_encoding_aes_key,
                   config.wechat_previous_encoding_aes_key)
    store = open_store(services.redis, config.data_dir)
    knowledge_base = knowledge_base_for(config)
    services.parts.update(store=store, knowledge_base=knowledge_base)
    runner = TurnRunner(store, services.sessions or session_factory(services.engine), knowledge_base,
                        config.idle_minutes, schema.ensure,
                        clock=lambda: (services.parts.get("clock") or real_hall_now)(),
                        consult=consultations(knowledge_base.knowledge,
                                              store.commands if isinstance(store, RedisStore) else None))
    gateway = Gateway(keys, store, runner, config.reply_budget_seconds)
    app.extensions[EXTENSION] = gateway
    app.wsgi_app = WeChatPath(app.wsgi_app, gateway)  # type: ignore[method-assign]
    return gateway


class WeChatPath:
    """WSGI: `/wechat` straight to the gateway, every other path to Flask.

    WeChat's pushes are most of the traffic and need nothing of Flask's (no session, template, CSRF or error page;
    the gateway answers every failure itself), so they skip its request context, URL map and hooks, and werkzeug's
    request and response objects too: the query string, the body and the answer are all a push has (about 0.25 ms
    of CPU a push, a fifth of it; bench/gateway.py).
    """

    PATH = "/wechat"
    ALLOW = "GET, HEAD, POST"

    def __init__(self, flask_wsgi_app, gateway: Gateway) -> None:
        self.flask_wsgi_app = flask_wsgi_app
        self.gateway = gateway

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != self.PATH:
            return self.flask_wsgi_app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "POST":
            # werkzeug's stream honours Content-Length and chunked bodies; one byte over the limit is enough to refuse
            body = get_input_stream(environ).read(MAX_BODY_BYTES + 1)
            answer = self.gateway.receive(query_args(environ), body)
        elif method in ("GET", "HEAD"):
            answer = self.gateway.verify(query_args(environ))
        else:
            answer = Answer(405)
        payload = answer.body.encode("utf-8")
        headers = [("Content-Type", answer.content_type), ("Content-Length", str(len(payload)))]
        if answer.status == 405:
            headers.append(("Allow", self.ALLOW))
        start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}", headers)
        return [] if method == "HEAD" else [payload]


def query_args(environ) -> dict[str, str]:
    """The query string's arguments, the first value of each (WSGI gives the string as latin-1; its escapes are
    UTF-8). WeChat's own (digits, hex, letters) have nothing to unescape: they are split as they are."""
    raw = environ.get("QUERY_STRING", "")
    if raw.isascii() and "%" not in raw and "+" not in raw:
        pairs = (field.partition("=")[::2] for field in raw.split("&") if field)
    else:
        pairs = parse_qsl(raw.encode("latin-1").decode("utf-8", "replace"), keep_blank_values=True)
    args: dict[str, str] = {}
    for name, value in pairs:
        args.setdefault(name, value)
    return args
