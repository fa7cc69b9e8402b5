"""history: users.whats_new_seen_at and an index on article_versions.created_at

Revision ID: b9d4e2a7c513
Revises: f3b8d1a6c920
Create Date: 2026-12-02 00:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b9d4e2a7c513'
down_revision = 'f3b8d1a6c920'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('whats_new_seen_at', sa.DateTime(), nullable=True))
    op.create_index('ix_article_versions_created_at', 'article_versions', ['created_at'])


def downgrade():
    op.drop_index('ix_article_versions_created_at', table_name='article_versions')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('whats_new_seen_at')
