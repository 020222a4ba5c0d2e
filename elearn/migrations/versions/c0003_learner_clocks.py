"""courses: one watch-time allowance per learner (learner_clocks), not one per lesson

Revision ID: c0003_learner_clocks
Revises: c0002_structure_versions
Create Date: 2026-12-07 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c0003_learner_clocks'
down_revision = 'c0002_structure_versions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'learner_clocks',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('allowance', sa.Float(), nullable=False),
        sa.Column('refilled_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    # the per-lesson allowance is replaced by the learner's: what was left of it is not carried
    # over (at most one allowance, 30 s, per lesson in progress)
    with op.batch_alter_table('lesson_progress') as batch:
        batch.drop_column('credit_allowance')


def downgrade():
    with op.batch_alter_table('lesson_progress') as batch:
        batch.add_column(
            sa.Column('credit_allowance', sa.Float(), nullable=False, server_default='0')
        )
    op.drop_table('learner_clocks')
