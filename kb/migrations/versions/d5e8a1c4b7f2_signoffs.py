"""signoffs: append-only sign-off records (hash chained, triggers refuse UPDATE/DELETE),
who must sign an article and how long they have

Revision ID: d5e8a1c4b7f2
Revises: b9d4e2f7a1c3
Create Date: 2026-12-02 02:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd5e8a1c4b7f2'
down_revision = 'b9d4e2f7a1c3'
branch_labels = None
depends_on = None

MESSAGE = 'signoffs are append-only evidence: UPDATE and DELETE are refused'


def upgrade():
    with op.batch_alter_table('articles') as batch:
        # Who must sign: users of this role (NULL: every role) in this team (NULL: all).
        batch.add_column(sa.Column('signoff_role', sa.String(length=16), nullable=True,
                                   server_default='agent'))
        batch.add_column(sa.Column('signoff_team_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('signoff_window_days', sa.Integer(), nullable=False,
                                   server_default='14'))
        batch.add_column(sa.Column('signoff_questions', sa.JSON(), nullable=True))
        batch.create_foreign_key('fk_articles_signoff_team_id_teams', 'teams',
                                 ['signoff_team_id'], ['id'])
    op.create_table(
        'signoffs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('version_number', sa.Integer(), nullable=False),
        sa.Column('content_sha256', sa.String(length=64), nullable=False),
        sa.Column('typed_name', sa.String(length=120), nullable=False),
        sa.Column('meaning', sa.String(length=80), nullable=False),
        sa.Column('signed_at', sa.DateTime(), nullable=False),
        sa.Column('client_address', sa.String(length=64), nullable=False),
        sa.Column('user_agent', sa.String(length=400), nullable=False),
        sa.Column('answers', sa.JSON(), nullable=True),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('record_hash', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id']),
        sa.ForeignKeyConstraint(['version_id'], ['article_versions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('seq'),
        sa.UniqueConstraint('record_hash'),
        sa.UniqueConstraint('user_id', 'article_id', 'version_number',
                            name='uq_signoffs_user_article_version'),
    )
    op.create_index('ix_signoffs_article_id', 'signoffs', ['article_id'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION signoffs_refuse_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}';
            END;
            $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER signoffs_append_only BEFORE UPDATE OR DELETE ON signoffs
            FOR EACH ROW EXECUTE FUNCTION signoffs_refuse_change()
        """)
    else:
        for event in ('UPDATE', 'DELETE'):
            op.execute(f"""
                CREATE TRIGGER signoffs_refuse_{event.lower()} BEFORE {event} ON signoffs
                BEGIN
                    SELECT RAISE(ABORT, '{MESSAGE}');
                END
            """)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS signoffs_append_only ON signoffs')
        op.execute('DROP FUNCTION IF EXISTS signoffs_refuse_change()')
    else:
        op.execute('DROP TRIGGER IF EXISTS signoffs_refuse_update')
        op.execute('DROP TRIGGER IF EXISTS signoffs_refuse_delete')
    op.drop_index('ix_signoffs_article_id', table_name='signoffs')
    op.drop_table('signoffs')
    with op.batch_alter_table('articles') as batch:
        batch.drop_constraint('fk_articles_signoff_team_id_teams', type_='foreignkey')
        batch.drop_column('signoff_questions')
        batch.drop_column('signoff_window_days')
        batch.drop_column('signoff_team_id')
        batch.drop_column('signoff_role')
