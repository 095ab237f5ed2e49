"""Initial schema: families, citizen files, accounts, confirmation requests, attempts, registrations, amounts.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "families",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_families"),
    )
    op.create_table(
        "citizen_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("adult_in_charge", sa.Boolean(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("home_phone", sa.String(length=20), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("card_digest", sa.String(length=64), nullable=True),
        sa.Column("card_expires_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"], name="fk_citizen_files_family_id_families"),
        sa.PrimaryKeyConstraint("id", name="pk_citizen_files"),
    )
    op.create_index("ix_citizen_files_card_digest", "citizen_files", ["card_digest"])
    op.create_index("ix_citizen_files_family_id", "citizen_files", ["family_id"])
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("email_confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("citizen_file_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_file_id"], ["citizen_files.id"], name="fk_accounts_citizen_file_id_citizen_files"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("citizen_file_id", name="uq_accounts_citizen_file_id"),
        sa.UniqueConstraint("email_key", name="uq_accounts_email_key"),
    )
    op.create_table(
        "confirmation_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_confirmation_requests_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_confirmation_requests"),
    )
    op.create_index(
        "ix_confirmation_requests_account_at", "confirmation_requests", ["account_id", "requested_at"]
    )
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("operation", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("card_key", sa.String(length=64), nullable=True),
        sa.Column("conversation_key", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_attempts_account_id_accounts"),
        sa.PrimaryKeyConstraint("id", name="pk_attempts"),
    )
    op.create_index("ix_attempts_account_at", "attempts", ["account_id", "at"])
    op.create_index("ix_attempts_card_at", "attempts", ["card_key", "at"])
    op.create_index("ix_attempts_conversation_at", "attempts", ["conversation_key", "at"])
    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_file_id", sa.Integer(), nullable=False),
        sa.Column("activity", sa.String(length=200), nullable=False),
        sa.Column("session", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_file_id"], ["citizen_files.id"], name="fk_registrations_citizen_file_id_citizen_files"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_registrations"),
    )
    op.create_index("ix_registrations_citizen_file_id", "registrations", ["citizen_file_id"])
    op.create_table(
        "amounts_due",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_file_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_file_id"], ["citizen_files.id"], name="fk_amounts_due_citizen_file_id_citizen_files"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_amounts_due"),
    )
    op.create_index("ix_amounts_due_citizen_file_id", "amounts_due", ["citizen_file_id"])


def downgrade() -> None:
    for table in (
        "amounts_due",
        "registrations",
        "attempts",
        "confirmation_requests",
        "accounts",
        "citizen_files",
        "families",
    ):
        op.drop_table(table)
