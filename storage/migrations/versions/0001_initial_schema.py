"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.tables

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('channel_days',
    sa.Column('guild_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('messages', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('guild_id', 'day', 'channel_id', name=op.f('pk_channel_days'))
    )
    op.create_table('channels',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('guild_id', sa.BigInteger(), nullable=False),
    sa.Column('parent_id', sa.BigInteger(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.tables.UtcMillis(), nullable=True),
    sa.Column('deleted_at', storage.tables.UtcMillis(), nullable=True),
    sa.Column('archived', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('owner_id', sa.BigInteger(), nullable=True),
    sa.Column('tags', sa.Text(), nullable=True),
    sa.Column('watched', sa.Boolean(), nullable=True),
    sa.Column('is_help', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('response_target_minutes', sa.Integer(), nullable=True),
    sa.Column('inferred_linking', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('newest_message_id', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channels'))
    )
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channels_guild_id'), ['guild_id'], unique=False)

    op.create_table('deleted_messages',
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('guild_id', sa.BigInteger(), nullable=False),
    sa.Column('deleted_at', storage.tables.UtcMillis(), nullable=False),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_deleted_messages'))
    )
    op.create_table('guild_days',
    sa.Column('guild_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('messages', sa.Integer(), server_default='0', nullable=False),
    sa.Column('top_level', sa.Integer(), server_default='0', nullable=False),
    sa.Column('replies', sa.Integer(), server_default='0', nullable=False),
    sa.Column('threads_started', sa.Integer(), server_default='0', nullable=False),
    sa.Column('forwards', sa.Integer(), server_default='0', nullable=False),
    sa.Column('reactions_received', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('guild_id', 'day', name=op.f('pk_guild_days'))
    )
    op.create_table('guild_hours',
    sa.Column('guild_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hour', storage.tables.UtcMillis(), autoincrement=False, nullable=False),
    sa.Column('messages', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('guild_id', 'hour', name=op.f('pk_guild_hours'))
    )
    op.create_table('guilds',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('first_seen_at', storage.tables.UtcMillis(), nullable=False),
    sa.Column('left_at', storage.tables.UtcMillis(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('week_start', sa.String(length=10), nullable=True),
    sa.Column('summary_day', sa.String(length=10), nullable=True),
    sa.Column('summary_time', sa.String(length=5), nullable=True),
    sa.Column('response_target_minutes', sa.Integer(), nullable=True),
    sa.Column('store_content', sa.String(length=10), nullable=True),
    sa.Column('inbox_channel_id', sa.BigInteger(), nullable=True),
    sa.Column('public_summary_channel_id', sa.BigInteger(), nullable=True),
    sa.Column('staff_summary_channel_id', sa.BigInteger(), nullable=True),
    sa.Column('public_summary_enabled', sa.Boolean(), server_default=sa.text('(true)'), nullable=False),
    sa.Column('staff_summary_enabled', sa.Boolean(), server_default=sa.text('(true)'), nullable=False),
    sa.Column('escalation_role_id', sa.BigInteger(), nullable=True),
    sa.Column('resolve_emoji', sa.String(length=64), server_default='✅', nullable=False),
    sa.Column('history_backfilled_at', storage.tables.UtcMillis(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guilds'))
    )
    op.create_table('member_days',
    sa.Column('guild_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('messages', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('guild_id', 'day', 'user_id', name=op.f('pk_member_days'))
    )
    with op.batch_alter_table('member_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_days_guild_id_user_id_day'), ['guild_id', 'user_id', 'day'], unique=False)

    op.create_table('member_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('guild_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at', storage.tables.UtcMillis(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_events')),
    sa.UniqueConstraint('guild_id', 'user_id', 'kind', 'at', name=op.f('uq_member_events_guild_id_user_id_kind_at'))
    )
    with op.batch_alter_table('member_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_events_guild_id_at'), ['guild_id', 'at'], unique=False)

    op.create_table('members',
    sa.Column('guild_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('is_bot', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('is_staff', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('joined_at', storage.tables.UtcMillis(), nullable=True),
    sa.Column('left_at', storage.tables.UtcMillis(), nullable=True),
    sa.Column('opted_out_at', storage.tables.UtcMillis(), nullable=True),
    sa.PrimaryKeyConstraint('guild_id', 'user_id', name=op.f('pk_members'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_members_guild_id_joined_at'), ['guild_id', 'joined_at'], unique=False)

    op.create_table('mentions',
    sa.Column('message_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('target_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('guild_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('message_id', 'kind', 'target_id', name=op.f('pk_mentions'))
    )
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentions_guild_id_target_id'), ['guild_id', 'target_id'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('guild_id', sa.BigInteger(), nullable=False),
    sa.Column('channel_id', sa.BigInteger(), nullable=False),
    sa.Column('thread_id', sa.BigInteger(), nullable=True),
    sa.Column('author_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', storage.tables.UtcMillis(), nullable=False),
    sa.Column('edited_at', storage.tables.UtcMillis(), nullable=True),
    sa.Column('deleted_at', storage.tables.UtcMillis(), nullable=True),
    sa.Column('reply_to_id', sa.BigInteger(), nullable=True),
    sa.Column('is_bot', sa.Boolean(), nullable=False),
    sa.Column('is_webhook', sa.Boolean(), nullable=False),
    sa.Column('is_system', sa.Boolean(), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('is_forward', sa.Boolean(), nullable=False),
    sa.Column('is_thread_starter', sa.Boolean(), nullable=False),
    sa.Column('mention_users', sa.SmallInteger(), nullable=False),
    sa.Column('mention_roles', sa.SmallInteger(), nullable=False),
    sa.Column('mentions_everyone', sa.Boolean(), nullable=False),
    sa.Column('mentions_bot', sa.Boolean(), nullable=False),
    sa.Column('content', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_channel_id_id'), ['channel_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_guild_id_author_id'), ['guild_id', 'author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_reply_to_id'), ['reply_to_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_thread_id'), ['thread_id'], unique=False)

    op.create_table('questions',
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('guild_id', sa.BigInteger(), nullable=False),
    sa.Column('channel_id', sa.BigInteger(), nullable=False),
    sa.Column('thread_id', sa.BigInteger(), nullable=True),
    sa.Column('asker_id', sa.BigInteger(), nullable=False),
    sa.Column('asked_at', storage.tables.UtcMillis(), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('target_minutes', sa.Integer(), nullable=False),
    sa.Column('first_response_id', sa.BigInteger(), nullable=True),
    sa.Column('first_response_at', storage.tables.UtcMillis(), nullable=True),
    sa.Column('first_responder_id', sa.BigInteger(), nullable=True),
    sa.Column('first_response_by_staff', sa.Boolean(), nullable=True),
    sa.Column('first_staff_response_id', sa.BigInteger(), nullable=True),
    sa.Column('first_staff_response_at', storage.tables.UtcMillis(), nullable=True),
    sa.Column('resolved_at', storage.tables.UtcMillis(), nullable=True),
    sa.Column('resolved_by', sa.BigInteger(), nullable=True),
    sa.Column('resolution', sa.String(length=16), nullable=True),
    sa.Column('withdrawn_at', storage.tables.UtcMillis(), nullable=True),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_questions'))
    )
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questions_guild_id_asked_at'), ['guild_id', 'asked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_questions_guild_id_state'), ['guild_id', 'state'], unique=False)

    op.create_table('reactions',
    sa.Column('message_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('emoji', sa.String(length=64), nullable=False),
    sa.Column('guild_id', sa.BigInteger(), nullable=False),
    sa.Column('channel_id', sa.BigInteger(), nullable=False),
    sa.Column('is_bot', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.tables.UtcMillis(), nullable=False),
    sa.PrimaryKeyConstraint('message_id', 'user_id', 'emoji', name=op.f('pk_reactions'))
    )
    with op.batch_alter_table('reactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reactions_guild_id_user_id'), ['guild_id', 'user_id'], unique=False)

    op.create_table('summary_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('guild_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('period_start', storage.tables.UtcMillis(), nullable=False),
    sa.Column('period_end', storage.tables.UtcMillis(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('claimed_at', storage.tables.UtcMillis(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('posted_at', storage.tables.UtcMillis(), nullable=True),
    sa.Column('channel_id', sa.BigInteger(), nullable=True),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_summary_runs')),
    sa.UniqueConstraint('guild_id', 'kind', 'period_start', name=op.f('uq_summary_runs_guild_id_kind_period_start'))
    )
    op.create_table('inbox_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('guild_id', sa.BigInteger(), nullable=False),
    sa.Column('question_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('opened_at', storage.tables.UtcMillis(), nullable=False),
    sa.Column('updated_at', storage.tables.UtcMillis(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('card_channel_id', sa.BigInteger(), nullable=True),
    sa.Column('card_message_id', sa.BigInteger(), nullable=True),
    sa.Column('claimed_by', sa.BigInteger(), nullable=True),
    sa.Column('claimed_at', storage.tables.UtcMillis(), nullable=True),
    sa.Column('snoozed_until', storage.tables.UtcMillis(), nullable=True),
    sa.Column('escalated_at', storage.tables.UtcMillis(), nullable=True),
    sa.Column('closed_by', sa.BigInteger(), nullable=True),
    sa.Column('closed_at', storage.tables.UtcMillis(), nullable=True),
    sa.ForeignKeyConstraint(['question_id'], ['questions.message_id'], name=op.f('fk_inbox_items_question_id_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_items')),
    sa.UniqueConstraint('question_id', name=op.f('uq_inbox_items_question_id'))
    )
    with op.batch_alter_table('inbox_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_items_guild_id_state'), ['guild_id', 'state'], unique=False)

    op.create_table('staff_roles',
    sa.Column('guild_id', sa.BigInteger(), nullable=False),
    sa.Column('role_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.ForeignKeyConstraint(['guild_id'], ['guilds.id'], name=op.f('fk_staff_roles_guild_id_guilds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('guild_id', 'role_id', name=op.f('pk_staff_roles'))
    )


def downgrade() -> None:
    op.drop_table('staff_roles')
    with op.batch_alter_table('inbox_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_items_guild_id_state'))

    op.drop_table('inbox_items')
    op.drop_table('summary_runs')
    with op.batch_alter_table('reactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reactions_guild_id_user_id'))

    op.drop_table('reactions')
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questions_guild_id_state'))
        batch_op.drop_index(batch_op.f('ix_questions_guild_id_asked_at'))

    op.drop_table('questions')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_thread_id'))
        batch_op.drop_index(batch_op.f('ix_messages_reply_to_id'))
        batch_op.drop_index(batch_op.f('ix_messages_guild_id_author_id'))
        batch_op.drop_index(batch_op.f('ix_messages_channel_id_id'))

    op.drop_table('messages')
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentions_guild_id_target_id'))

    op.drop_table('mentions')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_guild_id_joined_at'))

    op.drop_table('members')
    with op.batch_alter_table('member_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_events_guild_id_at'))

    op.drop_table('member_events')
    with op.batch_alter_table('member_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_days_guild_id_user_id_day'))

    op.drop_table('member_days')
    op.drop_table('guilds')
    op.drop_table('guild_hours')
    op.drop_table('guild_days')
    op.drop_table('deleted_messages')
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channels_guild_id'))

    op.drop_table('channels')
    op.drop_table('channel_days')
