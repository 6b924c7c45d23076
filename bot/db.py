"""The database: one declarative Base for every model, and the schema created from it.

Models live next to the code that owns them (bot/outbox.py, bot/escalations.py ...) and register on `Base`.
Until the case database brings Alembic migrations, `create_schema` creates missing tables (never alters).
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone

from sqlalchemy import DateTime, Engine, TypeDecorator
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, sessionmaker

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    pass


def import_models() -> None:
    """Import every module that defines models, so that Base.metadata knows all tables."""
    import importlib

    for name in MODEL_MODULES:
        importlib.import_module(name)


# Every module that defines models; add yours here.
MODEL_MODULES: list[str] = ["bot.outbox", "bot.escalations", "bot.media", "bot.cases.models"]


def create_schema(engine: Engine) -> None:
    import_models()
    Base.metadata.create_all(engine)


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


class Schema:
    """Creates the schema once per process, tolerating a database that is down at start-up.

    `try_create()` at app creation logs and carries on when the database does not answer (GET /health then says
    so); `ensure()` before the first write retries and raises if it still fails. Two workers creating the tables
    at the same moment can collide on PostgreSQL; the loser tries again and finds them there.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._ready = False
        self._lock = threading.Lock()

    def ensure(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            for attempt in range(3):
                try:
                    create_schema(self.engine)
                    break
                except SQLAlchemyError:
                    if attempt == 2:
                        raise
                    time.sleep(0.2 * (attempt + 1))
            self._ready = True

    def try_create(self) -> bool:
        try:
            self.ensure()
        except SQLAlchemyError as exc:
            log.warning("database schema not created yet (%s); will try again before the first write",
                        type(exc).__name__)
            return False
        return True


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite keeps naive UTC, PostgreSQL timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware datetime (UTC)")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
