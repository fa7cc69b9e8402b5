"""standard sets (our policy, regulatory packs) with their own bank holidays; response
standards that count from an event or another standard, allow extensions, and say what
we promise in words read to the caller

Revision ID: f4a2c8e1d7b9
Revises: e2c7a9d4f1b3
Create Date: 2026-12-03 11:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f4a2c8e1d7b9'
down_revision = 'e2c7a9d4f1b3'
branch_labels = None
depends_on = None

# The words read to the caller for the standards shipped before this revision (rows a
# manager added keep the neutral default, "respond").
PROMISES = {
    'phone-callback': 'call you back',
    'voicemail': 'reply to your message',
    'reception-callback': 'get back to you',
    'email': 'reply to your email',
    'letter': 'reply to your letter',
    'colleague-request': 'reply to your request',
    'social-media': 'reply to your message',
    'repair-emergency': 'attend your emergency repair',
    'repair-immediate': 'attend your repair',
    'repair-urgent': 'complete your urgent repair',
    'repair-routine': 'complete your repair',
    'complaint-acknowledge': 'acknowledge your complaint',
    'complaint-stage-1': 'send you our response to your complaint',
    'complaint-stage-2': 'send you our stage 2 response',
}


def upgrade():
    op.create_table(
        'standard_sets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('label', sa.String(length=120), nullable=False),
        sa.Column('region', sa.String(length=3), nullable=True),
        sa.Column('in_force', sa.Boolean(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('source_url', sa.String(length=500), nullable=False),
        sa.Column('checked_on', sa.Date(), nullable=True),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('pack_digest', sa.String(length=64), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.execute(
        "INSERT INTO standard_sets (id, key, label, region, in_force, position, source, "
        "source_url, checked_on, notes, pack_digest, updated_at) VALUES (1, 'policy', "
        "'Our policy', NULL, TRUE, 0, 'Customer contact management policy', '', NULL, '', "
        "NULL, CURRENT_TIMESTAMP)"
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SELECT setval('standard_sets_id_seq', 1)")
    with op.batch_alter_table('response_standards') as batch:
        batch.add_column(sa.Column('set_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('counts_from', sa.String(length=60), nullable=False,
                                   server_default='received'))
        batch.add_column(sa.Column('event', sa.String(length=40), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('extension_days', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('extension_note', sa.String(length=300), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('promise', sa.String(length=200), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('citation', sa.String(length=300), nullable=False,
                                   server_default=''))
    op.execute("UPDATE response_standards SET set_id = 1")
    # The policy's stage 2 is a new request: it counts from the request to escalate.
    op.execute("UPDATE response_standards SET counts_from = 'escalated' "
               "WHERE key = 'complaint-stage-2'")
    standards = sa.table('response_standards', sa.column('key', sa.String),
                         sa.column('promise', sa.String))
    for key, promise in PROMISES.items():
        op.execute(standards.update().where(standards.c.key == key)
                   .values(promise=promise))
    with op.batch_alter_table('response_standards') as batch:
        batch.alter_column('set_id', existing_type=sa.Integer(), nullable=False)
        batch.create_index('ix_response_standards_set_id', ['set_id'])
        batch.create_foreign_key('fk_response_standards_set_id', 'standard_sets',
                                 ['set_id'], ['id'])


def downgrade():
    with op.batch_alter_table('response_standards') as batch:
        batch.drop_constraint('fk_response_standards_set_id', type_='foreignkey')
        batch.drop_index('ix_response_standards_set_id')
        for column in ('citation', 'promise', 'extension_note', 'extension_days', 'event',
                       'counts_from', 'set_id'):
            batch.drop_column(column)
    op.drop_table('standard_sets')
