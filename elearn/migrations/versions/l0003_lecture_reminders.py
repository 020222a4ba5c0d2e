"""live: lecture reminders (once per lecture)

Revision ID: l0003_lecture_reminders
Revises: l0002_quick_quizzes
Create Date: 2026-12-02 10:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'l0003_lecture_reminders'
down_revision = 'l0002_quick_quizzes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lectures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('lectures', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')
