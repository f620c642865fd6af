"""handoff: conversation owners, tickets, events, notes, agent presence

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:31:46.669806
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agent_presence',
    sa.Column('agent_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('agent_id', name=op.f('pk_agent_presence'))
    )
    op.create_table('tickets',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('customer_key', sa.String(length=128), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('previous_assignee_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('sentiment', sa.Float(), nullable=True),
    sa.Column('repeat_contact', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_response_due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('close_reason', sa.String(length=16), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index('ix_tickets_conversation_created', ['conversation_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_customer_key'), ['customer_key'], unique=False)
        batch_op.create_index('ix_tickets_queue', ['status', 'priority', 'first_response_due'], unique=False)

    op.create_table('conversation_owners',
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.String(length=8), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_conversation_owners_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_conversation_owners'))
    )
    with op.batch_alter_table('conversation_owners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_owners_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_owners_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticket_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=8), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=24), nullable=True),
    sa.Column('to_status', sa.String(length=24), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_events_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_events'))
    )
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_ticket_events_kind_at', ['kind', 'at'], unique=False)
        batch_op.create_index('ix_ticket_events_ticket_order', ['ticket_id', 'id'], unique=False)

    op.create_table('ticket_notes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_notes_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_notes'))
    )
    with op.batch_alter_table('ticket_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_notes_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticket_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_notes_ticket_id'))

    op.drop_table('ticket_notes')
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_events_ticket_order')
        batch_op.drop_index('ix_ticket_events_kind_at')
        batch_op.drop_index(batch_op.f('ix_ticket_events_at'))

    op.drop_table('ticket_events')
    with op.batch_alter_table('conversation_owners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_owners_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_conversation_owners_agent_id'))

    op.drop_table('conversation_owners')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_queue')
        batch_op.drop_index(batch_op.f('ix_tickets_customer_key'))
        batch_op.drop_index('ix_tickets_conversation_created')
        batch_op.drop_index(batch_op.f('ix_tickets_assignee_id'))

    op.drop_table('tickets')
    op.drop_table('agent_presence')
