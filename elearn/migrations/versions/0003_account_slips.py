"""account slips: the accounts a roster import created, waiting for their passwords

Also retires the derivable initial passwords of earlier roster imports (the last six characters
of the phone number or 编号, hashed with the cheap ``scrypt:256:8:1`` used for nothing else): an
account still on one could be taken over by anyone who knows the number. Those accounts get no
password until an admin makes a new account slip for their class (or resets the person).

Revision ID: 0003_account_slips
Revises: 0002_notifications
Create Date: 2026-12-20 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_account_slips'
down_revision = '0002_notifications'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('account_slips',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=32), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('user_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_account_slips_created_by_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_account_slips_job_id_jobs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_account_slips_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_slips'))
    )
    with op.batch_alter_table('account_slips', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_slips_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_slips_unit_id'), ['unit_id'], unique=False)

    op.execute(
        "UPDATE users SET password_hash = '!unusable' "
        "WHERE must_change_password AND password_hash LIKE 'scrypt:256:8:1$%'"
    )


def downgrade():
    with op.batch_alter_table('account_slips', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_slips_unit_id'))
        batch_op.drop_index(batch_op.f('ix_account_slips_job_id'))

    op.drop_table('account_slips')
