"""Sessions: new recovery codes held, sealed, until the user has saved them

Revision ID: a6d0e4f8b016
Revises: f5c9d3e7a015
Create Date: 2026-12-07 11:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a6d0e4f8b016'
down_revision = 'f5c9d3e7a015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_codes', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('codes_until', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_column('codes_until')
        batch_op.drop_column('sealed_codes')
