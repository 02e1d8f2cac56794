"""Legal review: tags, coding, notes and disclosure bundles

Revision ID: 7c2f4e9a1d60
Revises: 5a8c1f3e2b47
Create Date: 2026-11-26 02:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c2f4e9a1d60'
down_revision = '6a1e0c7d3b58'
branch_labels = None
depends_on = None


def _fk(table, column, target):
    return sa.ForeignKeyConstraint([column], [f'{target}.id'],
                                   name=op.f(f'fk_{table}_{column}_{target}'))


def _index(table, *columns, unique=False):
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=unique)


def upgrade():
    op.create_table(
        'tags',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('inquiry_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('colour', sa.String(length=20), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        _fk('tags', 'inquiry_id', 'inquiries'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
        sa.UniqueConstraint('inquiry_id', 'name', name=op.f('uq_tags_inquiry_id')),
    )
    _index('tags', 'inquiry_id')
    op.create_table(
        'document_tags',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('tag_id', sa.Integer(), nullable=False),
        _fk('document_tags', 'document_id', 'documents'),
        _fk('document_tags', 'tag_id', 'tags'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_tags')),
        sa.UniqueConstraint('document_id', 'tag_id', name=op.f('uq_document_tags_document_id')),
    )
    _index('document_tags', 'document_id', 'tag_id')
    op.create_table(
        'codings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('relevance', sa.String(length=20), nullable=False),
        sa.Column('privilege', sa.String(length=20), nullable=False),
        sa.Column('redaction_needed', sa.Boolean(), nullable=False),
        sa.Column('redaction_pages', sa.String(length=200), nullable=False),
        sa.Column('redaction_reason', sa.String(length=20), nullable=False),
        sa.Column('review_status', sa.String(length=20), nullable=False),
        sa.Column('reviewer_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        _fk('codings', 'document_id', 'documents'),
        _fk('codings', 'reviewer_id', 'users'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_codings')),
        sa.UniqueConstraint('document_id', name=op.f('uq_codings_document_id')),
    )
    _index('codings', 'review_status', 'reviewer_id')
    op.create_table(
        'notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('page', sa.Integer(), nullable=False),
        sa.Column('quote', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        _fk('notes', 'document_id', 'documents'),
        _fk('notes', 'author_id', 'users'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notes')),
    )
    _index('notes', 'document_id')
    op.create_table(
        'note_revisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('note_id', sa.Integer(), nullable=False),
        sa.Column('quote', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('written_at', sa.DateTime(), nullable=False),
        _fk('note_revisions', 'note_id', 'notes'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_note_revisions')),
    )
    _index('note_revisions', 'note_id')
    op.create_table(
        'bundles',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('document_ids', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        _fk('bundles', 'user_id', 'users'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bundles')),
    )
    _index('bundles', 'user_id')


def downgrade():
    for table, columns in (('bundles', ('user_id',)), ('note_revisions', ('note_id',)),
                           ('notes', ('document_id',)),
                           ('codings', ('review_status', 'reviewer_id')),
                           ('document_tags', ('document_id', 'tag_id')),
                           ('tags', ('inquiry_id',))):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_index(batch_op.f(f'ix_{table}_{column}'))
        op.drop_table(table)
