"""The database: one declarative Base for every model, and the schema created from it.

Models live next to the code that owns them (bot/outbox.py, bot/escalations.py ...) and register on `Base`.
Until the case database brings Alembic migrations, `create_schema` creates missing tables (never alters).
"""
from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker


class Base(DeclarativeBase):
    pass


def import_models() -> None:
    """Import every module that defines models, so that Base.metadata knows all tables."""
    import importlib

    for name in MODEL_MODULES:
        importlib.import_module(name)


# Every module that defines models; add yours here.
MODEL_MODULES: list[str] = ["bot.outbox"]


def create_schema(engine: Engine) -> None:
    import_models()
    Base.metadata.create_all(engine)


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
