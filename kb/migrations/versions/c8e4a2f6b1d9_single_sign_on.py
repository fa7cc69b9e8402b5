"""single sign-on: users linked to an identity provider (issuer + subject), and how each
signer re-authenticated kept with sign-offs and countersignatures

Revision ID: c8e4a2f6b1d9
Revises: a7c3e9f1b5d2
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c8e4a2f6b1d9'
down_revision = 'a7c3e9f1b5d2'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, never batch mode: on SQLite a batch rebuild would copy the evidence
    # tables and drop their append-only triggers.
    op.add_column('users', sa.Column('oidc_issuer', sa.String(length=255), nullable=True))
    op.add_column('users', sa.Column('oidc_subject', sa.String(length=255), nullable=True))
    # A unique index rather than a constraint: SQLite adds one without rebuilding the table.
    # Local accounts (both NULL) do not collide: NULLs are distinct in a unique index.
    op.create_index('uq_users_oidc_issuer_subject', 'users', ['oidc_issuer', 'oidc_subject'],
                    unique=True)
    op.add_column('signoffs', sa.Column('reauth', sa.String(length=300), nullable=True))
    op.add_column('countersignatures', sa.Column('reauth', sa.String(length=300),
                                                 nullable=True))


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35 and later have it): a batch rebuild of an evidence
    # table would drop its append-only triggers.
    op.drop_column('countersignatures', 'reauth')
    op.drop_column('signoffs', 'reauth')
    op.drop_index('uq_users_oidc_issuer_subject', table_name='users')
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_column('users', 'oidc_subject')
        op.drop_column('users', 'oidc_issuer')
    else:
        with op.batch_alter_table('users') as batch:
            batch.drop_column('oidc_subject')
            batch.drop_column('oidc_issuer')
