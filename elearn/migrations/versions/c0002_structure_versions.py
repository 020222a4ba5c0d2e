"""courses: the course structure learners see (order, removals) changes only at publication

Revision ID: c0002_structure_versions
Revises: c0001_courses
Create Date: 2026-12-02 10:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c0002_structure_versions'
down_revision = 'c0001_courses'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lessons') as batch:
        batch.add_column(sa.Column('live_position', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('course_units') as batch:
        batch.add_column(sa.Column('live_position', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))
    # what learners see today is the current order
    op.execute(
        "UPDATE lessons SET live_position = position WHERE published_revision_id IS NOT NULL"
    )
    op.execute(
        "UPDATE course_units SET live_position = position WHERE course_id IN "
        "(SELECT id FROM courses WHERE version >= 1)"
    )


def downgrade():
    with op.batch_alter_table('course_units') as batch:
        batch.drop_column('removed_at')
        batch.drop_column('live_position')
    with op.batch_alter_table('lessons') as batch:
        batch.drop_column('removed_at')
        batch.drop_column('live_position')
