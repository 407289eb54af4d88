"""partial message indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ('thread_id', 'reply_to_id')


def upgrade() -> None:
    # Only messages in a thread, or replying to one, have an entry.
    for column in _COLUMNS:
        name = op.f(f'ix_messages_{column}')
        condition = sa.text(f'{column} IS NOT NULL')
        op.drop_index(name, table_name='messages')
        op.create_index(
            name, 'messages', [column], unique=False,
            sqlite_where=condition, postgresql_where=condition,
        )


def downgrade() -> None:
    for column in _COLUMNS:
        name = op.f(f'ix_messages_{column}')
        op.drop_index(name, table_name='messages')
        op.create_index(name, 'messages', [column], unique=False)
