"""users.session_version: signing out, a new password or deactivation ends every session

Revision ID: e7a1f3c9b2d4
Revises: c04280a5125d
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e7a1f3c9b2d4'
down_revision = 'c04280a5125d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('session_version', sa.Integer(), nullable=False,
                                   server_default='1'))


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_version')
