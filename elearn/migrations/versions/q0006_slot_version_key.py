"""quizzes: one foreign key from an attempt slot to its (version, question)

Revision ID: q0006_slot_version_key
Revises: q0005_redundant_attempt_indexes
Create Date: 2026-12-03 08:15:00

A slot had a foreign key to its question and another to its version: two lookups per slot
written, ten slots per exam start. One composite key to the version's (id, question_id) makes
the same guarantee (a version cannot outlive its question) with one lookup, and a stronger one:
the slot's question is its version's.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'q0006_slot_version_key'
down_revision = 'q0005_redundant_attempt_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quiz_question_versions', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f('uq_quiz_question_versions_id_question_id'), ['id', 'question_id']
        )
    with op.batch_alter_table('quiz_attempt_slots', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_quiz_attempt_slots_question_id_quiz_questions'), type_='foreignkey'
        )
        batch_op.drop_constraint(
            batch_op.f('fk_quiz_attempt_slots_version_id_quiz_question_versions'),
            type_='foreignkey',
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_quiz_attempt_slots_version_id_quiz_question_versions'),
            'quiz_question_versions',
            ['version_id', 'question_id'],
            ['id', 'question_id'],
        )


def downgrade():
    with op.batch_alter_table('quiz_attempt_slots', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_quiz_attempt_slots_version_id_quiz_question_versions'),
            type_='foreignkey',
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_quiz_attempt_slots_version_id_quiz_question_versions'),
            'quiz_question_versions',
            ['version_id'],
            ['id'],
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_quiz_attempt_slots_question_id_quiz_questions'),
            'quiz_questions',
            ['question_id'],
            ['id'],
        )
    with op.batch_alter_table('quiz_question_versions', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('uq_quiz_question_versions_id_question_id'), type_='unique'
        )
