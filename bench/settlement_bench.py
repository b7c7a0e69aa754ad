"""Settlement at scale, as ratios (issue #6): planning vs a GROUP BY, payouts vs Stripe's rate limit.

    python bench/settlement_bench.py [--creators 10000] [--postings 1000000] [--payouts 2000] [--quick]

On a scratch PostgreSQL database: the demo marketplace, ``--creators`` creators and
usage entries (``derivative_use``: receivable, creator payable, commission — three
postings each) until there are ``--postings`` postings, spread over October 2026 with
a few days of November, under licences with 0, 14 and 30 holdback days.

(a) **planning** — ``plan_lines`` + payout statuses + decisions (the set-based read),
    then the whole planning transaction (run row, 10k items, reserve entries), each as
    a ratio to a plain ``SELECT account_id, SUM(amount) FROM ledger_posting GROUP BY
    account_id`` over the same postings (best of three, warm cache);
(b) **payout submission** — ``--payouts`` creators have onboarded connected accounts
    (the rest are held); the run pays them against the Stripe emulator (its own
    process) throttled to Stripe's live-mode limit of 100 writes/s, with the service
    pacing itself at that limit and 8 workers (`--workers`).  Transfers per second ÷ 100 (target
    ≥ 0.9); 429s seen and retried are counted.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.db import Database
from app.kit.registry import provided
from app.payments.gateway import PaymentGateway
from ledger import Ledger

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from bench.common import Timer, scratch_database  # noqa: E402

STRIPE_LIMIT = 100  # live-mode write requests per second
PERIOD = "2026-10"
NOW = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def control(base: str, path: str, body: dict | None = None, method: str = "POST") -> dict:
    request = urllib.request.Request(
        f"{base}/_emulator/{path}",
        method=method,
        data=json.dumps(body or {}).encode() if method == "POST" else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def start_emulator() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "stripe_emulator", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            control(base, "status", method="GET")
            return proc, base
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the Stripe emulator did not start")


def make_app(url: str, instance: Path, api_base: str, workers: int = 8, pace: float = STRIPE_LIMIT):
    from app import create_app

    return create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "bench-" + "x" * 32,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "CLOCK": lambda: NOW,
            "STRIPE_SECRET_KEY": "sk_test_bench",
            "STRIPE_API_BASE": api_base,
            "STRIPE_MAX_NETWORK_RETRIES": 5,
            "SETTLEMENT_WORKERS": workers,
            "SETTLEMENT_STRIPE_WRITES_PER_SECOND": pace,
            "LOG_LEVEL": "WARNING",
        }
    )


def populate(app, *, creators: int, postings: int, payouts: int, api_base: str) -> None:

    from app.books import chart, recipes
    from app.books.recipes import Owner
    from app.marketplace.models import Licence
    from app.payments.models import ConnectAccount
    from app.people.models import User
    from app.seed import seed_demo

    rng = random.Random(6)
    seed_demo(app, now=NOW - timedelta(days=60))
    db, ledger = provided(Database, app), provided(Ledger, app)
    with db.unit_of_work() as uow:
        source = uow.session.get(Licence, 1).model_dump(exclude={"id"})
        licences = []
        for days in (0, 14, 30):
            licence = Licence(**{**source, "holdback_days": days, "currency": "USD"})
            uow.session.add(licence)
            uow.session.flush()
            licences.append(licence.id)
        first = (
            uow.session.execute(
                insert(User).returning(User.id),
                [
                    dict(
                        email=f"bench-{n}@creators.example",
                        display_name=f"Creator {n}",
                        password_hash="x",
                        role="creator",
                        is_active=True,
                        created_at=NOW - timedelta(days=60),
                    )
                    for n in range(creators)
                ],
            )
            .scalars()
            .all()
        )
        uow.commit()
    creator_ids = list(first)
    print(f"  {creators:,} creators; opening their accounts …", flush=True)
    with db.unit_of_work() as uow:
        chart.open_accounts(
            ledger,
            uow.session,
            [chart.creator_payable(c, "USD") for c in creator_ids]
            + [chart.brand_receivable(1, "USD"), *chart.house_accounts("USD")],
        )
        uow.commit()
    entries = postings // 3
    start, span = datetime(2026, 10, 1, tzinfo=UTC), 34 * 86400  # into November: late earnings
    with Timer() as load:
        for chunk in range(0, entries, 5000):
            drafts = [
                recipes.derivative_use(
                    key=f"bench-usage:{n}",
                    effective_at=start + timedelta(seconds=rng.randrange(span)),
                    currency="USD",
                    price=rng.randrange(50, 500),
                    commission_bps=2000,
                    brand_id=1,
                    owners=[Owner(creator_ids[n % creators], 1)],
                    meta={"licence_id": licences[n % 3]},
                )
                for n in range(chunk, min(entries, chunk + 5000))
            ]
            with db.unit_of_work() as uow:
                ledger.post_batch(uow.session, drafts, now=NOW - timedelta(hours=1))
                uow.commit()
    print(f"  {entries:,} usage entries = {entries * 3:,} postings loaded in {load.seconds:.0f} s", flush=True)
    with db.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    control(api_base, "platform_funds", {"amount": 10**12, "currency": "usd"})
    gateway = provided(PaymentGateway, app)
    with Timer() as onboarding:
        rows = []
        for creator_id in creator_ids[:payouts]:
            account = gateway.create_connected_account(
                email=f"bench-{creator_id}@creators.example",
                country="US",
                idempotency_key=f"bench-account-{creator_id}",
            )
            control(api_base, f"accounts/{account.id}/complete_onboarding")
            rows.append(
                dict(
                    creator_id=creator_id,
                    stripe_account_id=account.id,
                    country="US",
                    charges_enabled=True,
                    payouts_enabled=True,
                    details_submitted=True,
                    requirements_due=[],
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        with db.unit_of_work() as uow:
            uow.session.execute(insert(ConnectAccount), rows)
            uow.commit()
    print(f"  {payouts:,} connected accounts onboarded in {onboarding.seconds:.0f} s", flush=True)


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        with Timer() as t:
            fn()
        times.append(t.seconds)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--creators", type=int, default=10_000)
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--payouts", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=8, help="payout items paid at once")
    parser.add_argument(
        "--pace",
        type=float,
        default=98,
        help="writes/s the run paces itself at (just under the limit: evenly spaced requests "
        "still arrive with jitter, and a 101st write in any second is a 429)",
    )
    parser.add_argument("--quick", action="store_true", help="1,000 creators, 60,000 postings, 300 payouts")
    args = parser.parse_args()
    if args.quick:
        args.creators, args.postings, args.payouts = 1_000, 60_000, 300

    from app.settlement.planning import Period
    from app.settlement.service import Settler

    emulator, api_base = start_emulator()
    try:
        with scratch_database("postgresql") as url:
            instance = Path(url.rsplit("/", 1)[-1])
            app = make_app(url, Path("/tmp") / instance, api_base, args.workers, args.pace)
            print("settlement benchmark on PostgreSQL (one run; the machine is shared: preliminary figures)")
            populate(app, creators=args.creators, postings=args.postings, payouts=args.payouts, api_base=api_base)
            db, period = provided(Database, app), Period.parse(PERIOD)
            settler: Settler = provided(Settler, app)
            gateway = provided(PaymentGateway, app)

            def group_by():
                with db.engine.connect() as conn:
                    conn.execute(text("SELECT account_id, SUM(amount) FROM ledger_posting GROUP BY account_id")).all()

            def plan():
                with db.unit_of_work() as uow:
                    settler._decisions(uow, period)

            raw = best_of(3, group_by)
            ours = best_of(3, plan)
            with Timer() as full:
                settler._find_or_plan(period, NOW, "bench", lambda *_: None)
            report = settler.report(period)
            counts = {s: sum(i.status == s for i in report.items) for s in ("planned", "held", "below_minimum")}
            print(f"\n(a) planning {len(report.items):,} items ({counts})")
            print(f"  plain GROUP BY over the postings           {raw * 1000:8.0f} ms")
            print(f"  plan (set-based read + decisions)          {ours * 1000:8.0f} ms   ratio {ours / raw:5.2f}")
            print(
                f"  whole planning transaction (rows, reserves) {full.seconds * 1000:7.0f} ms   ratio "
                f"{full.seconds / raw:5.2f}"
            )

            control(api_base, "rate_limit", {"writes_per_second": STRIPE_LIMIT})
            control(api_base, "requests", method="DELETE")
            stamps: list[float] = []

            def on_step(step, _subject):
                if step in ("item.posted", "item.paid"):
                    stamps.append(time.perf_counter())

            result = settler.settle(period, now=NOW, actor="bench", gateway=gateway, on_step=on_step)
            paid = sum(i.status == "paid" for i in result.items)
            elapsed = stamps[-1] - stamps[0]
            writes = control(api_base, "requests?method=POST&path_prefix=/v1/transfers", method="GET")["requests"]
            throttled = sum(r["status"] == 429 for r in writes)
            per_second = paid / elapsed
            print(
                f"\n(b) payout submission: {paid:,} transfers in {elapsed:.1f} s, run {result.run.status}; "
                f"{throttled} answered 429 and retried"
            )
            print(
                f"  {per_second:6.1f} transfers/s ÷ Stripe's {STRIPE_LIMIT} writes/s = ratio "
                f"{per_second / STRIPE_LIMIT:4.2f}   (target ≥ 0.9)"
            )
            provided(PaymentGateway, app).close()
            db.dispose()
    finally:
        emulator.terminate()
        emulator.wait(10)


if __name__ == "__main__":
    main()
