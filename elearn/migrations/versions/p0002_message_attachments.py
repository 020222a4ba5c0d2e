"""interaction: a message's attachment is a media asset (its id, once per message)

``conversation_messages.asset_id`` was reserved as an integer; assets have 32-character ids. No
message carried one before this revision (the service did not accept them), so the column is
retyped in place, with its foreign key and a unique index (an asset is sent once).

Revision ID: p0002_message_attachments
Revises: p0001_interaction
Create Date: 2026-12-07 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'p0002_message_attachments'
down_revision = 'p0001_interaction'
branch_labels = None
depends_on = 'm0001_media'


def upgrade():
    with op.batch_alter_table('conversation_messages', schema=None) as batch_op:
        batch_op.alter_column(
            'asset_id',
            existing_type=sa.Integer(),
            type_=sa.String(length=32),
            existing_nullable=True,
            postgresql_using='NULL',
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_conversation_messages_asset_id_assets'),
            'assets', ['asset_id'], ['id'],
        )
        batch_op.create_index(
            batch_op.f('ix_conversation_messages_asset_id'), ['asset_id'], unique=True
        )


def downgrade():
    with op.batch_alter_table('conversation_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_messages_asset_id'))
        batch_op.drop_constraint(
            batch_op.f('fk_conversation_messages_asset_id_assets'), type_='foreignkey'
        )
        batch_op.alter_column(
            'asset_id',
            existing_type=sa.String(length=32),
            type_=sa.Integer(),
            existing_nullable=True,
            postgresql_using='NULL',
        )
