"""quizzes: drop the attempts' and slots' single-column indexes their unique keys already serve

Revision ID: q0005_redundant_attempt_indexes
Revises: q0004_attempt_save_key
Create Date: 2026-12-03 08:20:00

An exam start writes an attempt and a slot per question: each index they keep is one more
insert per row. ix_quiz_attempts_quiz_id repeats the leading column of the unique
(quiz_id, user_id, number), and ix_quiz_attempt_slots_attempt_id that of the unique
(attempt_id, question_id); lookups, joins and cascading deletes by those columns use the
unique indexes.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'q0005_redundant_attempt_indexes'
down_revision = 'q0004_attempt_save_key'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quiz_attempt_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_attempt_slots_attempt_id'))
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_attempts_quiz_id'))


def downgrade():
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_attempts_quiz_id'), ['quiz_id'], unique=False)
    with op.batch_alter_table('quiz_attempt_slots', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_quiz_attempt_slots_attempt_id'), ['attempt_id'], unique=False
        )
