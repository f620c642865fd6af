"""review and csat: review status, tags, comments per conversation; CSAT surveys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversation_reviews',
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_reviews_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_conversation_reviews'))
    )
    with op.batch_alter_table('conversation_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_reviews_status'), ['status'], unique=False)

    op.create_table('conversation_tags',
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('tag', sa.String(length=48), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_tags_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', 'tag', name=op.f('pk_conversation_tags'))
    )
    with op.batch_alter_table('conversation_tags', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_tags_tag', ['tag', 'conversation_id'], unique=False)

    op.create_table('review_comments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_review_comments_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_comments'))
    )
    with op.batch_alter_table('review_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_comments_conversation_id'), ['conversation_id'], unique=False)

    op.create_table('csat_surveys',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('trigger', sa.String(length=24), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.Column('would_recommend', sa.Boolean(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_csat_surveys_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_csat_surveys'))
    )
    with op.batch_alter_table('csat_surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_csat_surveys_asked_at'), ['asked_at'], unique=False)
        batch_op.create_index('ix_csat_surveys_conversation', ['conversation_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('csat_surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_csat_surveys_conversation')
        batch_op.drop_index(batch_op.f('ix_csat_surveys_asked_at'))
    op.drop_table('csat_surveys')
    with op.batch_alter_table('review_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_comments_conversation_id'))
    op.drop_table('review_comments')
    with op.batch_alter_table('conversation_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_tags_tag')
    op.drop_table('conversation_tags')
    with op.batch_alter_table('conversation_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_reviews_status'))
    op.drop_table('conversation_reviews')
