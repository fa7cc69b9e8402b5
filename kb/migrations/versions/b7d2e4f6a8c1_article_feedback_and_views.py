"""article feedback (answered / out of date), article views (click-through log), and
search_log indexes for the analytics

Revision ID: b7d2e4f6a8c1
Revises: a9c4e2b7d1f3
Create Date: 2026-12-02 00:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7d2e4f6a8c1'
down_revision = 'a9c4e2b7d1f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'article_feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('version_number', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.Column('resolution_note', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_article_feedback_article_id', 'article_feedback', ['article_id'])
    op.create_index('ix_article_feedback_open', 'article_feedback',
                    ['resolved_at', 'created_at'])
    # Partial unique index (SQLite and PostgreSQL both have them): one "answered" per
    # user and article version, any number of out-of-date reports.
    op.create_index('uq_article_feedback_answered', 'article_feedback',
                    ['article_id', 'version_number', 'user_id'], unique=True,
                    sqlite_where=sa.text("kind = 'answered'"),
                    postgresql_where=sa.text("kind = 'answered'"))

    op.create_table(
        'article_views',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=True),
        sa.Column('call_script_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('search_log_id', sa.Integer(), nullable=True),
        sa.Column('rank', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id']),
        sa.ForeignKeyConstraint(['call_script_id'], ['call_scripts.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['search_log_id'], ['search_log.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_article_views_article_id', 'article_views', ['article_id'])
    op.create_index('ix_article_views_call_script_id', 'article_views', ['call_script_id'])
    op.create_index('ix_article_views_search_log_id', 'article_views', ['search_log_id'])
    op.create_index('ix_article_views_created_at', 'article_views', ['created_at'])

    # The analytics' scans: crisis rows alone, and the query reports from the index alone.
    op.create_index('ix_search_log_crisis_created_at', 'search_log', ['crisis', 'created_at'])
    op.create_index('ix_search_log_created_at_query', 'search_log',
                    ['created_at', 'query', 'result_count', 'source'])


def downgrade():
    op.drop_index('ix_search_log_created_at_query', table_name='search_log')
    op.drop_index('ix_search_log_crisis_created_at', table_name='search_log')
    op.drop_table('article_views')
    op.drop_index('uq_article_feedback_answered', table_name='article_feedback')
    op.drop_table('article_feedback')
