"""Property-based tests (hypothesis) of the ledger invariants, on both databases.

A random stream of entries — some legal, some that would overdraw a guarded
account — is posted against a simple model.  After every step the book must agree
with the model; at the end every invariant must hold (verify, trial balance,
guarded accounts never below zero).  Random *invalid* entries must be refused and
leave no trace.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import EntryDraft, InsufficientBalance, LedgerError, Line
from ledger.chain import seal
from ledger.models import NORMAL_SIGN
from ledger.verify import verify

T = datetime(2026, 10, 1, tzinfo=UTC)
ACCOUNTS = {  # code → (type, guarded)
    "creator:1:payable:USD": ("liability", True),
    "creator:2:payable:USD": ("liability", True),
    "brand:1:receivable:USD": ("asset", True),
    "platform:stripe:USD": ("asset", False),
    "platform:revenue:commission:USD": ("revenue", False),
    "platform:fees:stripe:USD": ("expense", False),
    "creator:1:payable:EUR": ("liability", True),
    "platform:stripe:EUR": ("asset", False),
}
CODES = sorted(ACCOUNTS)
PROPERTY_SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def currency_of(code: str) -> str:
    return code.rsplit(":", 1)[1]


@st.composite
def balanced_lines(draw):
    currency = draw(st.sampled_from(["USD", "EUR"]))
    codes = [c for c in CODES if currency_of(c) == currency]
    n = draw(st.integers(min_value=2, max_value=min(4, len(codes))))
    chosen = draw(st.permutations(codes))[:n]
    amounts = [draw(st.integers(min_value=1, max_value=50_000)) * draw(st.sampled_from([1, -1])) for _ in chosen[:-1]]
    rest = -sum(amounts)
    if rest == 0:
        amounts[0] += 1
        rest = -1
    return tuple(Line(c, a, currency) for c, a in zip(chosen, amounts + [rest], strict=True))


@pytest.fixture
def stream_book(book):
    book.open(*CODES)
    return book


@PROPERTY_SETTINGS
@given(stream=st.lists(balanced_lines(), min_size=1, max_size=12), batch=st.booleans())
def test_random_entry_streams_keep_every_invariant(stream_book, stream, batch):
    book = stream_book
    model = {code: book.balance(code) for code in CODES}
    prefix = uuid.uuid4().hex[:8]
    drafts = [EntryDraft(f"{prefix}:{i}", "test", T, lines) for i, lines in enumerate(stream)]

    def overdraws(lines, balances):
        after = dict(balances)
        for line in lines:
            after[line.account] += line.amount
        return any(ACCOUNTS[c][1] and after[c] * NORMAL_SIGN[ACCOUNTS[c][0]] < 0 for c in after), after

    if batch:
        total = dict(model)
        for d in drafts:
            for line in d.lines:
                total[line.account] += line.amount
        bad = any(ACCOUNTS[c][1] and total[c] * NORMAL_SIGN[ACCOUNTS[c][0]] < 0 for c in total)
        if bad:
            with pytest.raises(InsufficientBalance):
                book.post(*drafts, now=T)
        else:
            book.post(*drafts, now=T)
            model = total
    else:
        for d in drafts:
            bad, after = overdraws(d.lines, model)
            if bad:
                with pytest.raises(InsufficientBalance):
                    book.post(d, now=T)
            else:
                book.post(d, now=T)
                model = after
    assert {code: book.balance(code) for code in CODES} == model
    for code, (type_, guarded) in ACCOUNTS.items():
        if guarded:
            assert model[code] * NORMAL_SIGN[type_] >= 0
    seal(book.engine, now=T)
    with book.engine.connect() as conn:
        report = verify(conn)
    assert report.ok, report.problems
    assert report.unsealed == 0


@st.composite
def invalid_drafts(draw):
    lines = list(draw(balanced_lines()))
    flaw = draw(st.sampled_from(["unbalanced", "single", "zero", "currency", "unknown", "float", "meta"]))
    meta = {}
    if flaw == "unbalanced":
        lines[0] = Line(lines[0].account, lines[0].amount + draw(st.sampled_from([1, -1, 7])), lines[0].currency)
    elif flaw == "single":
        lines = lines[:1]
    elif flaw == "zero":
        lines.append(Line(lines[0].account, 0, lines[0].currency))
    elif flaw == "currency":
        other = "EUR" if lines[0].currency == "USD" else "USD"
        lines = [Line(l.account, l.amount, other) for l in lines]
    elif flaw == "unknown":
        lines[0] = Line("creator:999:payable:" + lines[0].currency, lines[0].amount, lines[0].currency)
    elif flaw == "float":
        lines[0] = Line(lines[0].account, float(lines[0].amount), lines[0].currency)
    else:
        meta = {"rate": 0.2}
    return EntryDraft(f"bad:{uuid.uuid4().hex}", "test", T, tuple(lines), meta=meta)


@PROPERTY_SETTINGS
@given(draft=invalid_drafts())
def test_random_invalid_entries_are_rejected_and_leave_no_trace(stream_book, draft):
    book = stream_book
    before = (
        book.scalar("SELECT count(*) FROM ledger_entry"),
        book.scalar("SELECT count(*) FROM ledger_posting"),
        book.scalar("SELECT sum(version) FROM ledger_balance"),
    )
    with pytest.raises(LedgerError):
        book.post(draft, now=T)
    after = (
        book.scalar("SELECT count(*) FROM ledger_entry"),
        book.scalar("SELECT count(*) FROM ledger_posting"),
        book.scalar("SELECT sum(version) FROM ledger_balance"),
    )
    assert after == before
