"""kept_media: photos fetched from WeChat

The worker fetches each kept photo into kept_media_files (bot/media.py) and records how that went on its row. A
checklist material's photos are the kept_media rows that name it, so material_records.media_ids, which nothing ever
filled, goes.

Revision ID: 0002_kept_media_photos_fetched_f
Revises: 0001_initial
Create Date: 2026-12-06 18:09:53.182505

Made by `bangban db revision`; read it before committing. A migration stands on its own: plain SQLAlchemy types
(no imports from bot/), and it runs on SQLite (changes to a table go through op.batch_alter_table) and PostgreSQL.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002_kept_media_photos_fetched_f'
down_revision: Union[str, Sequence[str], None] = '0001_initial'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('kept_media_files',
    sa.Column('media_row_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['media_row_id'], ['kept_media.id'], name=op.f('fk_kept_media_files_media_row_id_kept_media')),
    sa.PrimaryKeyConstraint('media_row_id', name=op.f('pk_kept_media_files'))
    )
    with op.batch_alter_table('kept_media', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fetch_status', sa.String(length=16), server_default='pending', nullable=False))
        batch_op.add_column(sa.Column('fetch_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('next_fetch_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('fetch_error', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('content_type', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('size', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_kept_media_fetch_status'), ['fetch_status'], unique=False)
    with op.batch_alter_table('material_records', schema=None) as batch_op:
        batch_op.drop_column('media_ids')


def downgrade() -> None:
    with op.batch_alter_table('material_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_ids', sa.JSON(), nullable=True))
    with op.batch_alter_table('kept_media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kept_media_fetch_status'))
        batch_op.drop_column('fetched_at')
        batch_op.drop_column('size')
        batch_op.drop_column('content_type')
        batch_op.drop_column('fetch_error')
        batch_op.drop_column('next_fetch_at')
        batch_op.drop_column('fetch_attempts')
        batch_op.drop_column('fetch_status')

    op.drop_table('kept_media_files')
