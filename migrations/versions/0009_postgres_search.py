"""PostgreSQL search: one row per page with weighted text vectors (PostgreSQL only)

Revision ID: 9e4c6d7f8a02
Revises: 8d3a5b6c7e91
Create Date: 2026-11-26 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '9e4c6d7f8a02'
down_revision = '8d3a5b6c7e91'
branch_labels = None
depends_on = None


def _rum_available(bind) -> bool:
    """RUM keeps word positions in the index and ranks inside it; it is an extension
    (Debian: postgresql-15-rum) that may be missing or not ours to create: GIN then."""
    if not bind.execute(sa.text(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")).first():
        return False
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS rum"))
    except sa.exc.DBAPIError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return  # SQLite installations search with Whoosh
    op.create_table(
        'search_pages',
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        # title stemmed (weight A) and page text stemmed (B), english configuration
        sa.Column('terms', postgresql.TSVECTOR(), nullable=False),
        # title (A) and page text (D) as written, simple configuration
        sa.Column('words', postgresql.TSVECTOR(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name=op.f('fk_search_pages_document_id_documents'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('document_id', 'number', name=op.f('pk_search_pages')),
    )
    # Vectors out of line: the heap stays narrow, so counting matches and grouping them
    # by document reads little; only ranked rows fetch their vectors.
    op.execute("ALTER TABLE search_pages SET (toast_tuple_target = 128)")
    # The title each document's rows were built with: a new title rewrites them.
    op.create_table(
        'search_documents',
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name=op.f('fk_search_documents_document_id_documents'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('document_id', name=op.f('pk_search_documents')),
    )
    method, ops = ('rum', ' rum_tsvector_ops') if _rum_available(bind) else ('gin', '')
    for column in ('terms', 'words'):
        op.execute(f"CREATE INDEX ix_search_pages_{column} ON search_pages "
                   f"USING {method} ({column}{ops})")
    # `source:police` matches words of the document's source, as written.
    op.execute("CREATE INDEX ix_documents_source_words ON documents "
               "USING gin (to_tsvector('simple', source))")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    op.execute("DROP INDEX IF EXISTS ix_documents_source_words")
    op.drop_table('search_documents')
    op.drop_table('search_pages')
