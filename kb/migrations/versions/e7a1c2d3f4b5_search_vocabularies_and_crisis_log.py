"""search vocabularies in the database; crisis and emergency flags on the search log

Revision ID: e7a1c2d3f4b5
Revises: e7a1f3c9b2d4
Create Date: 2026-12-01 21:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e7a1c2d3f4b5'
down_revision = 'e7a1f3c9b2d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'search_vocabularies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                                name='fk_search_vocabularies_updated_by_id_users'),
        sa.PrimaryKeyConstraint('id', name='pk_search_vocabularies'),
        sa.UniqueConstraint('name', name='uq_search_vocabularies_name'),
    )
    with op.batch_alter_table('search_log') as batch:
        batch.add_column(sa.Column('crisis', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('emergency', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('search_log') as batch:
        batch.drop_column('emergency')
        batch.drop_column('crisis')
    op.drop_table('search_vocabularies')
