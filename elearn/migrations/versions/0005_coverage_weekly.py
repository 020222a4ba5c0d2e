"""coverage: weekly rollups per unit, term and kind (the dashboards' trend within a term),
filled from the facts already recorded

Revision ID: 0005_coverage_weekly
Revises: 0004_notification_channels
Create Date: 2026-12-08 00:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_coverage_weekly'
down_revision = '0004_notification_channels'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'coverage_weekly',
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('term_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('week', sa.Date(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['term_id'], ['terms.id'], name=op.f('fk_coverage_weekly_term_id_terms')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_coverage_weekly_unit_id_units')),
        sa.PrimaryKeyConstraint('unit_id', 'term_id', 'kind', 'week', name=op.f('pk_coverage_weekly')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        # the facts so far, by the week they were seen (Asia/Shanghai unless the installation
        # said otherwise; a later fact uses the configured zone), under every ancestor of their unit
        op.execute(
            """
            INSERT INTO coverage_weekly (unit_id, term_id, kind, week, count)
            SELECT ancestor.id, f.term_id, k.kind,
                   date_trunc('week', f.recorded_at AT TIME ZONE 'Asia/Shanghai')::date, count(*)
            FROM coverage_facts f
            JOIN units u ON u.id = f.unit_id
            CROSS JOIN LATERAL unnest(string_to_array(trim(both '/' from u.path), '/')::int[])
                AS ancestor(id)
            CROSS JOIN LATERAL (
                SELECT f.kind AS kind
                UNION ALL SELECT f.kind || '\\:rural' WHERE f.is_rural
            ) k
            GROUP BY ancestor.id, f.term_id, k.kind,
                     date_trunc('week', f.recorded_at AT TIME ZONE 'Asia/Shanghai')::date
            """
        )


def downgrade():
    op.drop_table('coverage_weekly')
