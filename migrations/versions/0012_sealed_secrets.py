"""Two-factor secrets encrypted at rest: a wider column, and every existing secret sealed
under SECRETS_KEY (access/vault.py), so no plaintext secret is left in the database.

Revision ID: c4d2e8f1a7b3
Revises: b6e8d0f2a4c7
Create Date: 2026-12-02 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d2e8f1a7b3'
down_revision = 'b6e8d0f2a4c7'
branch_labels = None
depends_on = None

PREFIX = "enc1:"
users = sa.table("users", sa.column("id", sa.Integer), sa.column("totp_secret", sa.String))


def _rows(bind):
    return bind.execute(sa.select(users.c.id, users.c.totp_secret)
                        .where(users.c.totp_secret.is_not(None))).all()


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64),
                              type_=sa.String(length=200), existing_nullable=True)
    # The app's own key (the migration runs inside it: flask-migrate, `init`, restore).
    from inquiry_docs.access import vault

    sealer = vault.sealer()
    bind = op.get_bind()
    for user_id, stored in _rows(bind):
        if not stored.startswith(PREFIX):
            bind.execute(sa.update(users).where(users.c.id == user_id)
                         .values(totp_secret=sealer.seal(stored)))


def downgrade():
    from inquiry_docs.access import vault

    sealer = vault.sealer()
    bind = op.get_bind()
    for user_id, stored in _rows(bind):
        if stored.startswith(PREFIX):
            bind.execute(sa.update(users).where(users.c.id == user_id)
                         .values(totp_secret=sealer.unseal(stored)))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=200),
                              type_=sa.String(length=64), existing_nullable=True)
