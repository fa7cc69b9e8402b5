"""articles: the response standards the page shows (front matter 'standards:')

Revision ID: c3d9e5a2b8f1
Revises: f4a2c8e1d7b9
Create Date: 2026-12-03 13:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c3d9e5a2b8f1'
down_revision = 'f4a2c8e1d7b9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('articles') as batch:
        batch.add_column(sa.Column('response_standards', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('articles') as batch:
        batch.drop_column('response_standards')
