"""money at the edges: advances on offers and licences; recovered amounts and waiting
for funds on settlement items

* ``mk_offer.advance_minor`` / ``mk_licence.advance_minor`` — an advance (minimum
  guarantee) paid with the licence fee, recouped by uses, earned at the licence's end;
* ``settlement_item.recovered`` — what a run netted against money the creator owed
  after an earlier refund, so ``amount = payable − reserve − recovered``;
* ``settlement_item.status`` may be ``awaiting_funds``: the platform's Stripe balance
  did not have the funds available yet; the item is paid when it has.

Revision ID: 0014_money_edges
Revises: 0012_mail_outbox
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_money_edges"
down_revision = "0012_mail_outbox"
branch_labels = None
depends_on = None

# app.settlement.models.ITEM_STATUSES when written
OLD_STATUSES = ("planned", "held", "below_minimum", "posted", "paid", "failed", "reversed", "partially_reversed")
NEW_STATUSES = (*OLD_STATUSES, "awaiting_funds")
OLD_MONEY = "payable >= 0 AND reserve >= 0 AND amount >= 0 AND amount = payable - reserve"
NEW_MONEY = (
    "payable >= 0 AND reserve >= 0 AND recovered >= 0 AND amount >= 0 AND amount = payable - reserve - recovered"
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    for table in ("mk_offer", "mk_licence"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("advance_minor", sa.BigInteger(), nullable=False, server_default="0"))
            batch.create_check_constraint(f"ck_{table}_advance", "advance_minor >= 0")
    with op.batch_alter_table("settlement_item") as batch:
        batch.add_column(sa.Column("recovered", sa.BigInteger(), nullable=False, server_default="0"))
        batch.drop_constraint("ck_settlement_item_status", type_="check")
        batch.drop_constraint("ck_settlement_item_money", type_="check")
        batch.create_check_constraint("ck_settlement_item_status", _in("status", NEW_STATUSES))
        batch.create_check_constraint("ck_settlement_item_money", NEW_MONEY)


def downgrade() -> None:
    with op.batch_alter_table("settlement_item") as batch:
        batch.drop_constraint("ck_settlement_item_money", type_="check")
        batch.drop_constraint("ck_settlement_item_status", type_="check")
        batch.create_check_constraint("ck_settlement_item_status", _in("status", OLD_STATUSES))
        batch.create_check_constraint("ck_settlement_item_money", OLD_MONEY)
        batch.drop_column("recovered")
    for table in ("mk_licence", "mk_offer"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"ck_{table}_advance", type_="check")
            batch.drop_column("advance_minor")
