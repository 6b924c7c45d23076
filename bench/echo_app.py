"""The yardstick for bench/gateway.py: the least a WeChat endpoint can do, with wechatpy and Flask.

Checks the plain signature, parses the push with wechatpy and answers a text message with the same text as a
passive reply ("success" for anything else); GET /wechat answers URL verification, GET /health says ok. No state,
no database, no Redis: what is left of a request's time is Flask, wechatpy and gunicorn, which bangban pays too.

    gunicorn --pythonpath bench 'echo_app:create_app()'      # WECHAT_TOKEN, default: the development token
"""
from __future__ import annotations

import os

from flask import Flask, Response, request
from wechatpy import parse_message
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

DEV_TOKEN = "bangban-dev"  # bot/config.py DEV_WECHAT_TOKEN
MAX_BODY_BYTES = 64 * 1024


def create_app(token: str | None = None) -> Flask:
    token = token or os.environ.get("WECHAT_TOKEN") or DEV_TOKEN
    app = Flask(__name__)

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.route("/wechat", methods=["GET", "POST"])
    def wechat():
        args = request.args
        try:
            check_signature(token, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
        except InvalidSignatureException:
            return Response("", status=403)
        if request.method == "GET":
            return Response(args.get("echostr", ""), mimetype="text/plain")
        body = request.get_data(cache=False)
        if len(body) > MAX_BODY_BYTES:
            return Response("", status=400)
        try:
            message = parse_message(body)
        except Exception:  # noqa: BLE001 - malformed XML
            return Response("", status=400)
        if message.type != "text":
            return Response("success", mimetype="text/plain")
        reply = TextReply(message=message, content=message.content).render()
        return Response(reply, content_type="application/xml; charset=utf-8")

    return app
