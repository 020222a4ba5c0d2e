"""live: each attendance interval names the web process that holds its socket, and each web
process beats, so the intervals of a process killed without its disconnects can be closed

Revision ID: l0005_attendance_process
Revises: l0004_lecture_lesson
Create Date: 2026-12-07 20:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'l0005_attendance_process'
down_revision = 'l0004_lecture_lesson'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'live_web_processes',
        sa.Column('id', sa.String(length=128), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('swept_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_live_web_processes')),
    )
    with op.batch_alter_table('live_web_processes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_web_processes_beat_at'), ['beat_at'], unique=False)
    with op.batch_alter_table('lecture_attendance_intervals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('process', sa.String(length=128), nullable=True))
        batch_op.create_index('ix_lecture_attendance_intervals_open_process', ['process'], unique=False, postgresql_where=sa.text('left_at IS NULL'), sqlite_where=sa.text('left_at IS NULL'))


def downgrade():
    with op.batch_alter_table('lecture_attendance_intervals', schema=None) as batch_op:
        batch_op.drop_index('ix_lecture_attendance_intervals_open_process', postgresql_where=sa.text('left_at IS NULL'), sqlite_where=sa.text('left_at IS NULL'))
        batch_op.drop_column('process')
    with op.batch_alter_table('live_web_processes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_web_processes_beat_at'))
    op.drop_table('live_web_processes')
