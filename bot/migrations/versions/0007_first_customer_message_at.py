"""conversations.first_customer_message_at, kept by a trigger on messages

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 13:40:00

Every conversation KPI counts "conversations in which the customer wrote before <end>".
As an EXISTS probe into messages that cost ~0.35 s of database time for a 30-day
dashboard at 100k conversations; as a column it is a comparison on the row the query
reads anyway (and 0006's partial index for that probe is dropped). A trigger (not application code) keeps it, so every writer (the transcript
store, bulk COPY loads, tests' fixtures) keeps it right: on each customer message it
becomes the earliest customer message's created_at.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BACKFILL = """
UPDATE conversations SET first_customer_message_at = (
    SELECT min(m.created_at) FROM messages m
    WHERE m.conversation_id = conversations.id AND m.direction = 'in' AND m.author = 'customer'
)
"""

SQLITE_TRIGGER = """
CREATE TRIGGER trg_messages_first_customer AFTER INSERT ON messages
WHEN NEW.direction = 'in' AND NEW.author = 'customer'
BEGIN
    UPDATE conversations SET first_customer_message_at = NEW.created_at
    WHERE id = NEW.conversation_id
      AND (first_customer_message_at IS NULL OR first_customer_message_at > NEW.created_at);
END
"""

POSTGRES_FUNCTION = """
CREATE FUNCTION helpline_first_customer_message() RETURNS trigger AS $$
BEGIN
    UPDATE conversations SET first_customer_message_at = NEW.created_at
    WHERE id = NEW.conversation_id
      AND (first_customer_message_at IS NULL OR first_customer_message_at > NEW.created_at);
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""

POSTGRES_TRIGGER = """
CREATE TRIGGER trg_messages_first_customer AFTER INSERT ON messages
FOR EACH ROW WHEN (NEW.direction = 'in' AND NEW.author = 'customer')
EXECUTE FUNCTION helpline_first_customer_message()
"""


def upgrade() -> None:
    # Plain ALTER (not batch): SQLite adds a nullable column in place, and recreating
    # conversations would cascade-delete every message.
    op.add_column('conversations', sa.Column('first_customer_message_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(BACKFILL)
    op.drop_index('ix_messages_customer_wrote_at', table_name='messages')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    op.execute('DROP TRIGGER IF EXISTS trg_messages_first_customer' +
               (' ON messages' if op.get_bind().dialect.name == 'postgresql' else ''))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS helpline_first_customer_message()')
    op.drop_column('conversations', 'first_customer_message_at')
    customer_wrote = sa.text("direction = 'in' AND author = 'customer'")
    op.create_index('ix_messages_customer_wrote_at', 'messages', ['conversation_id', 'created_at'], unique=False,
                    postgresql_where=customer_wrote, sqlite_where=customer_wrote)
