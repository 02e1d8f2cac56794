"""Recommendation sets, evidence links, suggestions and implementation tracking

Revision ID: 6a1e0c7d3b58
Revises: 5a8c1f3e2b47
Create Date: 2026-12-20 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6a1e0c7d3b58'
down_revision = '5a8c1f3e2b47'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('recommendation_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('inquiry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'], name=op.f('fk_recommendation_sets_inquiry_id_inquiries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendation_sets')),
    sa.UniqueConstraint('code', name=op.f('uq_recommendation_sets_code'))
    )
    op.create_table('recommendations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('part', sa.String(length=50), nullable=False),
    sa.Column('addressee', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('keywords', sa.Text(), nullable=False),
    sa.Column('response', sa.String(length=30), nullable=False),
    sa.Column('rag', sa.String(length=10), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['set_id'], ['recommendation_sets.id'], name=op.f('fk_recommendations_set_id_recommendation_sets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendations')),
    sa.UniqueConstraint('set_id', 'number', name=op.f('uq_recommendations_set_id'))
    )
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommendations_set_id'), ['set_id'], unique=False)

    op.create_table('evidence_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('stance', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('quote', sa.Text(), nullable=False),
    sa.Column('quote_start', sa.Integer(), nullable=True),
    sa.Column('quote_end', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_evidence_links_created_by_id_users')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_evidence_links_document_id_documents')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_evidence_links_recommendation_id_recommendations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_links'))
    )
    with op.batch_alter_table('evidence_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_links_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_links_recommendation_id'), ['recommendation_id'], unique=False)

    op.create_table('recommendation_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_recommendation_notes_recommendation_id_recommendations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recommendation_notes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendation_notes'))
    )
    with op.batch_alter_table('recommendation_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommendation_notes_recommendation_id'), ['recommendation_id'], unique=False)

    op.create_table('rejected_suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_rejected_suggestions_document_id_documents')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_rejected_suggestions_recommendation_id_recommendations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_rejected_suggestions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rejected_suggestions')),
    sa.UniqueConstraint('recommendation_id', 'document_id', 'page', name=op.f('uq_rejected_suggestions_recommendation_id'))
    )
    with op.batch_alter_table('rejected_suggestions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rejected_suggestions_recommendation_id'), ['recommendation_id'], unique=False)

    op.create_table('trail_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('happened_on', sa.DateTime(), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_trail_events_document_id_documents')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_trail_events_recommendation_id_recommendations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_trail_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trail_events'))
    )
    with op.batch_alter_table('trail_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trail_events_recommendation_id'), ['recommendation_id'], unique=False)



def downgrade():
    with op.batch_alter_table('trail_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trail_events_recommendation_id'))

    op.drop_table('trail_events')
    with op.batch_alter_table('rejected_suggestions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rejected_suggestions_recommendation_id'))

    op.drop_table('rejected_suggestions')
    with op.batch_alter_table('recommendation_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recommendation_notes_recommendation_id'))

    op.drop_table('recommendation_notes')
    with op.batch_alter_table('evidence_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_links_recommendation_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_links_document_id'))

    op.drop_table('evidence_links')
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recommendations_set_id'))

    op.drop_table('recommendations')
    op.drop_table('recommendation_sets')
