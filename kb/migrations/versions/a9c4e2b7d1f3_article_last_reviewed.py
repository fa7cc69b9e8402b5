"""articles: last reviewed at / by (review cycles), backfilled from the current version

Revision ID: a9c4e2b7d1f3
Revises: b7d2e9c4a1f6
Create Date: 2026-12-02 00:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a9c4e2b7d1f3'
down_revision = 'b7d2e9c4a1f6'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs, the foreign key inline and named: standard SQL that SQLite and
    # PostgreSQL both take without rebuilding the table. (A batch rebuild drops
    # ``articles``, which the versions' foreign keys refuse once there is content; and
    # Alembic will not add a constraint to an existing SQLite table.)
    op.add_column('articles', sa.Column('last_reviewed_at', sa.DateTime(), nullable=True))
    op.execute('ALTER TABLE articles ADD COLUMN last_reviewed_by_id INTEGER '
               'CONSTRAINT fk_articles_last_reviewed_by_id_users REFERENCES users (id)')

    # Until now a new version was the only review: its date (and author) is the last one.
    # next_review_date was already that date plus the cycle, so it stays as it is.
    articles = sa.table('articles', sa.column('current_version_id', sa.Integer),
                        sa.column('last_reviewed_at', sa.DateTime),
                        sa.column('last_reviewed_by_id', sa.Integer))
    versions = sa.table('article_versions', sa.column('id', sa.Integer),
                        sa.column('created_at', sa.DateTime), sa.column('author_id', sa.Integer))

    def current(column):
        return (sa.select(versions.c[column])
                .where(versions.c.id == articles.c.current_version_id).scalar_subquery())

    op.execute(articles.update()
               .where(articles.c.current_version_id.isnot(None))
               .values(last_reviewed_at=current('created_at'),
                       last_reviewed_by_id=current('author_id')))


def downgrade():
    # Dropping the column drops its foreign key too (on SQLite the rebuilt table simply
    # has neither; SQLite does not report the inline constraint's name to drop it by).
    with op.batch_alter_table('articles') as batch:
        batch.drop_column('last_reviewed_by_id')
        batch.drop_column('last_reviewed_at')
