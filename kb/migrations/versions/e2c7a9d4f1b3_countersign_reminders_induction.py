"""countersignatures (chained, append-only), reminders sent, induction programmes, task
confirmations and script walk-throughs (append-only), users' email

Revision ID: e2c7a9d4f1b3
Revises: d5e8a1c4b7f2
Create Date: 2026-12-03 08:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e2c7a9d4f1b3'
down_revision = 'd5e8a1c4b7f2'
branch_labels = None
depends_on = None

# Evidence tables: a direct UPDATE or DELETE is refused by a trigger.
APPEND_ONLY = ('countersignatures', 'task_confirmations', 'script_walkthroughs')


def _refuse_changes(table):
    message = f'{table} are append-only evidence: UPDATE and DELETE are refused'
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION {table}_refuse_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{message}';
            END;
            $$ LANGUAGE plpgsql
        """)
        op.execute(f"""
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change()
        """)
    else:
        for event in ('UPDATE', 'DELETE'):
            op.execute(f"""
                CREATE TRIGGER {table}_refuse_{event.lower()} BEFORE {event} ON {table}
                BEGIN
                    SELECT RAISE(ABORT, '{message}');
                END
            """)


def _drop_refusals(table):
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON {table}')
        op.execute(f'DROP FUNCTION IF EXISTS {table}_refuse_change()')
    else:
        op.execute(f'DROP TRIGGER IF EXISTS {table}_refuse_update')
        op.execute(f'DROP TRIGGER IF EXISTS {table}_refuse_delete')


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('email', sa.String(length=254), nullable=True))
    op.create_table(
        'countersignatures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('signoff_id', sa.Integer(), nullable=False),
        sa.Column('countersigner_id', sa.Integer(), nullable=False),
        sa.Column('typed_name', sa.String(length=120), nullable=False),
        sa.Column('meaning', sa.String(length=80), nullable=False),
        sa.Column('countersigned_at', sa.DateTime(), nullable=False),
        sa.Column('client_address', sa.String(length=64), nullable=False),
        sa.Column('user_agent', sa.String(length=400), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('record_hash', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['signoff_id'], ['signoffs.id']),
        sa.ForeignKeyConstraint(['countersigner_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('seq'),
        sa.UniqueConstraint('signoff_id'),
        sa.UniqueConstraint('record_hash'),
    )
    op.create_index('ix_countersignatures_countersigner_id', 'countersignatures',
                    ['countersigner_id'])
    op.create_table(
        'reminders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('subject_user_id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(['recipient_id'], ['users.id']),
        sa.ForeignKeyConstraint(['subject_user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_reminders_recipient_id', 'reminders', ['recipient_id'])
    op.create_index('ix_reminders_sent_at', 'reminders', ['sent_at'])
    op.create_table(
        'programmes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('archived_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'programme_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=True),
        sa.Column('script_id', sa.Integer(), nullable=True),
        sa.Column('due_days', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['programme_id'], ['programmes.id']),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id']),
        sa.ForeignKeyConstraint(['script_id'], ['call_scripts.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_programme_items_programme_id', 'programme_items', ['programme_id'])
    op.create_table(
        'enrolments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('assigned_by_id', sa.Integer(), nullable=True),
        sa.Column('assigned_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['programme_id'], ['programmes.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('programme_id', 'user_id', name='uq_enrolments_programme_user'),
    )
    op.create_index('ix_enrolments_programme_id', 'enrolments', ['programme_id'])
    op.create_index('ix_enrolments_user_id', 'enrolments', ['user_id'])
    op.create_table(
        'task_confirmations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enrolment_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('confirmed_by_id', sa.Integer(), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id']),
        sa.ForeignKeyConstraint(['item_id'], ['programme_items.id']),
        sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('enrolment_id', 'item_id',
                            name='uq_task_confirmations_enrolment_item'),
    )
    op.create_index('ix_task_confirmations_enrolment_id', 'task_confirmations',
                    ['enrolment_id'])
    op.create_table(
        'script_walkthroughs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('script_id', sa.Integer(), nullable=False),
        sa.Column('version_number', sa.Integer(), nullable=False),
        sa.Column('end_step', sa.String(length=64), nullable=False),
        sa.Column('path', sa.String(length=2000), nullable=False),
        sa.Column('walked_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['script_id'], ['call_scripts.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_script_walkthroughs_user_id', 'script_walkthroughs', ['user_id'])
    for table in APPEND_ONLY:
        _refuse_changes(table)


def downgrade():
    for table in APPEND_ONLY:
        _drop_refusals(table)
    op.drop_index('ix_script_walkthroughs_user_id', table_name='script_walkthroughs')
    op.drop_table('script_walkthroughs')
    op.drop_index('ix_task_confirmations_enrolment_id', table_name='task_confirmations')
    op.drop_table('task_confirmations')
    op.drop_index('ix_enrolments_user_id', table_name='enrolments')
    op.drop_index('ix_enrolments_programme_id', table_name='enrolments')
    op.drop_table('enrolments')
    op.drop_index('ix_programme_items_programme_id', table_name='programme_items')
    op.drop_table('programme_items')
    op.drop_table('programmes')
    op.drop_index('ix_reminders_sent_at', table_name='reminders')
    op.drop_index('ix_reminders_recipient_id', table_name='reminders')
    op.drop_table('reminders')
    op.drop_index('ix_countersignatures_countersigner_id', table_name='countersignatures')
    op.drop_table('countersignatures')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('email')
