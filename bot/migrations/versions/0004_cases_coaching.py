"""cases: coaching

The 事前辅导事项 of the enterprise application form (000/002 附件): what the applicant is coached on first.

Revision ID: 0004_cases_coaching
Revises: 0003_outbox_undelivered_messages
Create Date: 2026-12-06 18:32:55.498798

Made by `bangban db revision`; read it before committing. A migration stands on its own: plain SQLAlchemy types
(no imports from bot/), and it runs on SQLite (changes to a table go through op.batch_alter_table) and PostgreSQL.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004_cases_coaching'
down_revision: Union[str, Sequence[str], None] = '0003_outbox_undelivered_messages'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coaching', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('coaching')
