"""Clients for the outside services, made the same way by the web app, the worker and the command line."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis
    from sqlalchemy import Engine

    from .config import Config

CONNECT_TIMEOUT_SECONDS = 3


def connect_database(config: "Config", *, pre_ping: bool = False,
                     timeout: float = CONNECT_TIMEOUT_SECONDS) -> "Engine":
    """The web app does without a pre-ping per checkout (a round trip per message): connections are recycled, and
    a turn that meets a dropped connection fails with 503, which WeChat retries. A long-idle worker pre-pings."""
    from sqlalchemy import create_engine

    connect_args = {"connect_timeout": int(timeout)} if config.database_url.startswith("postgresql") else {}
    return create_engine(config.database_url, pool_pre_ping=pre_ping, pool_recycle=1800, connect_args=connect_args)


def connect_redis(config: "Config", timeout: float = CONNECT_TIMEOUT_SECONDS) -> "redis.Redis | None":
    """A Redis client, or None in embedded mode (REDIS_URL not set)."""
    if config.redis_url is None:
        return None
    import redis

    return redis.Redis.from_url(config.redis_url, socket_connect_timeout=timeout, socket_timeout=timeout)
