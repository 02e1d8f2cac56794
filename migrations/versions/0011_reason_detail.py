"""Documents: the technical detail of a failure or of unread pages, for administrators

Revision ID: b6e8d0f2a4c7
Revises: a1f5c3e7d9b4
Create Date: 2026-11-27 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b6e8d0f2a4c7'
down_revision = 'a1f5c3e7d9b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_detail', sa.Text(), nullable=False,
                                      server_default=''))


def downgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('reason_detail')
