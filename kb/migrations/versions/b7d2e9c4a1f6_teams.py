"""teams: a Team table with unique names; users.team (free text) becomes users.team_id

Revision ID: b7d2e9c4a1f6
Revises: b9d4e2a7c513
Create Date: 2026-12-02 00:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7d2e9c4a1f6'
down_revision = 'b9d4e2a7c513'
branch_labels = None
depends_on = None

users = sa.table('users', sa.column('id', sa.Integer), sa.column('team', sa.String),
                 sa.column('team_id', sa.Integer))
teams = sa.table('teams', sa.column('id', sa.Integer), sa.column('name', sa.String),
                 sa.column('created_at', sa.DateTime))


def upgrade():
    op.create_table(
        'teams',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_teams'),
        sa.UniqueConstraint('name', name='uq_teams_name'),
    )
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        batch.create_index('ix_users_team_id', ['team_id'])
        batch.create_foreign_key('fk_users_team_id_teams', 'teams', ['team_id'], ['id'])
    # One team per distinct spelling, ignoring case and surrounding spaces (the first
    # spelling met wins), so "Contact centre" and "contact centre " become one team.
    bind = op.get_bind()
    now = sa.func.current_timestamp()
    by_key: dict[str, int] = {}
    for user_id, text in bind.execute(sa.select(users.c.id, users.c.team)
                                      .order_by(users.c.id)).all():
        name = ' '.join((text or '').split())[:120]
        if not name:
            continue
        key = name.lower()
        if key not in by_key:
            bind.execute(teams.insert().values(name=name, created_at=now))
            by_key[key] = bind.execute(sa.select(teams.c.id)
                                       .where(teams.c.name == name)).scalar_one()
        bind.execute(users.update().where(users.c.id == user_id)
                     .values(team_id=by_key[key]))
    with op.batch_alter_table('users') as batch:
        batch.drop_column('team')


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('team', sa.String(length=120), nullable=True))
    op.execute(users.update().values(
        team=sa.select(teams.c.name).where(teams.c.id == users.c.team_id).scalar_subquery()))
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint('fk_users_team_id_teams', type_='foreignkey')
        batch.drop_index('ix_users_team_id')
        batch.drop_column('team_id')
    op.drop_table('teams')
