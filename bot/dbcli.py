"""`bangban db ...`: the case database's migrations from the command line.

    bangban db upgrade                 upgrade the database (DATABASE_URL) to the newest revision; prints from -> to
    bangban db current                 print the database's revision and whether it is the newest
    bangban db revision -m "..."       write a new migration: the models compared with the newest revision
    bangban db revision --initial      write bot/migrations/versions/0001_initial.py afresh from the models (only
                                       while it is the only migration, i.e. before the first release)

`revision` needs no database: it compares the models with a temporary SQLite database upgraded to head (for
--initial: an empty one), the same comparison tests/test_migrations.py makes.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

INITIAL = "0001_initial"
MAX_REVISION_ID = 32  # alembic_version.version_num is VARCHAR(32)


def add_db_commands(subparsers) -> None:
    db = subparsers.add_parser("db", help="the case database: migrations (upgrade, current, revision)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="upgrade the database to the newest revision").set_defaults(func=cmd_upgrade)
    db_sub.add_parser("current", help="print the database's revision").set_defaults(func=cmd_current)
    revision = db_sub.add_parser("revision", help="write a new migration from the changes to the models")
    what = revision.add_mutually_exclusive_group(required=True)
    what.add_argument("-m", "--message", help="what the migration does, e.g. \"cases: add tracking_company\"")
    what.add_argument("--initial", action="store_true", help=f"write {INITIAL} afresh (no later migrations yet)")
    revision.set_defaults(func=cmd_revision)


def cmd_upgrade(args: argparse.Namespace) -> int:
    from .db import upgrade_schema

    def upgrade(engine, url):
        before, after = upgrade_schema(engine)
        note = "  (already at head)" if before == after else ""
        print(f"database {url}: {before or 'empty'} -> {after}{note}")

    return _with_database("upgrade", upgrade)


def cmd_current(args: argparse.Namespace) -> int:
    from .db import current_revision, head_revision, known_revision

    def current(engine, url):
        with engine.connect() as connection:
            revision = current_revision(connection)
        head = head_revision()
        if revision == head:
            state = "head"
        elif known_revision(revision):
            state = f"not head: {head}; run `bangban db upgrade`"
        else:
            state = f"unknown to this bangban, whose newest is {head}: a newer version upgraded it"
        print(f"database {url}: {revision or 'empty'}  ({state})")

    return _with_database("current", current)


def _with_database(command: str, action) -> int:
    """Runs action(engine, redacted url); a database that cannot be reached or upgraded is one line and exit 1."""
    from sqlalchemy.exc import SQLAlchemyError

    from .config import Config, redact_url
    from .connections import connect_database
    from .db import SchemaError

    config = Config.from_env()
    url = redact_url(config.database_url)
    config.ensure_data_dir()  # where the default SQLite database lives
    engine = connect_database(config)
    try:
        action(engine, url)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"bangban db {command}: cannot use the database {url}: {reason}", file=sys.stderr)
        return 1
    except SchemaError as exc:
        print(f"bangban db {command}: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def cmd_revision(args: argparse.Namespace) -> int:
    from .db import SchemaError

    try:
        path = make_revision(args.message or "initial schema", initial=args.initial)
    except SchemaError as exc:
        print(f"bangban db revision: {exc}", file=sys.stderr)
        return 1
    if path is None:
        print("no differences between the models and the newest migration: nothing written")
        return 0
    print(f"wrote {path}; read it (and test it: python3 -m pytest tests/test_migrations.py) before committing")
    return 0


def make_revision(message: str, *, initial: bool = False) -> Path | None:
    """Autogenerates a migration into bot/migrations/versions and returns its path (None: nothing changed).

    The models are compared with a temporary SQLite database upgraded to head; with `initial`, with an empty one,
    in a scratch copy of bot/migrations, and the result replaces 0001_initial.py.
    """
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    from .db import MIGRATIONS_DIR, SchemaError, alembic_config, migration_scripts, upgrade_schema

    versions = MIGRATIONS_DIR / "versions"
    known = [script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    with tempfile.TemporaryDirectory(prefix="bangban-revision-") as scratch:
        scratch = Path(scratch)
        engine = create_engine(f"sqlite:///{scratch / 'head.db'}")
        try:
            if initial:
                if set(known) - {INITIAL}:
                    raise SchemaError(f"{INITIAL} can be written afresh only while it is the only migration; "
                                      f"there are also {', '.join(sorted(set(known) - {INITIAL}))}")
                location = scratch / "migrations"
                (location / "versions").mkdir(parents=True)
                for name in ("env.py", "script.py.mako"):
                    shutil.copy(MIGRATIONS_DIR / name, location / name)
                rev_id = INITIAL
            else:
                if known:
                    upgrade_schema(engine)
                location = MIGRATIONS_DIR
                rev_id = _next_revision_id(known, message)
            with engine.connect() as connection:
                config = alembic_config(connection)
                config.set_main_option("script_location", str(location))
                config.attributes["skip_if_empty"] = not initial
                written = command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
        if not written:
            return None
        path = Path(written.path)
        if initial:
            path = Path(shutil.copy(path, versions / f"{INITIAL}.py"))
    migration_scripts.cache_clear()
    return path


def _next_revision_id(known: list[str], message: str) -> str:
    numbers = [int(match.group()) for rev in known if (match := re.match(r"\d+", rev))]
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")
    return f"{max(numbers, default=0) + 1:04d}_{slug}"[:MAX_REVISION_ID].rstrip("_")
