"""live: a lecture may stand for a course lesson

Revision ID: l0004_lecture_lesson
Revises: l0003_lecture_reminders
Create Date: 2026-12-02 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'l0004_lecture_lesson'
down_revision = 'l0003_lecture_reminders'
branch_labels = None
# the lessons table (the courses branch)
depends_on = 'c0001_courses'


def upgrade():
    with op.batch_alter_table('lectures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lesson_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_lectures_lesson_id_lessons'), 'lessons', ['lesson_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('lectures', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_lectures_lesson_id_lessons'), type_='foreignkey')
        batch_op.drop_column('lesson_id')
