"""Upload batches: a refused file's size and time, and who dismissed it

Revision ID: b7e1f5a9c017
Revises: a6d0e4f8b016
Create Date: 2026-12-14 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e1f5a9c017'
down_revision = 'a6d0e4f8b016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('batch_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('size', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('received_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('dismissed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('dismissed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_batch_items_dismissed_by_id_users', 'users',
                                    ['dismissed_by_id'], ['id'])
    # Rows from before this revision take their batch's time.
    op.execute("UPDATE batch_items SET received_at = (SELECT created_at FROM batches "
               "WHERE batches.id = batch_items.batch_id)")


def downgrade():
    with op.batch_alter_table('batch_items', schema=None) as batch_op:
        batch_op.drop_constraint('fk_batch_items_dismissed_by_id_users', type_='foreignkey')
        batch_op.drop_column('dismissed_by_id')
        batch_op.drop_column('dismissed_at')
        batch_op.drop_column('received_at')
        batch_op.drop_column('size')
