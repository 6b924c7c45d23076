"""Alembic's environment for the case database.

Run by bot/db.py (`upgrade_schema`: app start, `bangban worker`, `bangban db upgrade`) and bot/dbcli.py
(`bangban db revision`), which build the configuration in code (no alembic.ini) and pass an open connection in
`config.attributes["connection"]`; the caller owns its transaction and the lock around it.

What autogenerate writes is made to stand on its own and to run on SQLite and PostgreSQL alike:
- `UTCDateTime` (bot/db.py) is written as `sa.DateTime(timezone=True)`, so migrations import no app code;
- `render_as_batch`: changes to existing tables come out as `op.batch_alter_table`, which SQLite needs (it
  recreates the table) and PostgreSQL runs as plain ALTER TABLE;
- a foreign key marked `use_alter` (the circle units.liaison_id -> staff, staff.unit_id -> units) is taken out of
  its CREATE TABLE and added once every table exists (dropped first on the way down).
"""
from __future__ import annotations

from alembic import context
from alembic.operations import ops
from sqlalchemy import ForeignKeyConstraint

from bot.db import Base, UTCDateTime, import_models, include_in_migrations

config = context.config
import_models()


def render_item(type_, obj, autogen_context):
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False  # the default rendering


def process_revision_directives(migration_context, revision, directives) -> None:
    script = directives[0]
    if config.attributes.get("skip_if_empty") and all(ops_.is_empty() for ops_ in script.upgrade_ops_list):
        directives[:] = []  # `bangban db revision`: nothing changed, no file
        return
    for upgrade_ops, downgrade_ops in zip(script.upgrade_ops_list, script.downgrade_ops_list):
        _defer_use_alter_foreign_keys(upgrade_ops, downgrade_ops)


def _defer_use_alter_foreign_keys(upgrade_ops: ops.UpgradeOps, downgrade_ops: ops.DowngradeOps) -> None:
    deferred: list[tuple[str, ForeignKeyConstraint]] = []
    for op_ in upgrade_ops.ops:
        if not isinstance(op_, ops.CreateTableOp):
            continue
        circular = [item for item in op_.columns if isinstance(item, ForeignKeyConstraint) and item.use_alter]
        op_.columns = [item for item in op_.columns if not any(item is fk for fk in circular)]
        deferred += [(op_.table_name, fk) for fk in circular]
    for table_name, fk in deferred:
        create = ops.CreateForeignKeyOp.from_constraint(fk)
        create.kw.pop("use_alter", None)  # it is an ALTER now
        upgrade_ops.ops.append(ops.ModifyTableOps(table_name, [create]))
        downgrade_ops.ops.insert(0, ops.ModifyTableOps(table_name, [ops.DropConstraintOp.from_constraint(fk)]))


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_in_migrations,
        render_item=render_item,
        render_as_batch=True,
        compare_type=True,
        process_revision_directives=process_revision_directives,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = config.attributes.get("connection")
if context.is_offline_mode() or _connection is None:
    raise SystemExit("bot/migrations runs through bangban: `bangban db upgrade`, `bangban db revision -m ...` "
                     "(bot/db.py and bot/dbcli.py pass it a connection; offline --sql is not supported)")
run_migrations(_connection)
