"""dashboard: indexes behind the KPI dashboard's scope and its bot-message counts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 12:35:00

- messages (conversation_id, created_at) WHERE the customer wrote: "the customer wrote
  before <end>" (every conversation KPI's scope, one probe per conversation) answered
  from the index alone; 0005's (conversation_id, id) index has to visit the table for
  created_at.
- messages (created_at) WHERE direction = 'out' AND author = 'bot': the dashboard's FAQ
  answer / fallback / helpfulness counts read only the period's bot messages.
- tickets (created_at): tickets created in the period (every ticket KPI), declared on
  handoff.models.Ticket.

The two message indexes are partial and belong to the transcript tables, whose models
the conversation-review work owns; they are declared here only (see docs/kpis.md).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

CUSTOMER_WROTE = sa.text("direction = 'in' AND author = 'customer'")
BOT_ANSWERS = sa.text("direction = 'out' AND author = 'bot'")


def upgrade() -> None:
    op.create_index('ix_messages_customer_wrote_at', 'messages', ['conversation_id', 'created_at'], unique=False,
                    postgresql_where=CUSTOMER_WROTE, sqlite_where=CUSTOMER_WROTE)
    op.create_index('ix_messages_bot_created_at', 'messages', ['created_at'], unique=False,
                    postgresql_where=BOT_ANSWERS, sqlite_where=BOT_ANSWERS)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_created_at')
    op.drop_index('ix_messages_bot_created_at', table_name='messages')
    op.drop_index('ix_messages_customer_wrote_at', table_name='messages')
