"""ledger: creators' payables and brands' receivables get balance shards

Every metered use credits its creators' payables and debits its brand's receivable.
With one balance row each, a brand's parallel reports queued on those row locks, held
from the balance update to the commit.  A guarded account may now have several
shard rows (ledger.book): what it earns or owes spreads over them, and a move
towards zero locks them all, folds them into shard 0 and checks the guard against the
whole balance.  The CHECK that allowed shards only on unguarded accounts goes;
existing payables and receivables get 8 shards, their balance staying on shard 0.

Revision ID: 0010_guarded_shards
Revises: 0009_usage_receipts
Create Date: 2026-11-24
"""

from alembic import op

revision = "0010_guarded_shards"
down_revision = "0009_usage_receipts"
branch_labels = None
depends_on = None

SHARDS = 8  # ledger.chart.USER_SHARDS when this migration was written
HOT_MAY_GO_NEGATIVE = "shards = 1 OR allow_negative"


def busy_guarded(a: str = "ledger_account") -> str:
    """Payables and receivables (guarded accounts), by code as ledger.chart names them."""
    return (
        f"({a}.code LIKE 'creator:%:payable:___' OR {a}.code LIKE 'brand:%:receivable:___') AND NOT {a}.allow_negative"
    )


def upgrade() -> None:
    with op.batch_alter_table("ledger_account") as batch:
        batch.drop_constraint("ck_ledger_account_hot_may_go_negative", type_="check")
    shards = ", ".join(f"({n})" for n in range(1, SHARDS))
    op.execute(f"""
        WITH s(n) AS (VALUES {shards})
        INSERT INTO ledger_balance (account_id, shard, amount, version, last_seq, guard)
        SELECT b.account_id, s.n, 0, 0, 0, b.guard
        FROM ledger_balance b JOIN ledger_account a ON a.id = b.account_id CROSS JOIN s
        WHERE b.shard = 0 AND a.shards = 1 AND {busy_guarded("a")}
    """)
    op.execute(f"UPDATE ledger_account SET shards = {SHARDS} WHERE shards = 1 AND {busy_guarded()}")


def downgrade() -> None:
    guarded_sharded = "SELECT id FROM ledger_account WHERE NOT allow_negative AND shards > 1"
    op.execute(f"""
        UPDATE ledger_balance SET amount = (
            SELECT sum(x.amount) FROM ledger_balance x WHERE x.account_id = ledger_balance.account_id)
        WHERE shard = 0 AND account_id IN ({guarded_sharded})
    """)
    op.execute(f"DELETE FROM ledger_balance WHERE shard > 0 AND account_id IN ({guarded_sharded})")
    op.execute("UPDATE ledger_account SET shards = 1 WHERE NOT allow_negative AND shards > 1")
    with op.batch_alter_table("ledger_account") as batch:
        batch.create_check_constraint("ck_ledger_account_hot_may_go_negative", HOT_MAY_GO_NEGATIVE)
