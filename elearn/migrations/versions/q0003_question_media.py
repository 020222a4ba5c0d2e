"""quizzes: a question version may carry an image or audio (a media asset)

Revision ID: q0003_question_media
Revises: q0002_campaigns
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'q0003_question_media'
down_revision = 'q0002_campaigns'
branch_labels = None
depends_on = 'm0001_media'


def upgrade():
    with op.batch_alter_table('quiz_question_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_asset_id', sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_quiz_question_versions_media_asset_id_assets'),
            'assets', ['media_asset_id'], ['id'], ondelete='SET NULL',
        )


def downgrade():
    with op.batch_alter_table('quiz_question_versions', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_quiz_question_versions_media_asset_id_assets'), type_='foreignkey'
        )
        batch_op.drop_column('media_asset_id')
