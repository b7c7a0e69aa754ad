"""The statements and reconciliation tables in ``cameo export``: the worked month's
figures, read back from the CSV files, to the cent."""

from __future__ import annotations

import pandas as pd

from .books import at
from .test_close import worked_month
from .test_reconciliation import PERIOD, cli


def test_the_month_export_carries_every_statement_and_the_reconciliation(books, tmp_path):
    worked_month(books)
    books.at(at(2025, 11, 2))
    ben, chloe = books.users["ben"], books.users["chloe"]
    result = cli(
        books,
        "export",
        "--format",
        "csv",
        "--period",
        PERIOD,
        "--out",
        str(tmp_path / "out"),
        "--tables",
        "statements,reconciliation",
    )
    assert result.exit_code == 0, result.output

    statements = pd.read_csv(tmp_path / "out" / "statements.csv", dtype={"net": "Int64"})
    closing = statements[statements["section"] == "closing"].set_index(["creator_id", "currency"])["net"]
    assert closing.to_dict() == {(ben, "EUR"): 1_120, (ben, "USD"): 3_600, (chloe, "EUR"): 480, (chloe, "USD"): 400}
    ben_usd = statements[(statements["creator_id"] == ben) & (statements["currency"] == "USD")]
    assert ben_usd[ben_usd["section"] == "payouts"]["net"].tolist() == [-30_000, -1_000, 1_000]
    assert int(ben_usd[ben_usd["section"] == "sales"]["net"].sum()) == 33_600

    reconciliation = pd.read_csv(tmp_path / "out" / "reconciliation.csv")
    assert set(reconciliation["category"]) == {"matched"}
    assert reconciliation.groupby("section").size().to_dict() == {"balance": 3, "sales": 2, "transfers": 3}


def test_the_default_month_export_does_not_ask_stripe(books, tmp_path):
    worked_month(books)
    before = len(books.world.emulator.requests())
    result = cli(books, "export", "--format", "csv", "--period", PERIOD, "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "statements.csv").exists() and not (tmp_path / "out" / "reconciliation.csv").exists()
    assert len(books.world.emulator.requests()) == before
