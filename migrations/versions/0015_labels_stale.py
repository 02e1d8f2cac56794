"""Documents: labels waiting to be written to the index, apart from the status

Revision ID: f5c9d3e7a015
Revises: e4b8c2d6f014
Create Date: 2026-12-07 11:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f5c9d3e7a015'
down_revision = 'e4b8c2d6f014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('labels_stale', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('labels_stale')
