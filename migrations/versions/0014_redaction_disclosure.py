"""Redaction and disclosure: redactions, productions, citations, redacted release, coding comment

Revision ID: e4b8c2d6f014
Revises: d3b8e1f4a613
Create Date: 2026-11-27 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4b8c2d6f014'
down_revision = 'd3b8e1f4a613'
branch_labels = None
depends_on = None


def _fk(table, column, target):
    return sa.ForeignKeyConstraint([column], [f'{target}.id'],
                                   name=op.f(f'fk_{table}_{column}_{target}'))


def upgrade():
    op.create_table(
        'redactions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('page', sa.Integer(), nullable=False),
        sa.Column('x0', sa.Float(), nullable=False),
        sa.Column('y0', sa.Float(), nullable=False),
        sa.Column('x1', sa.Float(), nullable=False),
        sa.Column('y1', sa.Float(), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('restriction_ref', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('changed_by_id', sa.Integer(), nullable=True),
        sa.Column('approved_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('approved_at', sa.DateTime(), nullable=True),
        _fk('redactions', 'document_id', 'documents'),
        _fk('redactions', 'author_id', 'users'),
        _fk('redactions', 'changed_by_id', 'users'),
        _fk('redactions', 'approved_by_id', 'users'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_redactions')),
    )
    op.create_index('ix_redactions_document_page', 'redactions', ['document_id', 'page'])
    op.create_index(op.f('ix_redactions_status'), 'redactions', ['status'])

    op.create_table(
        'productions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('recipient', sa.String(length=200), nullable=False),
        sa.Column('prefix', sa.String(length=10), nullable=False),
        sa.Column('start', sa.Integer(), nullable=False),
        sa.Column('document_ids', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('pages', sa.Integer(), nullable=False),
        sa.Column('left_out', sa.Text(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        _fk('productions', 'user_id', 'users'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_productions')),
    )
    op.create_index(op.f('ix_productions_user_id'), 'productions', ['user_id'])

    op.create_table(
        'citations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source_type', sa.String(length=20), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=True),
        sa.Column('page', sa.Integer(), nullable=True),
        sa.Column('recommendation_id', sa.Integer(), nullable=True),
        sa.Column('target_urn', sa.String(length=9), nullable=False),
        sa.Column('target_page', sa.Integer(), nullable=True),
        _fk('citations', 'document_id', 'documents'),
        _fk('citations', 'recommendation_id', 'recommendations'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_citations')),
    )
    op.create_index('ix_citations_source', 'citations', ['source_type', 'source_id'])
    op.create_index(op.f('ix_citations_document_id'), 'citations', ['document_id'])
    op.create_index(op.f('ix_citations_target_urn'), 'citations', ['target_urn'])

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redacted_release', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('codings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment', sa.Text(), nullable=False,
                                      server_default=''))


def downgrade():
    with op.batch_alter_table('codings', schema=None) as batch_op:
        batch_op.drop_column('comment')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('redacted_release')
    op.drop_index(op.f('ix_citations_target_urn'), table_name='citations')
    op.drop_index(op.f('ix_citations_document_id'), table_name='citations')
    op.drop_index('ix_citations_source', table_name='citations')
    op.drop_table('citations')
    op.drop_index(op.f('ix_productions_user_id'), table_name='productions')
    op.drop_table('productions')
    op.drop_index(op.f('ix_redactions_status'), table_name='redactions')
    op.drop_index('ix_redactions_document_page', table_name='redactions')
    op.drop_table('redactions')
