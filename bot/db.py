"""The database: one declarative Base for every model, and the schema made by the Alembic migrations.

Models live next to the code that owns them (bot/outbox.py, bot/escalations.py ...), register on `Base` and are
listed in `MODEL_MODULES`. The schema is what the migrations in bot/migrations/versions make: `create_schema`
(the app factory, the worker, `bangban db upgrade`, tests) upgrades the database to the newest revision ("head").
A model change therefore needs a migration (`bangban db revision -m "..."`, see README.md "Database");
tests/test_migrations.py fails until it has one.

There is no alembic.ini: `alembic_config()` builds Alembic's configuration in code and hands it the connection.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, DateTime, Engine, MetaData, TypeDecorator, inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)

# Constraint names the same on SQLite and PostgreSQL, so that a later migration can drop or change one by name
# (SQLite's batch mode cannot find an unnamed constraint).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def import_models() -> None:
    """Import every module that defines models, so that Base.metadata knows all tables."""
    import importlib

    for name in MODEL_MODULES:
        importlib.import_module(name)


# Every module that defines models; add yours here (and make a migration: README.md "Database").
MODEL_MODULES: list[str] = ["bot.outbox", "bot.escalations", "bot.media", "bot.cases.models"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
PG_MIGRATION_LOCK = 7_160_520_430_112_735_232  # pg_advisory_xact_lock key: one migrating process per database
_alembic_lock = threading.Lock()  # Alembic's `context`/`op` proxies are process-global: one command at a time


class SchemaError(RuntimeError):
    """The database cannot be brought to this version's schema; the message says why and what to do."""


def include_in_migrations(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's include_object: the tables of MODEL_MODULES (and Table()s on Base) are migrated. A model declared
    elsewhere (the simulator's simulator_messages, made by bot/simulator.py where the simulator is on) is not."""
    if type_ != "table":
        return True
    outside = {mapper.local_table.name for mapper in Base.registry.mappers
               if mapper.class_.__module__ not in MODEL_MODULES}
    return name not in outside


def alembic_config(connection: Connection | None = None) -> "AlembicConfig":
    """Alembic's configuration, without an alembic.ini; bot/migrations/env.py runs on `connection`."""
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(rev)s")  # revision ids are file names: 0001_initial
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def migration_scripts():
    """bot/migrations as Alembic reads it (loaded once per process)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision in bot/migrations/versions."""
    head = migration_scripts().get_current_head()
    if head is None:
        raise SchemaError(f"no migrations in {MIGRATIONS_DIR / 'versions'}")
    return head


def known_revision(revision: str | None) -> bool:
    """Whether bot/migrations has this revision (None: a database no migration has touched yet)."""
    return revision is None or any(script.revision == revision for script in migration_scripts().walk_revisions())


def current_revision(connection: Connection) -> str | None:
    """The database's revision; None for a database that migrations never touched (empty, or made before them)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade_schema(engine: Engine) -> tuple[str | None, str]:
    """Upgrades the database to head; returns (revision before, revision after). Fast when already there.

    Several processes may start at once (gunicorn workers, the outbox worker): on PostgreSQL the upgrade runs in
    one transaction holding an advisory lock, on SQLite in a `BEGIN IMMEDIATE` transaction (SQLite's own write
    lock, across processes); whoever comes second finds the database at head and does nothing.
    """
    head = head_revision()
    with engine.connect() as connection:
        before = current_revision(connection)
    if before == head:
        return before, head
    with _alembic_lock, engine.connect() as connection:
        _lock_for_migration(connection)
        before = current_revision(connection)
        if before != head:
            _run_upgrade(connection, before, head)
        connection.commit()
    if before != head:
        log.info("database schema upgraded from %s to %s", before or "empty", head)
    return before, head


def create_schema(engine: Engine) -> None:
    """The schema the code expects: upgrades to head (see `upgrade_schema`)."""
    upgrade_schema(engine)


def _lock_for_migration(connection: Connection) -> None:
    """Begins the migration transaction, holding a lock that other migrating processes wait for."""
    name = connection.dialect.name
    if name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")  # released by commit
    elif name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # pysqlite then leaves the transaction to us; DDL included


def _run_upgrade(connection: Connection, before: str | None, head: str) -> None:
    from alembic import command
    from alembic.util import CommandError

    if not known_revision(before):
        raise SchemaError(f"the database is at revision {before}, which this bangban does not know (its newest is "
                          f"{head}): a newer version upgraded it; run that version (or downgrade the database "
                          "with it)")
    config = alembic_config(connection)
    try:
        if before is None:
            _adopt_unversioned(connection, config)
        command.upgrade(config, "head")
    except CommandError as exc:
        raise SchemaError(f"cannot upgrade the database from revision {before} to {head}: {exc}") from exc


def _adopt_unversioned(connection: Connection, config: "AlembicConfig") -> None:
    """A database made before migrations (by create_all) has tables but no revision. If they are the models'
    tables, short of whole tables or foreign keys (create_all can leave out a use_alter one), add those and stamp
    head; if anything else differs, stop and say what to do."""
    from alembic import command
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    import_models()
    existing = set(inspect(connection).get_table_names())
    ours = {name for name, table in Base.metadata.tables.items()
            if include_in_migrations(table, name, "table", False, None)}
    if not existing & ours:
        return  # empty (or someone else's tables only): the migrations make everything
    missing, _ = _differences(connection, existing & ours)
    Base.metadata.create_all(connection, tables=[Base.metadata.tables[name] for name in missing])
    _, foreign_keys = _differences(connection, existing & ours)
    operations = Operations(MigrationContext.configure(connection))
    for table_name, fk_name in foreign_keys:
        fk = next(fk for fk in Base.metadata.tables[table_name].foreign_key_constraints if fk.name == fk_name)
        with operations.batch_alter_table(table_name) as batch:  # SQLite: recreates the table
            batch.create_foreign_key(fk.name, fk.referred_table.name, [column.name for column in fk.columns],
                                     [element.column.name for element in fk.elements])
    command.stamp(config, "head")
    log.warning("database made before migrations adopted as revision %s (%d table(s), %d foreign key(s) added)",
                head_revision(), len(missing), len(foreign_keys))


def _differences(connection: Connection, found: set[str]) -> tuple[set[str], list[tuple[str, str]]]:
    """(tables missing, (table, foreign key) missing) between the database and the models; SchemaError if the
    database differs in any other way."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"include_object": include_in_migrations})
    diffs = compare_metadata(context, Base.metadata)
    missing = {diff[1].name for diff in diffs if isinstance(diff, tuple) and diff[0] == "add_table"}
    foreign_keys = [(diff[1].table.name, diff[1].name) for diff in diffs
                    if isinstance(diff, tuple) and diff[0] == "add_fk" and diff[1].name]
    other = [diff[0] if isinstance(diff, tuple) else diff[0][0] for diff in diffs
             if not (isinstance(diff, tuple) and (diff[0] == "add_fk" and diff[1].name or diff[0] == "add_table"
                                                  or diff[0] == "add_index" and diff[1].table.name in missing))]
    if other:
        raise SchemaError(f"the database has tables ({', '.join(sorted(found))}) but no migration revision, and "
                          f"they differ from this version's ({len(other)} difference(s): "
                          f"{', '.join(sorted(set(map(str, other))))}); it was made by an older bangban before "
                          "migrations: back it up, then empty it (or start a new database) and run "
                          "`bangban db upgrade`")
    return missing, foreign_keys


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


class Schema:
    """Upgrades the schema once per process, tolerating a database that is down at start-up.

    `try_create()` at app creation logs and carries on when the database does not answer (GET /health then says
    so); `ensure()` before the first write retries and raises if it still fails. Workers upgrading at the same
    moment wait for each other (`upgrade_schema`); a database this code cannot upgrade raises `SchemaError`.
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
