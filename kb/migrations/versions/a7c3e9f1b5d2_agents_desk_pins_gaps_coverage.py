"""the agent's desk: pinned articles, knowledge gaps reported from search, helplines'
coverage (national first), the date an article's content says it last changed, and an
index for each person's recently viewed

Revision ID: a7c3e9f1b5d2
Revises: c3d9e5a2b8f1
Create Date: 2026-12-03 12:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a7c3e9f1b5d2'
down_revision = 'c3d9e5a2b8f1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pinned_articles',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'article_id', name='uq_pinned_articles_user_article'),
    )
    op.create_index('ix_pinned_articles_user_id', 'pinned_articles', ['user_id'])
    op.create_table(
        'knowledge_gaps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('query', sa.String(length=500), nullable=False),
        sa.Column('note', sa.Text(), nullable=False, server_default=''),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('search_log_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['search_log_id'], ['search_log.id']),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_knowledge_gaps_created_at', 'knowledge_gaps', ['created_at'])
    with op.batch_alter_table('helplines') as batch:
        # 'national': for a caller anywhere in the country (listed first); 'local'.
        batch.add_column(sa.Column('coverage', sa.String(length=20), nullable=False,
                                   server_default='national'))
    with op.batch_alter_table('article_versions') as batch:
        # The date the content says it last changed (front matter `updated:`), when given.
        batch.add_column(sa.Column('content_date', sa.Date(), nullable=True))
    op.create_index('ix_article_views_user_created', 'article_views',
                    ['user_id', 'created_at'])


def downgrade():
    op.drop_index('ix_article_views_user_created', table_name='article_views')
    with op.batch_alter_table('article_versions') as batch:
        batch.drop_column('content_date')
    with op.batch_alter_table('helplines') as batch:
        batch.drop_column('coverage')
    op.drop_index('ix_knowledge_gaps_created_at', table_name='knowledge_gaps')
    op.drop_table('knowledge_gaps')
    op.drop_index('ix_pinned_articles_user_id', table_name='pinned_articles')
    op.drop_table('pinned_articles')
