"""The migrations in bot/migrations make exactly the tables the models describe, on SQLite and on PostgreSQL.

`test_an_empty_database_upgraded_to_head_matches_the_models` fails when a model changed without a migration. Then:

    bangban db revision -m "cases: add tracking_company"     # writes bot/migrations/versions/000N_....py

(it compares the models with a scratch SQLite database upgraded to head, like `alembic revision --autogenerate`),
read the file it wrote, and run this file again. Before the first release, `bangban db revision --initial` writes
0001_initial afresh from the models instead.

PostgreSQL cases run in a schema of their own (CREATE SCHEMA + search_path), dropped afterwards.
"""
from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, event, inspect, make_url, text

from bot.db import (Base, SchemaError, alembic_config, create_schema, current_revision, head_revision,
                    import_models, include_in_migrations, upgrade_schema)

ROOT = Path(__file__).resolve().parents[1]

# The tables the case database had when migrations began; later ones come from the models.
FIRST_TABLES = {"outbox_messages", "outbox_user_windows", "escalations", "kept_media", "units", "staff",
                "applicants", "cases", "appointments", "material_records", "handovers", "messages", "evaluations",
                "follow_ups", "audit_entries", "case_counters"}


def model_tables() -> set[str]:
    import_models()
    return {name for name, table in Base.metadata.tables.items()
            if include_in_migrations(table, name, "table", False, None)}


def differences(engine) -> list:
    """What `alembic revision --autogenerate` would write for this database: [] when it matches the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_in_migrations,
                                                               "compare_type": True})
        return compare_metadata(context, Base.metadata)


def tables_of(engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names())


# ---- databases ----------------------------------------------------------------------------------------------------
@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'bangban.db'}"


@pytest.fixture
def postgres_schema_url(postgres_url):
    """A URL whose connections live in a new, empty schema of the test database; the schema is dropped after."""
    schema = f"migrations_{secrets.token_hex(6)}"
    admin = create_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_schema_url")


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


# ---- upgrading -----------------------------------------------------------------------------------------------------
def test_an_empty_database_upgraded_to_head_matches_the_models(engine):
    before, after = upgrade_schema(engine)

    assert (before, after) == (None, head_revision())
    assert FIRST_TABLES <= model_tables()
    assert tables_of(engine) == model_tables() | {"alembic_version"}
    assert differences(engine) == [], "a model changed without a migration: run bangban db revision -m '...'"


def test_upgrading_a_database_at_head_again_changes_nothing(engine):
    upgrade_schema(engine)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    assert upgrade_schema(engine) == (head_revision(), head_revision())
    create_schema(engine)

    assert not [sql for sql in statements if not sql.lstrip().upper().startswith(("SELECT", "PRAGMA"))]


def test_downgrading_to_nothing_and_upgrading_again_works(engine):
    """The way down drops the circular foreign key (units.liaison_id -> staff) before the tables."""
    upgrade_schema(engine)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert tables_of(engine) == {"alembic_version"}

    assert upgrade_schema(engine) == (None, head_revision())
    assert differences(engine) == []


def test_the_circular_foreign_key_between_units_and_staff_exists(engine):
    upgrade_schema(engine)
    with engine.connect() as connection:
        keys = {(fk["constrained_columns"][0], fk["referred_table"])
                for fk in inspect(connection).get_foreign_keys("units")}
        staff_keys = {(fk["constrained_columns"][0], fk["referred_table"])
                      for fk in inspect(connection).get_foreign_keys("staff")}
    assert ("liaison_id", "staff") in keys
    assert ("unit_id", "units") in staff_keys


def test_a_database_made_before_migrations_is_adopted_when_its_tables_match(engine):
    import_models()
    Base.metadata.create_all(engine, tables=[Base.metadata.tables["outbox_messages"]])  # the old create_all

    assert upgrade_schema(engine) == (None, head_revision())
    assert tables_of(engine) == model_tables() | {"alembic_version"}
    assert differences(engine) == []


def test_a_database_made_before_migrations_that_differs_stops_with_what_to_do(engine):
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE escalations (id INTEGER PRIMARY KEY, openid VARCHAR(64))"))

    with pytest.raises(SchemaError, match="bangban db upgrade") as raised:
        upgrade_schema(engine)
    assert "escalations" in str(raised.value)
    with engine.connect() as connection:
        assert current_revision(connection) is None  # nothing half done
    assert tables_of(engine) == {"escalations"}


def test_a_database_upgraded_by_a_newer_bangban_is_refused_not_touched(sqlite_url, tmp_path):
    engine = create_engine(sqlite_url)
    upgrade_schema(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))

    with pytest.raises(SchemaError, match="9999_from_the_future, which this bangban does not know"):
        upgrade_schema(engine)
    current = bangban_db("current", database_url=sqlite_url, data_dir=tmp_path)
    assert current.returncode == 0 and "a newer version upgraded it" in current.stdout
    upgrade = bangban_db("upgrade", database_url=sqlite_url, data_dir=tmp_path)
    assert upgrade.returncode == 1 and "which this bangban does not know" in upgrade.stderr
    assert len(upgrade.stderr.strip().splitlines()) == 1
    engine.dispose()


# ---- several processes at once -------------------------------------------------------------------------------------
RACER = """
import sys
from sqlalchemy import create_engine
from bot.db import upgrade_schema, head_revision
head_revision()                      # everything imported before the start
engine = create_engine(sys.argv[1])
sys.stdin.readline()                 # the start signal
before, after = upgrade_schema(engine)
print(before, after)
"""


def test_processes_upgrading_at_the_same_moment_wait_for_each_other(database_url):
    """Gunicorn workers and the outbox worker start together: one upgrades, the others find it done."""
    racers = [subprocess.Popen([sys.executable, "-c", RACER, database_url], cwd=ROOT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    time.sleep(2)  # let them import
    for racer in racers:
        racer.stdin.write("go\n")
        racer.stdin.flush()
    results = [racer.communicate(timeout=120) for racer in racers]

    assert [racer.returncode for racer in racers] == [0] * 4, [err for _, err in results]
    outcomes = sorted(out.strip() for out, _ in results)
    head = head_revision()
    assert outcomes == sorted([f"None {head}"] + [f"{head} {head}"] * 3)
    engine = create_engine(database_url)
    assert differences(engine) == []
    engine.dispose()


def test_threads_upgrading_at_the_same_moment_do_not_fail(database_url):
    engines = [create_engine(database_url) for _ in range(3)]
    start = threading.Barrier(len(engines))
    results, errors = [], []

    def upgrade(engine):
        start.wait()
        try:
            results.append(upgrade_schema(engine))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=upgrade, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(results, key=str) == sorted([(None, head_revision())] + [(head_revision(),) * 2] * 2, key=str)
    for engine in engines:
        engine.dispose()


# ---- the command line ----------------------------------------------------------------------------------------------
def bangban_db(*args: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "BANGBAN_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "bot.cli", "db", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


def test_bangban_db_upgrade_prints_from_and_to_revision(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    head = head_revision()

    first = bangban_db("upgrade", database_url=url, data_dir=tmp_path)
    second = bangban_db("upgrade", database_url=url, data_dir=tmp_path)
    current = bangban_db("current", database_url=url, data_dir=tmp_path)

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"database {url}: empty -> {head}"
    assert second.returncode == 0 and f"{head} -> {head}" in second.stdout and "already at head" in second.stdout
    assert current.returncode == 0 and current.stdout.strip() == f"database {url}: {head}  (head)"


def test_bangban_db_upgrade_with_the_database_down_says_so_in_one_line(tmp_path):
    url = "postgresql://bangban:s3cret-pw@127.0.0.1:9/bangban"  # discard port: nothing listens

    result = bangban_db("upgrade", database_url=url, data_dir=tmp_path)

    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("bangban db upgrade: cannot use the database "
                                    "postgresql+psycopg://bangban:***@127.0.0.1:9/bangban: ")
    assert "Traceback" not in result.stderr and "s3cret-pw" not in result.stderr


def test_migrations_import_no_application_code():
    """A migration must keep working after the models it was written from have changed."""
    for path in (ROOT / "bot" / "migrations" / "versions").glob("*.py"):
        imports = re.findall(r"^\s*(?:from|import)\s+(bot|dialogs|knowledge)\b", path.read_text(encoding="utf-8"),
                             flags=re.MULTILINE)
        assert imports == [], path.name


def test_revision_ids_fit_alembic_version():
    from bot.dbcli import _next_revision_id

    assert _next_revision_id(["0001_initial"], "cases: add tracking company") == "0002_cases_add_tracking_company"
    assert len(_next_revision_id(["0009_x"], "a very long message " * 5)) <= 32
    assert _next_revision_id([], "加字段") == "0001"


def test_the_simulators_own_table_is_not_part_of_the_migrated_schema():
    import bot.simulator  # noqa: F401 - registers simulator_messages on Base

    assert "simulator_messages" in Base.metadata.tables
    assert "simulator_messages" not in model_tables()
