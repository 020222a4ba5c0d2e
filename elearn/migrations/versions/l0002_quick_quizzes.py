"""live: quick quizzes from the question bank

Revision ID: l0002_quick_quizzes
Revises: l0001_live
Create Date: 2026-12-02 10:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'l0002_quick_quizzes'
down_revision = 'l0001_live'
branch_labels = None
# the items point at question versions (the quizzes branch)
depends_on = 'q0001_quizzes'


def upgrade():
    op.create_table('lecture_quizzes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lecture_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_lecture_quizzes_created_by_id_users')),
    sa.ForeignKeyConstraint(['lecture_id'], ['lectures.id'], name=op.f('fk_lecture_quizzes_lecture_id_lectures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lecture_quizzes'))
    )
    with op.batch_alter_table('lecture_quizzes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lecture_quizzes_lecture_id'), ['lecture_id'], unique=False)

    op.create_table('lecture_quiz_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('question_version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['question_version_id'], ['quiz_question_versions.id'], name=op.f('fk_lecture_quiz_items_question_version_id_quiz_question_versions')),
    sa.ForeignKeyConstraint(['quiz_id'], ['lecture_quizzes.id'], name=op.f('fk_lecture_quiz_items_quiz_id_lecture_quizzes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lecture_quiz_items')),
    sa.UniqueConstraint('quiz_id', 'position', name=op.f('uq_lecture_quiz_items_quiz_id_position'))
    )
    op.create_table('lecture_quiz_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=True),
    sa.Column('fraction', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['lecture_quiz_items.id'], name=op.f('fk_lecture_quiz_answers_item_id_lecture_quiz_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['quiz_id'], ['lecture_quizzes.id'], name=op.f('fk_lecture_quiz_answers_quiz_id_lecture_quizzes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lecture_quiz_answers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lecture_quiz_answers')),
    sa.UniqueConstraint('item_id', 'user_id', name=op.f('uq_lecture_quiz_answers_item_id_user_id'))
    )
    with op.batch_alter_table('lecture_quiz_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lecture_quiz_answers_quiz_id'), ['quiz_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lecture_quiz_answers_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('lecture_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quiz_id', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('lecture_messages', schema=None) as batch_op:
        batch_op.drop_column('quiz_id')
    with op.batch_alter_table('lecture_quiz_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lecture_quiz_answers_user_id'))
        batch_op.drop_index(batch_op.f('ix_lecture_quiz_answers_quiz_id'))
    op.drop_table('lecture_quiz_answers')
    op.drop_table('lecture_quiz_items')
    with op.batch_alter_table('lecture_quizzes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lecture_quizzes_lecture_id'))
    op.drop_table('lecture_quizzes')
