"""publishing: drafts, slug redirects, category settings, approval and archive columns

Revision ID: b9d4e2f7a1c3
Revises: b7d2e4f6a8c1
Create Date: 2026-12-02 00:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b9d4e2f7a1c3'
down_revision = 'b7d2e4f6a8c1'
branch_labels = None
depends_on = None

DOCUMENTS = ('articles', 'call_scripts')
VERSIONS = ('article_versions', 'call_script_versions')


def upgrade():
    for table in VERSIONS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('approved_by_id', sa.Integer(), nullable=True))
            batch.create_foreign_key(f'fk_{table}_approved_by_id_users', 'users',
                                     ['approved_by_id'], ['id'])
    for table in DOCUMENTS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('requires_approval', sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
            batch.add_column(sa.Column('archived_at', sa.DateTime(), nullable=True))
            batch.add_column(sa.Column('archived_by_id', sa.Integer(), nullable=True))
            batch.create_foreign_key(f'fk_{table}_archived_by_id_users', 'users',
                                     ['archived_by_id'], ['id'])
    op.create_table(
        'drafts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=True),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('markdown', sa.Text(), nullable=False),
        sa.Column('base_version', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('change_summary', sa.String(length=500), nullable=False),
        sa.Column('material', sa.Boolean(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('reviewer_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['author_id'], ['users.id']),
        sa.ForeignKeyConstraint(['reviewer_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'document_id'),
    )
    op.create_table(
        'slug_redirects',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('old_slug', sa.String(length=120), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'old_slug'),
    )
    op.create_table(
        'category_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=80), nullable=False),
        sa.Column('requires_approval', sa.Boolean(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('category'),
    )


def downgrade():
    op.drop_table('category_settings')
    op.drop_table('slug_redirects')
    op.drop_table('drafts')
    for table in DOCUMENTS:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f'fk_{table}_archived_by_id_users', type_='foreignkey')
            batch.drop_column('archived_by_id')
            batch.drop_column('archived_at')
            batch.drop_column('requires_approval')
    for table in VERSIONS:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f'fk_{table}_approved_by_id_users', type_='foreignkey')
            batch.drop_column('approved_by_id')
