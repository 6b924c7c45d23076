"""Fixtures for tests that need real servers.

`postgres_url` and `redis_url` come from DATABASE_URL and REDIS_URL, which `.ci/run` sets after starting a
PostgreSQL and a Redis of its own. The rule:

- in CI (BANGBAN_CI=1), a missing variable or a server that does not answer FAILS the test: CI must not go
  green by skipping what it was meant to check;
- on a laptop, with the variable unset, the test is skipped with a message saying how to run it;
- a variable that is set but points at a server that does not answer fails everywhere: it was asked for.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest

from bot.config import Config, ConfigError, redact_url

CONNECT_TIMEOUT_SECONDS = 5


def in_ci() -> bool:
    return os.environ.get("BANGBAN_CI") == "1"


def _not_available(message: str) -> None:
    if in_ci():
        pytest.fail(f"{message} (BANGBAN_CI=1: .ci/run should have started the server and exported the variable)",
                    pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A SQLAlchemy URL (postgresql+psycopg://...) of a PostgreSQL database that answers."""
    how = "set DATABASE_URL=postgresql://user:password@127.0.0.1:5432/bangban_test, or run .ci/run, which starts one"
    raw = os.environ.get("DATABASE_URL", "").strip()
    if not raw:
        _not_available(f"needs PostgreSQL: {how}")
    try:
        url = Config.from_env({"DATABASE_URL": raw}).database_url
    except ConfigError as exc:
        pytest.fail(str(exc), pytrace=False)
    if not url.startswith("postgresql"):
        _not_available(f"needs PostgreSQL but DATABASE_URL is {redact_url(raw)}: {how}")

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        pytest.fail(f"PostgreSQL at {redact_url(url)} does not answer: {getattr(exc, 'orig', None) or exc}; "
                    "start it, or unset DATABASE_URL to skip these tests", pytrace=False)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A redis:// URL of a Redis that answers PING."""
    how = "set REDIS_URL=redis://127.0.0.1:6379/0, or run .ci/run, which starts one"
    raw = os.environ.get("REDIS_URL", "").strip()
    if not raw:
        _not_available(f"needs Redis: {how}")
    try:
        url = Config.from_env({"REDIS_URL": raw}).redis_url
    except ConfigError as exc:
        pytest.fail(str(exc), pytrace=False)

    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                  socket_timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        pytest.fail(f"Redis at {redact_url(url)} does not answer: {exc}; start it, or unset REDIS_URL to skip "
                    "these tests", pytrace=False)
    finally:
        client.close()
    return url


@pytest.fixture
def redis_client(redis_url):
    """A client of that Redis and a key prefix of the test's own; the keys under it are deleted afterwards."""
    import redis

    client = redis.Redis.from_url(redis_url)
    prefix = f"bangban-test:{uuid.uuid4().hex}:"
    yield client, prefix
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@contextmanager
def fresh_postgres_schema(url: str, prefix: str = "test"):
    """A URL whose connections use a new, empty schema of the PostgreSQL at `url`; the schema is dropped after."""
    import uuid

    from sqlalchemy import create_engine, make_url, text

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def model_sessions(request, tmp_path):
    """A sessionmaker over every model's tables: a fresh SQLite file, and a fresh schema in the PostgreSQL of
    `postgres_url` (dropped afterwards), so tests on both databases start empty."""
    from sqlalchemy import create_engine

    from bot.db import Base, import_models, session_factory

    import_models()
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'models.db'}")
        Base.metadata.create_all(engine)
        yield session_factory(engine)
        engine.dispose()
        return
    with fresh_postgres_schema(request.getfixturevalue("postgres_url")) as url:
        engine = create_engine(url, pool_size=10)
        try:
            Base.metadata.create_all(engine)
            yield session_factory(engine)
        finally:
            engine.dispose()
