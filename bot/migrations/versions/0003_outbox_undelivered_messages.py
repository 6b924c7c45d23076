"""outbox: undelivered messages followed up by staff

Revision ID: 0003_outbox_undelivered_messages
Revises: 0002_kept_media_photos_fetched_f
Create Date: 2026-12-06 18:27:47.126503

Made by `bangban db revision`; read it before committing. A migration stands on its own: plain SQLAlchemy types
(no imports from bot/), and it runs on SQLite (changes to a table go through op.batch_alter_table) and PostgreSQL.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003_outbox_undelivered_messages'
down_revision: Union[str, Sequence[str], None] = '0002_kept_media_photos_fetched_f'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('followed_up_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('follow_up_note', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('follow_up_note')
        batch_op.drop_column('followed_up_by')
        batch_op.drop_column('followed_up_at')

