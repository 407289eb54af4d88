"""responses and card versions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.tables

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('responses',
    sa.Column('question_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('message_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('guild_id', sa.BigInteger(), nullable=False),
    sa.Column('responder_id', sa.BigInteger(), nullable=False),
    sa.Column('responded_at', storage.tables.UtcMillis(), nullable=False),
    sa.Column('by_staff', sa.Boolean(), nullable=False),
    sa.Column('rule', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.message_id'], name=op.f('fk_responses_question_id_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', 'message_id', name=op.f('pk_responses'))
    )
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_responses_message_id'), ['message_id'], unique=False)

    with op.batch_alter_table('inbox_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('card_version', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_is_staff', sa.Boolean(), server_default=sa.text('(false)'), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('author_is_staff')

    with op.batch_alter_table('inbox_items', schema=None) as batch_op:
        batch_op.drop_column('card_version')

    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_responses_message_id'))

    op.drop_table('responses')
