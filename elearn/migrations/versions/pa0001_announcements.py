"""announcements: cascading notices with one receipt per recipient

Revision ID: pa0001_announcements
Revises: 0001_carrier
Create Date: 2026-12-07 21:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'pa0001_announcements'
down_revision = '0001_carrier'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('announcements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('requires_ack', sa.Boolean(), nullable=False),
    sa.Column('forwarded_from_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['forwarded_from_id'], ['announcements.id'], name=op.f('fk_announcements_forwarded_from_id_announcements')),
    sa.ForeignKeyConstraint(['sender_id'], ['users.id'], name=op.f('fk_announcements_sender_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_announcements_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcements'))
    )
    with op.batch_alter_table('announcements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcements_forwarded_from_id'), ['forwarded_from_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_announcements_sender_id'), ['sender_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_announcements_unit_id'), ['unit_id'], unique=False)
    op.create_table('announcement_audiences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=True),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcements.id'], name=op.f('fk_announcement_audiences_announcement_id_announcements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_announcement_audiences_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement_audiences'))
    )
    with op.batch_alter_table('announcement_audiences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcement_audiences_announcement_id'), ['announcement_id'], unique=False)
    op.create_table('announcement_receipts',
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('unit_path', sa.String(length=255), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcements.id'], name=op.f('fk_announcement_receipts_announcement_id_announcements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_announcement_receipts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('announcement_id', 'user_id', name=op.f('pk_announcement_receipts'))
    )
    with op.batch_alter_table('announcement_receipts', schema=None) as batch_op:
        batch_op.create_index('ix_announcement_receipts_unit_path', ['announcement_id', 'unit_path'], unique=False, postgresql_ops={'unit_path': 'varchar_pattern_ops'})
        batch_op.create_index('ix_announcement_receipts_user_id', ['user_id'], unique=False)


def downgrade():
    op.drop_table('announcement_receipts')
    op.drop_table('announcement_audiences')
    op.drop_table('announcements')
