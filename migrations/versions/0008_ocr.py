"""OCR: per-page OCR flag and confidence, OCR progress per document

Revision ID: 8d3a5b6c7e91
Revises: 7c2f4e9a1d60
Create Date: 2026-11-26 03:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d3a5b6c7e91'
down_revision = '7c2f4e9a1d60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ocr', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('ocr_confidence', sa.Float(), nullable=True))

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ocr_done', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('ocr_total', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('ocr_total')
        batch_op.drop_column('ocr_done')

    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_column('ocr_confidence')
        batch_op.drop_column('ocr')
