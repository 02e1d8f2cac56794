"""Batch searches and saved searches

Revision ID: 5a8c1f3e2b47
Revises: 4b7d2e9a1c03
Create Date: 2026-12-08 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5a8c1f3e2b47'
down_revision = '4b7d2e9a1c03'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'batch_searches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('inquiry_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'],
                                name=op.f('fk_batch_searches_inquiry_id_inquiries')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_batch_searches_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_searches')),
    )
    with op.batch_alter_table('batch_searches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_searches_user_id'), ['user_id'],
                              unique=False)

    op.create_table(
        'batch_search_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_search_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('query', sa.String(length=500), nullable=False),
        sa.Column('finished', sa.Boolean(), nullable=False),
        sa.Column('documents', sa.Integer(), nullable=True),
        sa.Column('pages', sa.Integer(), nullable=True),
        sa.Column('top', sa.Text(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('notice', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['batch_search_id'], ['batch_searches.id'],
                                name=op.f('fk_batch_search_lines_batch_search_id_batch_searches')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_search_lines')),
        sa.UniqueConstraint('batch_search_id', 'position',
                            name=op.f('uq_batch_search_lines_batch_search_id')),
    )
    with op.batch_alter_table('batch_search_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_search_lines_batch_search_id'),
                              ['batch_search_id'], unique=False)

    op.create_table(
        'saved_searches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('query', sa.String(length=1000), nullable=False),
        sa.Column('inquiry_id', sa.Integer(), nullable=True),
        sa.Column('filters', sa.Text(), nullable=False),
        sa.Column('shared', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'],
                                name=op.f('fk_saved_searches_inquiry_id_inquiries')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_saved_searches_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_searches')),
    )
    with op.batch_alter_table('saved_searches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_searches_inquiry_id'), ['inquiry_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_saved_searches_user_id'), ['user_id'],
                              unique=False)

    op.create_table(
        'saved_search_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('saved_id', sa.Integer(), nullable=False),
        sa.Column('last_run_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['saved_id'], ['saved_searches.id'],
                                name=op.f('fk_saved_search_runs_saved_id_saved_searches')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_saved_search_runs_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_search_runs')),
        sa.UniqueConstraint('user_id', 'saved_id',
                            name=op.f('uq_saved_search_runs_user_id')),
    )
    with op.batch_alter_table('saved_search_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_search_runs_saved_id'), ['saved_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('saved_search_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_search_runs_saved_id'))
    op.drop_table('saved_search_runs')
    with op.batch_alter_table('saved_searches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_searches_user_id'))
        batch_op.drop_index(batch_op.f('ix_saved_searches_inquiry_id'))
    op.drop_table('saved_searches')
    with op.batch_alter_table('batch_search_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_search_lines_batch_search_id'))
    op.drop_table('batch_search_lines')
    with op.batch_alter_table('batch_searches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_searches_user_id'))
    op.drop_table('batch_searches')
