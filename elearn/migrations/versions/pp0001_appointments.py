"""appointments: slots staff publish and the appointments booked in them

Revision ID: pp0001_appointments
Revises: p0001_interaction
Create Date: 2026-12-07 23:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'pp0001_appointments'
down_revision = 'p0001_interaction'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('appointment_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['users.id'], name=op.f('fk_appointment_slots_staff_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_slots'))
    )
    with op.batch_alter_table('appointment_slots', schema=None) as batch_op:
        batch_op.create_index('ix_appointment_slots_staff_starts', ['staff_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_slots_starts_at'), ['starts_at'], unique=False)

    op.create_table('appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('invited', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('notes_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['users.id'], name=op.f('fk_appointments_cancelled_by_id_users')),
    sa.ForeignKeyConstraint(['guardian_id'], ['users.id'], name=op.f('fk_appointments_guardian_id_users')),
    sa.ForeignKeyConstraint(['slot_id'], ['appointment_slots.id'], name=op.f('fk_appointments_slot_id_appointment_slots')),
    sa.ForeignKeyConstraint(['staff_id'], ['users.id'], name=op.f('fk_appointments_staff_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointments_guardian_id'), ['guardian_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_slot_id'), ['slot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_staff_id'), ['staff_id'], unique=False)
        # one confirmed appointment a slot: the second of two guardians booking at once fails here
        batch_op.create_index('uq_appointments_confirmed_slot', ['slot_id'], unique=True, postgresql_where=sa.text("status = 'confirmed'"), sqlite_where=sa.text("status = 'confirmed'"))


def downgrade():
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('uq_appointments_confirmed_slot')
        batch_op.drop_index(batch_op.f('ix_appointments_staff_id'))
        batch_op.drop_index(batch_op.f('ix_appointments_slot_id'))
        batch_op.drop_index(batch_op.f('ix_appointments_guardian_id'))
    op.drop_table('appointments')
    with op.batch_alter_table('appointment_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_slots_starts_at'))
        batch_op.drop_index('ix_appointment_slots_staff_starts')
    op.drop_table('appointment_slots')
