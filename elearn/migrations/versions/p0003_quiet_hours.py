"""parents: staff quiet hours (messages wait, with an automatic reply), delivery receipts per
member, and the school office's urgent line

Revision ID: p0003_quiet_hours
Revises: p0001_interaction
Create Date: 2026-12-07 23:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'p0003_quiet_hours'
down_revision = 'p0001_interaction'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'quiet_hours',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('is_enabled', sa.Boolean(), nullable=False),
        sa.Column('starts', sa.Time(), nullable=False),
        sa.Column('ends', sa.Time(), nullable=False),
        sa.Column('auto_reply', sa.String(length=500), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_quiet_hours_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_quiet_hours')),
    )
    with op.batch_alter_table('conversation_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_delivered_message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False, server_default='0'))
    with op.batch_alter_table('conversation_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deliver_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('is_automatic', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index('ix_conversation_messages_waiting', ['deliver_at'], unique=False, postgresql_where=sa.text("status = 'waiting'"), sqlite_where=sa.text("status = 'waiting'"))


def downgrade():
    with op.batch_alter_table('conversation_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_messages_waiting', postgresql_where=sa.text("status = 'waiting'"), sqlite_where=sa.text("status = 'waiting'"))
        batch_op.drop_column('is_automatic')
        batch_op.drop_column('deliver_at')
    with op.batch_alter_table('conversation_members', schema=None) as batch_op:
        batch_op.drop_column('last_delivered_message_id')
    op.drop_table('quiet_hours')
