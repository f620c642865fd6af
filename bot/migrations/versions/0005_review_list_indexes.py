"""review list: indexes behind the conversation list's filters and search

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:15:00

- conversations (created_at, id): the list's order and keyset (newest first), and every
  KPI's "started in the period".
- messages (intent, conversation_id): the intent filter.
- messages (faq_trail ->> 'faq_id', conversation_id): the FAQ filter (an expression
  index; SQLite spells it json_extract).
- messages (conversation_id, id) WHERE the customer wrote: "the customer wrote" (the
  list's and the KPIs' scope rule) and a conversation's first customer message.
- PostgreSQL only: GIN on to_tsvector('simple', text), the full-text search.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

CUSTOMER_WROTE = sa.text("direction = 'in' AND author = 'customer'")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_created_at', ['created_at', 'id'], unique=False)
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_intent_conversation', ['intent', 'conversation_id'], unique=False)
    op.create_index('ix_messages_customer_conversation', 'messages', ['conversation_id', 'id'], unique=False,
                    postgresql_where=CUSTOMER_WROTE, sqlite_where=CUSTOMER_WROTE)
    if dialect == 'postgresql':
        op.create_index('ix_messages_faq_conversation', 'messages',
                        [sa.text("(faq_trail ->> 'faq_id')"), 'conversation_id'], unique=False)
        op.create_index('ix_messages_text_fts', 'messages', [sa.text("to_tsvector('simple'::regconfig, text)")],
                        unique=False, postgresql_using='gin')
    else:
        op.create_index('ix_messages_faq_conversation', 'messages',
                        [sa.text("json_extract(faq_trail, '$.faq_id')"), 'conversation_id'], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_messages_text_fts', table_name='messages')
    op.drop_index('ix_messages_faq_conversation', table_name='messages')
    op.drop_index('ix_messages_customer_conversation', table_name='messages')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_intent_conversation')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_created_at')
