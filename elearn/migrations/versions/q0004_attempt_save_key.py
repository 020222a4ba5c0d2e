"""quizzes: an attempt's save key (its hash), for the attempt page's autosaves in the autosave lane

Revision ID: q0004_attempt_save_key
Revises: q0003_question_media
Create Date: 2026-12-03 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'q0004_attempt_save_key'
down_revision = 'q0003_question_media'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('save_key_hash', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.drop_column('save_key_hash')
