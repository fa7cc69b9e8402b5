"""audit log: a structured target (target_type, target_id) beside the readable label

Revision ID: f3b8d1a6c920
Revises: e7a1c2d3f4b5
Create Date: 2026-12-01 23:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f3b8d1a6c920'
down_revision = 'e7a1c2d3f4b5'
branch_labels = None
depends_on = None

audit = sa.table('audit_log', sa.column('action', sa.String), sa.column('target', sa.String),
                 sa.column('target_type', sa.String), sa.column('target_id', sa.String))


def _id_from(table: str, column: str):
    """The id (as text) of the row in ``table`` whose ``column`` equals the old target."""
    other = sa.table(table, sa.column('id', sa.Integer), sa.column(column, sa.String))
    return (sa.select(sa.cast(other.c.id, sa.String(120)))
            .where(other.c[column] == audit.c.target).scalar_subquery())


def upgrade():
    with op.batch_alter_table('audit_log') as batch:
        batch.add_column(sa.Column('target_type', sa.String(length=40), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('target_id', sa.String(length=120), nullable=False,
                                   server_default=''))
        batch.create_index('ix_audit_log_target', ['target_type', 'target_id'])
    # Backfill from the old text where its format is known: "helpline:3",
    # "crisis_incident:7", or a slug/key/name for the action's own kind of row.
    for prefix in ('helpline', 'crisis_incident'):
        op.execute(audit.update()
                   .where(audit.c.target.like(f'{prefix}:%'))
                   .values(target_type=prefix,
                           target_id=sa.func.substr(audit.c.target, len(prefix) + 2)))
    op.execute(audit.update().where(audit.c.action == 'helpline.seed')
               .values(target_type='helpline', target_id=''))
    for action, kind, table, column in (
        ('article.%', 'article', 'articles', 'slug'),
        ('callscript.%', 'call_script', 'call_scripts', 'slug'),
        ('standard.%', 'response_standard', 'response_standards', 'key'),
        ('vocabulary.%', 'search_vocabulary', 'search_vocabularies', 'name'),
    ):
        op.execute(audit.update()
                   .where(audit.c.action.like(action), audit.c.target_type == '')
                   .values(target_type=kind,
                           target_id=sa.func.coalesce(_id_from(table, column), '')))


def downgrade():
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_index('ix_audit_log_target')
        batch.drop_column('target_id')
        batch.drop_column('target_type')
