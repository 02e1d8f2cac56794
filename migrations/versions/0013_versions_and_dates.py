"""Document dates with their source; near-duplicate signatures, LSH buckets and pairs

Revision ID: d3b8e1f4a613
Revises: c4d2e8f1a7b3
Create Date: 2026-12-07 10:00:00.000000

A date already held came from file metadata (the only way one arrived before) unless it is
a tool's default, which is cleared: python-docx's template (2013-12-23 23:15), the Unix,
ZIP and 1904 epochs, ReportLab's 2000-01-01 00:00, or a date before 1900.
"""
from datetime import datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3b8e1f4a613'
down_revision = 'c4d2e8f1a7b3'
branch_labels = None
depends_on = None

DEFAULT_DAYS = ("1969-12-31", "1970-01-01", "1970-01-02", "1979-12-31", "1980-01-01",
                "1980-01-02", "1903-12-31", "1904-01-01", "1904-01-02")


def upgrade():
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('date_source', sa.String(length=20), nullable=True))
    documents = sa.table('documents', sa.column('document_date', sa.DateTime),
                         sa.column('date_source', sa.String))
    bind = op.get_bind()
    day = sa.func.date(documents.c.document_date) if bind.dialect.name == 'sqlite' else \
        sa.cast(sa.cast(documents.c.document_date, sa.Date), sa.String)
    minute = sa.func.strftime('%Y-%m-%d %H:%M', documents.c.document_date) \
        if bind.dialect.name == 'sqlite' else \
        sa.func.to_char(documents.c.document_date, 'YYYY-MM-DD HH24:MI')
    op.execute(documents.update().where(sa.or_(
        day.in_(DEFAULT_DAYS), minute.in_(("2013-12-23 23:15", "2000-01-01 00:00")),
        documents.c.document_date < datetime(1900, 1, 1),
    )).values(document_date=None))
    op.execute(documents.update().where(documents.c.document_date.is_not(None))
               .values(date_source='metadata'))

    op.create_table(
        'text_signatures',
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('inquiry_id', sa.Integer(), nullable=False),
        sa.Column('method', sa.String(length=60), nullable=False),
        sa.Column('shingles', sa.Integer(), nullable=False),
        sa.Column('signature', sa.LargeBinary(), nullable=False),
        sa.Column('cluster_id', sa.Integer(), nullable=True),
        sa.Column('computed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name=op.f('fk_text_signatures_document_id_documents')),
        sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'],
                                name=op.f('fk_text_signatures_inquiry_id_inquiries')),
        sa.PrimaryKeyConstraint('document_id', name=op.f('pk_text_signatures')),
    )
    op.create_index(op.f('ix_text_signatures_cluster_id'), 'text_signatures', ['cluster_id'],
                    unique=False)
    op.create_table(
        'signature_buckets',
        sa.Column('bucket', sa.BigInteger(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name=op.f('fk_signature_buckets_document_id_documents')),
        sa.PrimaryKeyConstraint('bucket', 'document_id', name=op.f('pk_signature_buckets')),
    )
    op.create_index(op.f('ix_signature_buckets_document_id'), 'signature_buckets',
                    ['document_id'], unique=False)
    op.create_table(
        'near_duplicates',
        sa.Column('low_id', sa.Integer(), nullable=False),
        sa.Column('high_id', sa.Integer(), nullable=False),
        sa.Column('similarity', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['low_id'], ['documents.id'],
                                name=op.f('fk_near_duplicates_low_id_documents')),
        sa.ForeignKeyConstraint(['high_id'], ['documents.id'],
                                name=op.f('fk_near_duplicates_high_id_documents')),
        sa.PrimaryKeyConstraint('low_id', 'high_id', name=op.f('pk_near_duplicates')),
    )
    op.create_index('ix_near_duplicates_high_id', 'near_duplicates', ['high_id'], unique=False)


def downgrade():
    op.drop_index('ix_near_duplicates_high_id', table_name='near_duplicates')
    op.drop_table('near_duplicates')
    op.drop_index(op.f('ix_signature_buckets_document_id'), table_name='signature_buckets')
    op.drop_table('signature_buckets')
    op.drop_index(op.f('ix_text_signatures_cluster_id'), table_name='text_signatures')
    op.drop_table('text_signatures')
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('date_source')
