"""The Flask app factory.

`create_app()` builds everything from a `Config` (by default read from the environment); importing this module
connects to nothing. The database engine and the Redis client are made here, once per process, and kept in
`app.extensions["bangban"]`; neither opens a connection until it is used.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from flask import Flask, current_app, jsonify
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from .config import Config, redact_url
from .connections import connect_database, connect_redis
from .logs import configure_logging
from .db import Schema, session_factory

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Services:
    """The outside services one app instance talks to."""

    config: Config
    engine: Engine
    redis: redis.Redis | None  # None: REDIS_URL not set, the embedded store is used
    sessions: Any = None  # sqlalchemy sessionmaker over `engine`
    # Parts made by the blueprints, for each other: "store" (conversation store), "knowledge_base", "schema"
    parts: dict[str, Any] = field(default_factory=dict)


def create_app(config: Config | None = None) -> Flask:
    config = config if config is not None else Config.from_env()
    config.ensure_data_dir()
    configure_logging(config.log_level)

    app = Flask(__name__, instance_path=str(config.data_dir))
    engine = connect_database(config)
    svc = Services(config=config, engine=engine, redis=connect_redis(config), sessions=session_factory(engine))
    app.extensions["bangban"] = svc
    schema = Schema(svc.engine)
    svc.parts["schema"] = schema
    schema.try_create()  # a database down at start-up is reported by /health; writes try again
    app.add_url_rule("/health", view_func=health)

    from .wechat import init_wechat  # here: it loads the knowledge base

    init_wechat(app, svc, schema)
    if config.simulator:  # otherwise /simulator does not exist: 404
        from .simulator import init_simulator

        init_simulator(app, svc)
    from .staff import init_staff

    init_staff(app, svc)  # after the other blueprints: it exempts the simulator's POSTs from CSRF
    svc.engine.dispose()  # no pooled connection may cross a fork (gunicorn --preload): workers open their own
    return app


def services() -> Services:
    return current_app.extensions["bangban"]


def health():
    """GET /health: really asks the database and Redis; 200 when every configured service answers, else 503."""
    svc = services()
    database = check_database(svc.engine, svc.config.database_url)
    redis_status = "not configured" if svc.redis is None else check_redis(svc.redis, svc.config.redis_url or "")
    healthy = database == "ok" and redis_status in ("ok", "not configured")
    response = jsonify(status="ok" if healthy else "degraded", database=database, redis=redis_status)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def check_database(engine: Engine, url: str) -> str:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1")).scalar_one()
    except SQLAlchemyError as exc:
        reason = _reason(getattr(exc, "orig", None) or exc, url)
        log.warning("health: database %s does not answer: %s", redact_url(url), reason)
        return f"error: {reason}"
    return "ok"


def check_redis(client: redis.Redis, url: str) -> str:
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        reason = _reason(exc, url)
        log.warning("health: redis %s does not answer: %s", redact_url(url), reason)
        return f"error: {reason}"
    return "ok"


def _reason(exc: BaseException, url: str) -> str:
    """First line of the error, without the URL or its password (drivers may echo parts of what they were given)."""
    lines = str(exc).strip().splitlines()
    reason = f"{type(exc).__name__}: {lines[0] if lines else 'no message'}"
    for secret in sorted(_secrets(url), key=len, reverse=True):
        reason = reason.replace(secret, "***")
    return reason[:300]


def _secrets(url: str) -> set[str]:
    found = {url}
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        found |= {password, unquote(password)}
    return {secret for secret in found if secret}
