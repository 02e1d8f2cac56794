"""Documents: one index holding the columns access is decided on (inquiry, marking, restricted)

Revision ID: a1f5c3e7d9b4
Revises: 9e4c6d7f8a02
Create Date: 2026-11-26 10:45:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a1f5c3e7d9b4'
down_revision = '9e4c6d7f8a02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_documents_access', 'documents',
                    ['inquiry_id', 'marking', 'restricted', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_documents_access', table_name='documents')
