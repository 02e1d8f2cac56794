"""Users: the interface language each one chose

Revision ID: c8f2a6b0d018
Revises: b7e1f5a9c017
Create Date: 2026-12-07 13:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c8f2a6b0d018'
down_revision = 'b7e1f5a9c017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')
