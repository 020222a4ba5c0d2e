"""family: guardian invite codes (one use, 7 days) and what became of each

Revision ID: pf0001_family
Revises: 0003_account_slips
Create Date: 2026-12-08 00:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'pf0001_family'
down_revision = '0003_account_slips'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('guardian_invites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('redeemed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('guardian_id', sa.Integer(), nullable=True),
    sa.Column('relation', sa.String(length=16), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_guardian_invites_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['guardian_id'], ['users.id'], name=op.f('fk_guardian_invites_guardian_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_guardian_invites_issued_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], name=op.f('fk_guardian_invites_student_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_guardian_invites_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guardian_invites')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_guardian_invites_code_hash'))
    )
    with op.batch_alter_table('guardian_invites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guardian_invites_guardian_id'), ['guardian_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_guardian_invites_student_id'), ['student_id'], unique=False)
        batch_op.create_index('ix_guardian_invites_unit_status', ['unit_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('guardian_invites', schema=None) as batch_op:
        batch_op.drop_index('ix_guardian_invites_unit_status')
        batch_op.drop_index(batch_op.f('ix_guardian_invites_student_id'))
        batch_op.drop_index(batch_op.f('ix_guardian_invites_guardian_id'))

    op.drop_table('guardian_invites')
